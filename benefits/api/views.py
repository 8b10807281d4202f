"""The benefits API: intention agreements (with their PDF, national coverage and export),
the benefit register (with realisation summaries and export) and benefit reports.

Every queryset starts from the user's scope (`visible_to` for reads, `editable_by` for
writes), so objects outside it answer 404. Every write goes through benefits.services,
the same functions the UI uses; versioned records need `If-Match` with the ETag of the
last GET (428 when missing, 412 when stale). Agreements are written by rollout
coordinators and administrators only; benefit reports by every role that edits, within
its scope, and reviewed by coordinators, administrators and the directorate.

Coverage targets and their snapshots are read by every user with a role (snapshots of the
places in their reach); recomputations are queued as jobs by coordinators, the directorate
and administrators, and followed at /api/v1/jobs/<id>/.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from actors import scoping
from actors.api.files import FileNegotiation, export_action
from actors.api.pagination import KeysetPagination
from actors.api.parsers import FormParser, JSONParser, MultiPartParser
from actors.api.review import ReviewActions
from actors.api.views import HasRole
from actors.exports import PDF_TYPE, stored_attachment
from actors.models import Job, Municipality, Organisation
from actors.structure import population_years
from rollout.api.views import IF_MATCH, REFUSED, STALE, RolloutViewSet, service_errors, validated
from rollout.models import Solution

from .. import coverage, exports, selectors, services
from ..choices import Level
from ..filtersets import (
    BenefitFilterSet,
    BenefitReportFilterSet,
    CoverageSnapshotFilterSet,
    IntentAgreementFilterSet,
    request_scope_options,
)
from ..models import (
    AgreementDocument,
    Benefit,
    BenefitGoal,
    BenefitReport,
    CoverageSnapshot,
    CoverageTarget,
    IntentAgreement,
)
from . import serializers

NO_ROLE = {403: OpenApiResponse(description="Your user has no role.")}
PARSERS = [JSONParser, MultiPartParser, FormParser]


def require_role(request) -> None:
    if not scoping.scope_for(request.user).role:
        raise PermissionDenied(_("Your user has no role yet; ask an administrator."))


def population_year(text: str | None) -> int | None:
    """`?year=`: one of the population years loaded, or a 400 that lists them."""
    if not text:
        return None
    years = population_years()
    if not text.strip().isdigit() or int(text) not in years:
        raise ValidationError(
            {
                "year": [
                    _("Population figures are loaded for %(years)s.")
                    % {"years": ", ".join(map(str, years))}
                ]
            }
        )
    return int(text)


class AgreementWrites(permissions.BasePermission):
    """Only rollout coordinators and administrators maintain agreements (403 for others)."""

    message = gettext_lazy("Only rollout coordinators maintain intention agreements.")

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return services.AgreementReach(request.user).maintains_agreements


class BenefitReportWrites(permissions.BasePermission):
    """Roles that edit report within their scope; coordinators, administrators and the
    directorate review (403 for others)."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        scope = scoping.scope_for(request.user)
        if view.action == "review":
            self.message = services.BENEFIT_REVIEW.not_a_reviewer
            return services.BENEFIT_REVIEW.is_reviewer(request.user)
        self.message = _("Your role cannot report benefits.")
        return scope.can_edit


# --- intention agreements -------------------------------------------------------------


def _document_file(document: AgreementDocument, filename: str) -> FileResponse:
    try:
        handle = document.file.open("rb")
    except OSError as exc:
        raise NotFound(_("The document file is missing; upload it again.")) from exc
    return stored_attachment(handle, filename, PDF_TYPE)


