"""The rollout API: solutions and their phases, area rollouts, statuses (with the history
feed and bulk changes) and readiness reports.

Every queryset starts from the user's scope (`visible_to` for reads, `editable_by` for
writes), so objects outside it answer 404. Every write goes through rollout.services,
the same functions the UI uses; versioned records need `If-Match` with the ETag of the
last GET (428 when missing, 412 when stale).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cached_property

import django_filters as filters
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from actors import scoping
from actors.api.concurrency import IF_MATCH, STALE, ETagMixin, expected_version
from actors.api.pagination import FeedPagination, KeysetPagination
from actors.api.review import ReviewActions
from actors.api.views import ScopeCanEdit
from actors.models import HealthTrust, Organisation

from .. import corrections, selectors, services
from ..choices import Phase, Source
from ..filtersets import (
    ReadinessReportFilterSet,
    RolloutStatusAsOfFilterSet,
    RolloutStatusFilterSet,
    StatusChangeFilterSet,
    as_of_day,
)
from ..models import (
    AreaRollout,
    PhaseChange,
    ReadinessAnswer,
    ReadinessReport,
    RolloutStatus,
    Solution,
    StatusChange,
)
from . import serializers

REFUSED = {
    400: OpenApiResponse(description="A rule refused the change; the messages say why."),
    403: OpenApiResponse(description="Your role may not make this change."),
}
CONFLICT = {409: OpenApiResponse(description="The record exists already: PATCH it.")}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The record exists already.")
    default_code = "conflict"


@contextmanager
def service_errors(**rename):
    """Services' field errors keyed by the API's field names (e.g. to_status → status);
    a DoesNotExist (outside the user's scope) answers 404."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {rename.get(key, key): messages for key, messages in exc.message_dict.items()}
        ) from exc
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


