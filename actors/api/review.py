"""The API of the review workflow (actors/review.py): the `submit` and `review` actions of
a viewset of reviewed reports, and the fields every reviewed report shows.

A viewset mixes in `ReviewActions`, sets `review_workflow` (the report kind's
`ReviewWorkflow`) and `serializer_class`, and provides `fresh(report)` (the report as
listed) and `respond(report)` (the answer with its ETag). Both actions need `If-Match`.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action

from actors.choices import ReportStatus
from actors.review import ReviewWorkflow

from .concurrency import IF_MATCH, STALE, expected_version
from .fields import ChoiceLabelField, EnumChoiceField, UserField

NOT_FOUND = {404: OpenApiResponse(description="No such report in your scope.")}
SUBMIT_REFUSED = {
    400: OpenApiResponse(
        description="The report is not a draft or returned, or something is missing; the "
        "messages say what."
    ),
    403: OpenApiResponse(description="Your role may not submit reports."),
    **NOT_FOUND,
}
REVIEW_REFUSED = {
    400: OpenApiResponse(
        description="The report is not submitted, or it is returned without a comment."
    ),
    403: OpenApiResponse(
        description="Your role does not review these reports, or you submitted this one "
        "yourself: someone else with the right scope must review it."
    ),
    **NOT_FOUND,
}


class ReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Required when the report is returned: what must be corrected."),
    )


class ReviewedReportSerializer(serializers.Serializer):
    """The workflow's fields, as every report serializer shows them (mix in before
    ModelSerializer and list them in Meta.fields)."""

    status = EnumChoiceField(ReportStatus, read_only=True)
    status_label = ChoiceLabelField(source="status")
    submitted_by = UserField(
        help_text=_("Who submitted the report; null until then, or for the system."),
    )
    reviewed_by = UserField(
        help_text=_("Who approved or returned the report; null until then."),
    )


class ReviewActions:
    """`POST …/<id>/submit/` and `POST …/<id>/review/` for the viewset's report kind."""

    review_workflow: ReviewWorkflow

    def __init_subclass__(cls, **kwargs):
        # Each report kind documents its own serializer as the answer.
        super().__init_subclass__(**kwargs)
        if "review_workflow" not in cls.__dict__:
            return
        extend_schema_view(
            submit=extend_schema(
                request=None,
                responses={200: cls.serializer_class, **SUBMIT_REFUSED, **STALE},
                parameters=[IF_MATCH],
            ),
            review=extend_schema(
                request=ReviewSerializer,
                responses={200: cls.serializer_class, **REVIEW_REFUSED, **STALE},
                parameters=[IF_MATCH],
            ),
        )(cls)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send a draft or returned report for review; refused (400, saying what is
        missing) while it is incomplete. The reviewers are notified."""
        version = expected_version(request)
        report = self.get_object()
        try:
            report = self.review_workflow.submit(
                user=request.user, report_id=report.pk, expected_version=version
            )
        except ObjectDoesNotExist as exc:
            raise Http404 from exc
        return self.respond(self.fresh(report))

    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Approve a submitted report, or return it with a comment; the reporter is
        notified. Whoever submitted the report cannot review it (403): someone else with
        the right scope must."""
        version = expected_version(request)
        report = self.get_object()
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            report = self.review_workflow.review(
                user=request.user,
                report_id=report.pk,
                expected_version=version,
                approve=serializer.validated_data["approve"],
                comment=serializer.validated_data["comment"],
            )
        except ObjectDoesNotExist as exc:
            raise Http404 from exc
        return self.respond(self.fresh(report))