class IntentAgreementViewSet(RolloutViewSet):
    """Intention agreements with municipalities and organisations: the ones with a party
    in your scope. Rollout coordinators create and change them (JSON, or multipart with
    the signed PDF as `document`; the version it replaces stays listed in `documents`),
    but only agreements whose parties are all within their areas: one with a party
    outside them is read-only (403, naming the party) except to national coordinators
    and administrators. Every answer's `edit_refusal` gives that reason beforehand (null:
    you may change it)."""

    serializer_class = serializers.IntentAgreementSerializer
    write_serializer_class = serializers.IntentAgreementWriteSerializer
    filterset_class = IntentAgreementFilterSet
    permission_classes = [permissions.IsAuthenticated, AgreementWrites]
    parser_classes = PARSERS
    write_actions = frozenset({"update", "partial_update"})

    def base_queryset(self):
        # Only the columns the answer shows: whole rows of the parties cost more to read.
        # As plain lists (`to_attr`, read by IntentAgreementSerializer): a related manager
        # and a queryset for each agreement and relation cost more than the rows.
        return IntentAgreement.objects.prefetch_related(
            Prefetch(
                "municipalities",
                Municipality.objects.only("pk", "number", "name"),
                to_attr="municipality_list",
            ),
            Prefetch(
                "organisations",
                # Their area too: whether the user may change them (`edit_refusal`).
                Organisation.objects.only(
                    "pk", "orgnr", "name", "health_trust_id", "municipality_id"
                ),
                to_attr="organisation_list",
            ),
            Prefetch("solutions", Solution.objects.only("pk", "code"), to_attr="solution_list"),
            Prefetch(
                "documents",
                AgreementDocument.objects.select_related("uploaded_by"),
                to_attr="document_list",
            ),
        ).order_by("-signed_date", "title", "pk")

    def get_serializer_context(self):
        # Which parties the request's user may change: read once for all agreements answered.
        return {
            **super().get_serializer_context(),
            "reach": services.AgreementReach(self.request.user),
        }

    def service_save(self, request, data: dict, agreement=None, version=None):
        """Hand the request's fields to the service; parties left out of a PATCH stay."""
        document = data.pop("document", None)
        relations = {}
        for name in ("municipalities", "organisations", "solutions"):
            value = data.pop(name, None)
            if value is None:
                value = list(getattr(agreement, name).all()) if agreement else []
            relations[name] = value
        return services.agreement_save(
            user=request.user,
            agreement_id=agreement.pk if agreement else None,
            expected_version=version,
            fields=data,
            document=document,
            **relations,
        )

    @extend_schema(
        request=serializers.IntentAgreementWriteSerializer,
        responses={201: serializers.IntentAgreementSerializer, **REFUSED},
    )
    def create(self, request, *args, **kwargs):
        return self.create_through_service(request)

    @extend_schema(
        request=serializers.IntentAgreementWriteSerializer,
        responses={200: serializers.IntentAgreementSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def update(self, request, *args, **kwargs):
        return self.update_through_service(request, partial=False)

    @extend_schema(
        request=serializers.IntentAgreementWriteSerializer,
        responses={200: serializers.IntentAgreementSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        return self.update_through_service(request, partial=True)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Outside your scope, or no document uploaded."),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def document(self, request, pk=None):
        """The signed agreement (PDF), for everyone who can see the agreement."""
        agreement = self.get_object()
        if agreement.current_document is None:
            raise NotFound(_("No signed document has been uploaded for this agreement."))
        return _document_file(agreement.current_document, f"intensjonsavtale-{agreement.pk}.pdf")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "document_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The version."
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Outside your scope, or no such version."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<document_id>[0-9]+)",
        url_name="document-version",
        content_negotiation_class=FileNegotiation,
    )
    def document_version(self, request, pk=None, document_id=None):
        """One version of the signed document, current or earlier (see `documents`), for
        everyone who can see the agreement."""
        agreement = self.get_object()
        version = next((d for d in agreement.documents.all() if d.pk == int(document_id)), None)
        if version is None:
            raise NotFound(_("This agreement has no such document version."))
        return _document_file(version, f"intensjonsavtale-{agreement.pk}-{version.pk}.pdf")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "on",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                description=(
                    "Count the agreements in force on this date: signed by then and not "
                    "ended by then (default: today)."
                ),
            ),
            OpenApiParameter(
                "year",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                description=(
                    "Population year (residents on 1 January; default: the year of `on`, "
                    "or the latest loaded before it)."
                ),
            ),
        ],
        responses={200: serializers.CoverageSerializer, **NO_ROLE},
        filters=False,
    )
    @action(detail=False, methods=["get"])
    def coverage(self, request):
        """Population covered by agreements in force (signed and not ended) on a day,
        outside the excluded region, nationally, per county and per health-trust area,
        against the threshold (half the population). National figures: the same for
        every role."""
        require_role(request)
        on = request.query_params.get("on")
        try:
            on = datetime.date.fromisoformat(on) if on else None
        except ValueError as exc:
            raise ValidationError({"on": [_("Give a date as YYYY-MM-DD.")]}) from exc
        coverage = selectors.agreement_coverage(
            on, population_year(request.query_params.get("year"))
        )
        return Response(serializers.CoverageSerializer(coverage).data)

    @export_action(filters=True)
    def export(self, request, fmt):
        """The agreements you can see (narrowed by the list's filters) as Excel or CSV."""
        queryset = self.filter_queryset(self.get_queryset())
        return exports.export_agreements(request.user, fmt, queryset)