def validated(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RolloutViewSet(
    ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and detail (with ETag) for everyone in scope; writes for roles that edit
    (directorate: 403)."""

    permission_classes = [permissions.IsAuthenticated, ScopeCanEdit]
    # Actions that change a record read it from `editable_by` (out of reach: 404).
    write_actions: frozenset[str] = frozenset()

    def base_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        qs = self.base_queryset()
        if self.action in self.write_actions:
            return qs.editable_by(self.request.user)
        return qs.visible_to(self.request.user)

    def respond(self, instance, serializer_class=None, status_code=status.HTTP_200_OK):
        """Answer with the record as saved, and its new ETag."""
        self._etag_instance = instance
        serializer_class = serializer_class or self.get_serializer_class()
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def fresh(self, instance):
        """The saved record read again as the answer shows it (with its relations)."""
        return self.base_queryset().get(pk=instance.pk)

    # Records whose create and change are one service function: the viewset names the
    # serializer that checks the request and hands the checked fields to the service.
    write_serializer_class: type | None = None

    def service_save(self, request, data: dict, instance=None, version=None):
        """Create (`instance` None) or change the record through its service."""
        raise NotImplementedError

    def create_through_service(self, request):
        data = dict(validated(self.write_serializer_class, request))
        return self._save_and_respond(request, data, status_code=status.HTTP_201_CREATED)

    def update_through_service(self, request, *, partial: bool):
        """A change against the version of `If-Match`: with `partial` only the fields sent."""
        version = expected_version(request)
        instance = self.get_object()
        data = dict(validated(self.write_serializer_class, request, partial=partial))
        return self._save_and_respond(request, data, instance, version)

    def _save_and_respond(
        self, request, data, instance=None, version=None, status_code=status.HTTP_200_OK
    ):
        with service_errors():
            saved = self.service_save(request, data, instance, version)
        return self.respond(self.fresh(saved), status_code=status_code)


# --- solutions ------------------------------------------------------------------------


class SolutionViewSet(RolloutViewSet):
    """The programme's solutions. The catalogue is reference data that every user with a
    role reads; only national coordinators change a national phase (PATCH)."""

    serializer_class = serializers.SolutionSerializer

    def get_queryset(self):
        qs = Solution.objects.prefetch_related("organisation_types", "requires")
        return qs if scoping.scope_for(self.request.user).role else qs.none()

    @extend_schema(
        request=serializers.SolutionPhaseSerializer,
        responses={200: serializers.SolutionSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        version = expected_version(request)
        solution = self.get_object()
        data = validated(serializers.SolutionPhaseSerializer, request)
        with service_errors():
            solution = services.solution_phase_change(
                user=request.user,
                solution=solution,
                to_phase=data["national_phase"],
                note=data["note"],
                expected_version=version,
            )
        return self.respond(self.get_queryset().get(pk=solution.pk))

    @extend_schema(responses=serializers.PhaseChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="phase-history", url_name="phase-history")
    def phase_history(self, request, pk=None):
        """National phase changes and those of the areas you can see, newest first."""
        solution = self.get_object()
        trusts = HealthTrust.objects.visible_to(request.user).values("pk")
        changes = (
            PhaseChange.objects.filter(solution=solution)
            .filter(Q(health_trust__isnull=True) | Q(health_trust__in=trusts))
            .select_related("solution", "health_trust", "changed_by")
        )
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(serializers.PhaseChangeSerializer(page, many=True).data)


# --- area rollouts --------------------------------------------------------------------


class AreaRolloutFilterSet(filters.FilterSet):
    solution = filters.CharFilter(field_name="solution__code")
    health_trust = filters.CharFilter(field_name="health_trust__code")
    phase = filters.MultipleChoiceFilter(distinct=False, choices=Phase.choices)

    class Meta:
        model = AreaRollout
        fields: list[str] = []


class AreaRolloutViewSet(RolloutViewSet):
    """Area-wise rollouts (PLL) per health-trust area. The detail carries the readiness
    verdict. Coordinators of the area (and national ones) record phase, plan and the
    programme board's start decision."""

    filterset_class = AreaRolloutFilterSet
    write_actions = frozenset({"update", "partial_update"})

    def base_queryset(self):
        return AreaRollout.objects.select_related("solution", "health_trust")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.AreaRolloutDetailSerializer
        return serializers.AreaRolloutSerializer

    @extend_schema(
        request=serializers.AreaRolloutSerializer,
        responses={201: serializers.AreaRolloutSerializer, **REFUSED, **CONFLICT},
    )
    def create(self, request, *args, **kwargs):
        data = dict(validated(serializers.AreaRolloutSerializer, request))
        solution, trust = data.pop("solution"), data.pop("health_trust")
        existing = AreaRollout.objects.visible_to(request.user).filter(
            solution=solution, health_trust=trust
        )
        if existing.exists():
            raise Conflict(
                _("This area has a rollout of %(s)s already; change it with PATCH and If-Match.")
                % {"s": solution.name}
            )
        with service_errors():
            area = services.area_rollout_update(
                user=request.user,
                solution=solution,
                health_trust=trust,
                expected_version=0,
                **data,
            )
        return self.respond(area, serializers.AreaRolloutSerializer, status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.AreaRolloutUpdateSerializer,
        responses={200: serializers.AreaRolloutSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def update(self, request, *args, partial=False, **kwargs):
        version = expected_version(request)
        area = self.get_object()
        data = validated(serializers.AreaRolloutUpdateSerializer, request, partial=partial)
        with service_errors():
            area = services.area_rollout_update(
                user=request.user,
                solution=area.solution,
                health_trust=area.health_trust,
                expected_version=version,
                **data,
            )
        return self.respond(area, serializers.AreaRolloutSerializer)

    @extend_schema(
        request=serializers.AreaRolloutUpdateSerializer,
        responses={200: serializers.AreaRolloutSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


# --- statuses -------------------------------------------------------------------------


STATUS_ORDERING = ("organisation__name", "organisation_id", "solution__sort_order", "solution_id")


class StatusPagination(KeysetPagination):
    """Page numbers or cursors (actors/api/pagination.py), and `as_of`: the day the
    statuses are shown for (null: today's)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.as_of = getattr(view, "as_of", None)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {
            "count": response.data["count"],
            "as_of": self.as_of.isoformat() if self.as_of else None,
            **{k: v for k, v in response.data.items() if k != "count"},
        }
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"] = {
            "count": paginated["properties"]["count"],
            "as_of": {
                "type": "string",
                "format": "date",
                "nullable": True,
                "description": "The day the statuses are shown for (`?as_of=`, from the "
                "status history); null for today's stored statuses.",
            },
            **{k: v for k, v in paginated["properties"].items() if k != "count"},
        }
        paginated["required"] = [*paginated.get("required", []), "as_of"]
        return paginated


STATUS_LIST_ITEM = PolymorphicProxySerializer(
    component_name="RolloutStatusListItem",
    serializers=[serializers.RolloutStatusSerializer, serializers.RolloutStatusAsOfSerializer],
    resource_type_field_name=None,
    many=True,
)


class RolloutStatusViewSet(RolloutViewSet):
    """Stored statuses (an organisation without a row has not started). Changes go through
    the same rules as in the UI: allowed transitions, reasons, dates and prerequisites;
    coordinators may let a change through an unmet prerequisite with `override_reason`.

    The list with `?as_of=YYYY-MM-DD` answers from the status history instead: per
    organisation and solution the status as it stood at the end of that day (pairs
    without a status by then are left out), with the same scope and filters; the items
    then have the shape RolloutStatusAsOf and the page's `as_of` names the day."""

    serializer_class = serializers.RolloutStatusSerializer
    filterset_class = RolloutStatusFilterSet
    pagination_class = StatusPagination
    write_actions = frozenset({"partial_update", "correct"})

    @cached_property
    def as_of(self):
        """The validated `as_of` of a list request (None: today's statuses); a bad one
        answers 400 with the field's message."""
        if self.action != "list" or not self.request.query_params.get("as_of"):
            return None
        filterset = RolloutStatusFilterSet(
            self.request.query_params, queryset=RolloutStatus.objects.none(), request=self.request
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return as_of_day(filterset)

    def base_queryset(self):
        return RolloutStatus.objects.select_related("organisation", "solution").order_by(
            *STATUS_ORDERING
        )

    def get_queryset(self):
        if self.as_of:
            changes = StatusChange.objects.visible_to(self.request.user)
            return (
                selectors.latest_changes_as_of(self.as_of, changes)
                .select_related("organisation", "solution")
                .order_by(*STATUS_ORDERING)
            )
        return super().get_queryset()

    def filter_queryset(self, queryset):
        if not self.as_of:
            return super().filter_queryset(queryset)
        filterset = RolloutStatusAsOfFilterSet(
            self.request.query_params, queryset=queryset, request=self.request
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return filterset.qs

    def get_serializer_class(self):
        if self.as_of:
            return serializers.RolloutStatusAsOfSerializer
        return super().get_serializer_class()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "as_of": self.as_of}

    @extend_schema(
        responses={
            200: STATUS_LIST_ITEM,
            400: OpenApiResponse(
                description="A parameter is not valid (e.g. `as_of` in the future or before "
                "the status history begins); the message names the field and says why."
            ),
        }
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=serializers.RolloutStatusCreateSerializer,
        responses={201: serializers.RolloutStatusSerializer, **REFUSED, **CONFLICT},
    )
    def create(self, request, *args, **kwargs):
        """The first status of an organisation for a solution."""
        data = validated(serializers.RolloutStatusCreateSerializer, request)
        organisation, solution = data["organisation"], data["solution"]
        existing = RolloutStatus.objects.filter(organisation=organisation, solution=solution)
        row = existing.first()
        if row is not None:
            raise Conflict(
                _(
                    "%(org)s has a status for %(solution)s already; change it with PATCH "
                    "/api/v1/statuses/%(id)s/ and If-Match."
                )
                % {"org": organisation.name, "solution": solution.name, "id": row.pk}
            )
        with service_errors(to_status="status"):
            row = services.status_change(
                user=request.user,
                organisation=organisation,
                solution=solution,
                to_status=data["status"],
                reason=data["reason"],
                effective_date=data["effective_date"],
                override_reason=data["override_reason"],
                expected_version=0,
                source=Source.API,
                confirm_jump=data["confirm_jump"],
            )
        return self.respond(row, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.StatusChangeInputSerializer,
        responses={200: serializers.RolloutStatusSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        version = expected_version(request)
        row = self.get_object()
        data = validated(serializers.StatusChangeInputSerializer, request)
        with service_errors(to_status="status"):
            row = services.status_change(
                user=request.user,
                organisation=row.organisation,
                solution=row.solution,
                to_status=data["status"],
                reason=data["reason"],
                effective_date=data["effective_date"],
                override_reason=data["override_reason"],
                expected_version=version,
                source=Source.API,
                confirm_jump=data["confirm_jump"],
            )
        return self.respond(row)

    @extend_schema(
        request=serializers.StatusCorrectionSerializer,
        responses={200: serializers.RolloutStatusSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="correct", url_name="correct")
    def correct(self, request, pk=None):
        """Correct a wrong status (rollout coordinators and administrators, within their
        scope): the latest history entry is replaced by `status` from `effective_date`
        on, with a required `reason`. Nothing is rewritten: correction entries (kind
        `korreksjon`, `corrects` = the wrong entry) are added, and coverage figures are
        recomputed from the wrong entry's date. Needs If-Match like PATCH."""
        version = expected_version(request)
        row = self.get_object()
        data = validated(serializers.StatusCorrectionSerializer, request)
        with service_errors(to_status="status"):
            row = corrections.status_correct(
                user=request.user,
                organisation=row.organisation,
                solution=row.solution,
                to_status=data["status"],
                reason=data["reason"],
                effective_date=data["effective_date"],
                expected_version=version,
                source=Source.API,
            )
        return self.respond(row)

    @extend_schema(
        request=serializers.StatusBulkSerializer,
        responses={
            200: serializers.StatusBulkResultSerializer,
            400: OpenApiResponse(
                serializers.StatusBulkErrorsSerializer,
                description="Nothing was saved: the changes refused, organisation by "
                "organisation (all or nothing, without `allowed_only`), or unknown "
                "organisation numbers.",
            ),
            403: REFUSED[403],
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk(self, request):
        """Change many organisations in one step: all or nothing, or with `allowed_only`
        the allowed changes (the refused ones are left as they are and listed). With
        `dry_run` every change is checked and nothing is saved: with `allowed_only` too, a
        preview of each change and each refusal with its reason."""
        data = validated(serializers.StatusBulkSerializer, request)
        orgnrs = list(dict.fromkeys(data["organisations"]))
        found = dict(
            Organisation.objects.editable_by(request.user)
            .filter(orgnr__in=orgnrs)
            .values_list("orgnr", "pk")
        )
        unknown = [n for n in orgnrs if n not in found]
        if unknown:
            raise ValidationError(
                {
                    "organisations": [
                        _("Unknown or outside your scope: %(orgnrs)s.")
                        % {"orgnrs": ", ".join(unknown)}
                    ],
                    "unknown": unknown,
                }
            )
        with service_errors(to_status="status"):
            result = services.statuses_bulk_change(
                user=request.user,
                organisation_ids=list(found.values()),
                solution=data["solution"],
                to_status=data["status"],
                reason=data["reason"],
                effective_date=data["effective_date"],
                override_reason=data["override_reason"],
                source=Source.API,
                dry_run=data["dry_run"],
                allowed_only=data["allowed_only"],
            )
        if data["allowed_only"]:
            return Response(
                {
                    "changed": result.changed,
                    "unchanged": result.unchanged,
                    "dry_run": data["dry_run"],
                    "allowed_only": True,
                    "changes": [_bulk_item(o) for o in result.changes],
                    "refused": [
                        {**_bulk_item(o), "reason_code": o.why, "message": o.message}
                        for o in result.refused
                    ],
                }
            )
        if not result.ok:
            errors = [
                {"orgnr": o.orgnr, "name": o.name, "message": message}
                for o, message in result.errors
            ]
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"changed": result.changed, "unchanged": result.unchanged, "dry_run": data["dry_run"]}
        )


def _bulk_item(outcome) -> dict:
    organisation = outcome.organisation
    return {
        "orgnr": organisation.orgnr,
        "name": organisation.name,
        "from_status": outcome.from_status,
    }


class StatusChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only status history of the organisations you can see, newest recorded
    first, with cursor pagination (follow `next`). A correction of a wrong status is an
    entry of kind `korreksjon` whose `corrects` names the wrong entry; the wrong entry's
    `corrected_by` names its first correction."""

    serializer_class = serializers.StatusChangeSerializer
    filterset_class = StatusChangeFilterSet
    pagination_class = FeedPagination

    def get_queryset(self):
        return (
            StatusChange.objects.visible_to(self.request.user)
            .select_related("organisation", "solution", "changed_by")
            .annotate(first_correction=corrections.first_correction_id())
            .order_by("-changed_at", "-id")
        )


# --- readiness reports ----------------------------------------------------------------


class ReadinessReportViewSet(ReviewActions, RolloutViewSet):
    """Municipalities' readiness reports: created and answered by the municipality (or a
    coordinator), submitted, then approved or returned by another person, a coordinator
    for the area (actors/review.py). The list counts each report's answers and links to
    the report (`url`); the report itself (detail, and every answer to a change) has
    them all."""

    serializer_class = serializers.ReadinessReportSerializer
    filterset_class = ReadinessReportFilterSet
    write_actions = frozenset({"partial_update", "submit", "review"})
    review_workflow = services.READINESS_REVIEW

    def base_queryset(self):
        reports = ReadinessReport.objects.select_related(
            "solution", "municipality", "created_by", "submitted_by", "reviewed_by"
        )
        if self.action == "list":
            return reports  # answers counted per page (ReadinessReportListSerializer)
        answers = ReadinessAnswer.objects.select_related("prerequisite", "organisation").order_by(
            "prerequisite__sort_order", "prerequisite_id", "organisation__name", "id"
        )
        return reports.prefetch_related(Prefetch("answers", queryset=answers))

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.ReadinessReportListSerializer
        return serializers.ReadinessReportSerializer

    @extend_schema(
        request=serializers.ReadinessReportCreateSerializer,
        responses={201: serializers.ReadinessReportSerializer, **REFUSED},
    )
    def create(self, request, *args, **kwargs):
        data = validated(serializers.ReadinessReportCreateSerializer, request)
        with service_errors():
            report = services.report_create(
                user=request.user, solution=data["solution"], municipality=data["municipality"]
            )
        return self.respond(self.fresh(report), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.ReadinessAnswersSerializer,
        responses={200: serializers.ReadinessReportSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        """Save answers of a draft or returned report (incomplete answers are fine until
        it is submitted). Fields left out of an answer keep their saved value. Items that
        follow from a status (`from_status` set) are answered from it; what is sent for
        them is left aside."""
        version = expected_version(request)
        report = self.get_object()
        data = validated(serializers.ReadinessAnswersSerializer, request)
        saved = {a.pk: a for a in report.answers.all()}
        answers: dict[int, dict] = {}
        for item in data["answers"]:
            row = saved.get(item["id"])
            values = (
                {"answer": row.answer, "comment": row.comment, "expected_date": row.expected_date}
                if row
                else {}
            )
            values.update({key: value for key, value in item.items() if key != "id"})
            answers[item["id"]] = values
        with service_errors():
            report = services.report_save_answers(
                user=request.user, report_id=report.pk, expected_version=version, answers=answers
            )
        return self.respond(self.fresh(report))