# --- benefit register -----------------------------------------------------------------


class ReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    """The benefit register is reference data for every user with a role."""

    def base_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        qs = self.base_queryset()
        return qs if scoping.scope_for(self.request.user).role else qs.none()


class BenefitGoalViewSet(ReferenceViewSet):
    """The five benefit goals (delmål) of steg 2."""

    serializer_class = serializers.BenefitGoalSerializer

    def base_queryset(self):
        return BenefitGoal.objects.all()


class BenefitViewSet(ReferenceViewSet):
    """The benefit register: what each benefit measures, where it comes from, its owner
    and target. The summary and the export count only reports in your scope."""

    serializer_class = serializers.BenefitSerializer
    filterset_class = BenefitFilterSet

    def base_queryset(self):
        return (
            Benefit.objects.select_related("goal")
            .prefetch_related("solutions")
            .order_by("goal__sort_order", "name", "pk")
        )

    @extend_schema(responses=serializers.BenefitSummarySerializer, filters=False)
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        """Realised benefit: the latest approved follow-up against the same reporter's
        approved baseline, with how many reported out of how many should have."""
        benefit = self.get_object()
        summary = selectors.benefit_summary(benefit, request.user)
        realisations = [
            {
                "reporter": r.reporter,
                "municipality": r.municipality.number,
                "organisation": r.organisation.orgnr if r.organisation else None,
                "baseline": r.baseline,
                "latest": r.latest,
                "improvement": r.improvement(benefit.direction),
            }
            for r in summary.realisations
        ]
        data = {
            "aggregation": summary.kind,
            "change_unit": summary.change_unit,
            "mean_improvement": summary.mean_improvement,
            "median_improvement": summary.median_improvement,
            "total_improvement": summary.total_improvement,
            "expected": summary.expected,
            "expected_municipalities": summary.expected_municipalities,
            "reported": summary.reported,
            "reported_municipalities": summary.reported_municipalities,
            "coverage": summary.coverage,
            "note": summary.note,
            "by_area": summary.by_area,
            "by_county": summary.by_county,
            "realisations": realisations,
        }
        return Response(serializers.BenefitSummarySerializer(data).data)

    @export_action(filters=True)
    def export(self, request, fmt):
        """The benefit register with reported, expected and realised (in your scope)."""
        queryset = self.filter_queryset(self.get_queryset())
        return exports.export_benefits(request.user, fmt, queryset)


# --- benefit reports ------------------------------------------------------------------


class BenefitReportViewSet(ReviewActions, RolloutViewSet):
    """Baselines and follow-up measurements by municipalities and their organisations:
    saved as drafts, submitted, then approved or returned by another person, a
    coordinator for the area or the directorate (actors/review.py).
    `late_baseline_warning` says when a baseline came after the start."""

    serializer_class = serializers.BenefitReportSerializer
    write_serializer_class = serializers.BenefitReportWriteSerializer
    filterset_class = BenefitReportFilterSet
    permission_classes = [permissions.IsAuthenticated, BenefitReportWrites]
    parser_classes = PARSERS
    write_actions = frozenset({"partial_update", "submit"})
    review_workflow = services.BENEFIT_REVIEW

    def base_queryset(self):
        return BenefitReport.objects.select_related(
            "benefit", "municipality", "organisation", "created_by", "submitted_by", "reviewed_by"
        ).order_by("-period_end", "-id")

    def service_save(self, request, data: dict, report=None, version=None):
        attachment = data.pop("attachment", None)
        return services.benefit_report_save(
            user=request.user,
            report_id=report.pk if report else None,
            expected_version=version,
            fields=data,
            attachment=attachment,
        )

    @extend_schema(
        request=serializers.BenefitReportWriteSerializer,
        responses={201: serializers.BenefitReportSerializer, **REFUSED},
    )
    def create(self, request, *args, **kwargs):
        return self.create_through_service(request)

    @extend_schema(
        request=serializers.BenefitReportWriteSerializer,
        responses={200: serializers.BenefitReportSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        """Change a draft or returned report: only the fields sent."""
        return self.update_through_service(request, partial=True)


# --- coverage targets -----------------------------------------------------------------


class RecomputeTargets(permissions.BasePermission):
    """Coordinators, the directorate and administrators queue recomputations (403 for
    others); reading is for every role."""

    message = gettext_lazy(
        "Only coordinators, the directorate and administrators can start a recomputation."
    )

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return scoping.can_recompute_targets(request.user)


SCOPE = OpenApiParameter(
    "scope",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="The place: `nation`, `rha:<code>`, `area:<code>`, `county:<number>` or "
    "`municipality:<number>`, within your reach. Default: the nation for those who see "
    "everything, otherwise your first area.",
)
JOB_STARTED = {
    202: serializers.JobStartedSerializer,
    400: OpenApiResponse(description="Unknown target or bad dates; the messages say which."),
    403: OpenApiResponse(description="Your role cannot start a recomputation."),
}


def _latest_national(field: str) -> Subquery:
    latest = CoverageSnapshot.objects.filter(
        target=OuterRef("pk"), level=Level.NATION, scope_id=0
    ).order_by("-day")
    return Subquery(latest.values(field)[:1])


class CoverageTargetViewSet(viewsets.ReadOnlyModelViewSet):
    """Coverage targets (resultatmål): what is counted, the threshold and the deadline, with
    the latest national figures. `forecast` gives a target's figures and projection at a
    place in your reach; `recompute` and `backfill` queue the computation of snapshots."""

    serializer_class = serializers.CoverageTargetSerializer
    permission_classes = [permissions.IsAuthenticated, HasRole, RecomputeTargets]
    lookup_field = "code"

    def get_queryset(self):
        if self.action == "forecast":  # the target's own fields only
            return CoverageTarget.objects.all()
        return (
            CoverageTarget.objects.select_related("solution")
            .prefetch_related("organisation_types")
            .annotate(
                national_day=_latest_national("day"),
                national_numerator=_latest_national("numerator"),
                national_denominator=_latest_national("denominator"),
            )
            .order_by("sort_order", "deadline", "name", "pk")
        )

    @extend_schema(
        parameters=[SCOPE],
        responses={
            200: serializers.TargetStatusSerializer,
            404: OpenApiResponse(description="No such target, or a place outside your reach."),
        },
    )
    @action(detail=True, methods=["get"])
    def forecast(self, request, code=None):
        """The target at one place: its latest figures, every snapshot, the pace and the
        date the threshold is projected to be reached, and a verdict."""
        target = self.get_object()
        options = request_scope_options(request)
        key = request.query_params.get("scope")
        place = coverage.resolve_scope(request.user, key, options)
        if place is None:
            raise NotFound(_("Unknown place, or one outside your reach: %(key)s.") % {"key": key})
        target_status = coverage.target_statuses([target], place)[0]
        return Response(serializers.TargetStatusSerializer(target_status).data)

    def _start(self, request, kind: str, serializer_class):
        data = validated(serializer_class, request)
        with service_errors():
            job = services.coverage_job_request(user=request.user, kind=kind, params=dict(data))
        return job_started(request, job)

    @extend_schema(request=serializers.CoverageRecomputeSerializer, responses=JOB_STARTED)
    @action(detail=False, methods=["post"])
    def recompute(self, request):
        """Queue a recomputation of one day's snapshots (today by default) for the named
        targets, or every active one. Follow the job at `url`."""
        return self._start(
            request, Job.Kind.COVERAGE_RECOMPUTE, serializers.CoverageRecomputeSerializer
        )

    @extend_schema(request=serializers.CoverageBackfillSerializer, responses=JOB_STARTED)
    @action(detail=False, methods=["post"])
    def backfill(self, request):
        """Queue snapshots from the history between two days (each target's first day of
        history to today by default), every day, week or month end. Re-running replaces
        the days' snapshots, never duplicates them."""
        return self._start(
            request, Job.Kind.COVERAGE_BACKFILL, serializers.CoverageBackfillSerializer
        )


class ReportViewSet(viewsets.GenericViewSet):
    """Status reports as files (XLSX, zipped CSV, PDF), made in the background with what
    you may see: POST a request, poll the job at `url` until `is_finished`, then GET its
    `download` (yours only, kept for a limited time)."""

    serializer_class = serializers.ReportRequestSerializer
    permission_classes = [permissions.IsAuthenticated, HasRole]

    @extend_schema(
        request=serializers.ReportRequestSerializer,
        responses={
            202: serializers.JobStartedSerializer,
            400: OpenApiResponse(description="A bad format or date; the messages say which."),
            404: OpenApiResponse(description="That report is not within your reach."),
        },
    )
    def create(self, request):
        data = validated(serializers.ReportRequestSerializer, request)
        try:
            with service_errors():
                job = services.report_export_request(
                    user=request.user,
                    kind=data["kind"],
                    key=data.get("scope") or None,
                    since=data.get("since"),
                    fmt=data["format"],
                )
        except DjangoPermissionDenied as exc:
            raise NotFound(str(exc)) from exc
        return job_started(request, job)


def job_started(request, job) -> Response:
    """202 with where to follow the job (the state as it is now: without a broker the job
    has already run)."""
    job.refresh_from_db(fields=["state"])
    url = reverse("job-detail", args=[job.pk])
    return Response(
        {"job": job.pk, "url": url, "state": job.state},
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": request.build_absolute_uri(url)},
    )


def snapshot_places(request) -> dict[tuple[str, int], coverage.ScopeRef]:
    """{(level, scope id): place} for naming snapshot rows: the places in the user's reach,
    which are exactly the places of the snapshots they may read (coverage.visible_snapshots)."""
    return {(o.level, o.scope_id): o for o in request_scope_options(request)}


class SnapshotPagination(KeysetPagination):
    """Millions of rows at national scale: `count` up to 10 000 (null above; follow `next`)."""

    count_limit = 10_000


class CoverageSnapshotViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Computed coverage figures per target, day and place, for the places in your reach
    (the nation and the regions for everyone with a role), in the order of the snapshots'
    index: by target (id), level, place (id) and day."""

    serializer_class = serializers.CoverageSnapshotSerializer
    filterset_class = CoverageSnapshotFilterSet
    permission_classes = [permissions.IsAuthenticated, HasRole]
    pagination_class = SnapshotPagination

    def get_queryset(self):
        return (
            coverage.visible_snapshots(self.request.user)
            .select_related("target")
            .order_by("target_id", "level", "scope_id", "day")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scope",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="Only this place: `nation`, `rha:<code>`, `area:<code>`, "
                "`county:<number>` or `municipality:<number>`. A place that is unknown or "
                "outside your reach answers 400.",
            )
        ],
        responses={
            200: serializers.CoverageSnapshotSerializer(many=True),
            400: OpenApiResponse(description="A filter value is invalid; the messages say which."),
        },
    )
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = page if page is not None else list(queryset)
        context = {**self.get_serializer_context(), "places": snapshot_places(request)}
        data = self.get_serializer_class()(rows, many=True, context=context).data
        if page is not None:
            return self.get_paginated_response(data)
        return Response(data)
