from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from actors import exports, scoping, services
from actors.choices import Source
from actors.filtersets import (
    CountyFilterSet,
    HealthTrustFilterSet,
    MunicipalityFilterSet,
    OrganisationChangeFilterSet,
    OrganisationFilterSet,
    RegionalHealthAuthorityFilterSet,
)
from actors.models import (
    County,
    HealthTrust,
    Job,
    Municipality,
    Organisation,
    OrganisationChange,
    RegionalHealthAuthority,
    Vendor,
)
from actors.structure import StructureOn

from . import serializers
from .concurrency import ETagMixin, expected_version
from .pagination import FeedPagination


class ScopeCanEdit(permissions.BasePermission):
    """Writes need a role that edits (directorate users read only: 403)."""

    message = _("Your role can read but not change records.")

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return scoping.scope_for(request.user).can_edit


class HasRole(permissions.BasePermission):
    """Endpoints for users with a role: a user without one gets 403 on every request."""

    message = _("Your user has no role yet; ask an administrator.")

    def has_permission(self, request, view):
        return bool(scoping.scope_for(request.user).role)


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Lists and details narrowed by the user's scope; out of scope answers 404."""

    base_queryset = None

    def get_queryset(self):
        return self.base_queryset.visible_to(self.request.user)


class RegionalHealthAuthorityViewSet(ScopedReadOnlyViewSet):
    base_queryset = RegionalHealthAuthority.objects.all()
    serializer_class = serializers.RegionalHealthAuthoritySerializer
    filterset_class = RegionalHealthAuthorityFilterSet


class HealthTrustViewSet(ScopedReadOnlyViewSet):
    base_queryset = HealthTrust.objects.select_related("regional_health_authority")
    serializer_class = serializers.HealthTrustSerializer
    filterset_class = HealthTrustFilterSet


class CountyViewSet(ScopedReadOnlyViewSet):
    base_queryset = County.objects.all()
    serializer_class = serializers.CountySerializer
    filterset_class = CountyFilterSet

    def get_queryset(self):
        # The list shows today's counties; a past county's detail still answers.
        queryset = super().get_queryset()
        return queryset.current() if self.action == "list" else queryset


class MunicipalityViewSet(ScopedReadOnlyViewSet):
    """Today's municipalities; with `?date=YYYY-MM-DD` those of that day, under that day's
    numbers, names and counties (population and catchments stay today's). `number` and
    `county` also take earlier numbers."""

    base_queryset = Municipality.objects.select_related("county").prefetch_related(
        "catchments__health_trust"
    )
    serializer_class = serializers.MunicipalitySerializer
    filterset_class = MunicipalityFilterSet

    @cached_property
    def day(self):
        """The valid `date` of a list request (None: today; a bad one answers 400 from the
        filterset)."""
        if self.action != "list" or not self.request.query_params.get("date"):
            return None
        filterset = MunicipalityFilterSet(
            self.request.query_params, queryset=Municipality.objects.none(), request=self.request
        )
        filterset.form.is_valid()
        return filterset.form.cleaned_data.get("date")

    def get_queryset(self):
        # The list shows today's municipalities (or the day's); a detail answers for any.
        queryset = super().get_queryset()
        return queryset.current() if self.action == "list" and not self.day else queryset

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.day:
            context["structure"] = StructureOn(self.day)
        return context


class VendorViewSet(viewsets.ReadOnlyModelViewSet):
    """Vendors and their products are public reference data for every signed-in user."""

    queryset = Vendor.objects.prefetch_related("products")
    serializer_class = serializers.VendorSerializer


class OrganisationViewSet(
    ETagMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Organisations in the user's scope. Create and update go through the same services
    as the UI; PUT/PATCH need If-Match with the ETag of the last GET."""

    serializer_class = serializers.OrganisationSerializer
    filterset_class = OrganisationFilterSet
    permission_classes = [permissions.IsAuthenticated, ScopeCanEdit]
    # Orderings by these are paged group by group (actors.api.pagination.Grouped).
    keyset_groups = ("type", "municipality", "health_trust")

    def get_queryset(self):
        qs = Organisation.objects.select_related("type", "municipality", "health_trust")
        if self.action in ("update", "partial_update"):
            return qs.editable_by(self.request.user)
        return qs.visible_to(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.organisation_create(
            user=self.request.user, source=Source.API, **serializer.validated_data
        )
        self._etag_instance = serializer.instance

    def update(self, request, *args, **kwargs):
        self._expected_version = expected_version(request)  # 428 before anything else
        return super().update(request, *args, **kwargs)

    def perform_update(self, serializer):
        try:
            serializer.instance = services.organisation_update(
                user=self.request.user,
                organisation_id=serializer.instance.pk,
                expected_version=self._expected_version,
                source=Source.API,
                **serializer.validated_data,
            )
        except Organisation.DoesNotExist as exc:
            raise Http404 from exc
        self._etag_instance = serializer.instance

    @extend_schema(responses={200: serializers.OrganisationChangeSerializer(many=True)})
    @action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        pagination_class=FeedPagination,
    )
    def history(self, request, pk=None):
        """The organisation's registry history (creation, changes, moves, deactivation),
        newest first, cursor-paginated. An organisation outside your reach answers 404."""
        organisation = self.get_object()
        changes = organisation.registry_changes.select_related("organisation", "changed_by")
        page = self.paginate_queryset(changes)
        data = serializers.OrganisationChangeSerializer(page, many=True).data
        return self.get_paginated_response(data)


class OrganisationChangeViewSet(ScopedReadOnlyViewSet):
    """The append-only registry history (registerendringer) of the organisations you can
    see: who created, changed, moved, deactivated or reactivated what, when and from where.
    Cursor-paginated, newest first (follow `next`)."""

    base_queryset = OrganisationChange.objects.select_related("organisation", "changed_by")
    serializer_class = serializers.OrganisationChangeSerializer
    filterset_class = OrganisationChangeFilterSet
    pagination_class = FeedPagination


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Long work done in the background (recomputations, back-fills): poll a job's
    detail until `is_finished`. Your own jobs, and the shared coverage jobs when your role
    may start them; others' answer 404."""

    serializer_class = serializers.JobSerializer
    permission_classes = [permissions.IsAuthenticated, HasRole]

    def get_queryset(self):
        return Job.objects.visible_to(self.request.user).select_related("created_by")

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No such job of yours, or it made no file."),
            409: OpenApiResponse(description="Not finished yet: poll the job."),
            410: OpenApiResponse(description="The file was deleted after its time."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file a report job made: for the user who asked for it, while it is kept."""
        job = get_object_or_404(self.get_queryset(), pk=pk, created_by=request.user)
        if job.kind != Job.Kind.REPORT_EXPORT or job.state == Job.State.FAILED:
            raise NotFound(_("This job made no file."))
        if job.state != Job.State.DONE:
            return Response(
                {"detail": _("Not finished yet: poll the job until is_finished.")},
                status=status.HTTP_409_CONFLICT,
            )
        if not job.has_file:
            return Response(
                {"detail": _("The file was deleted after its time; ask for the report again.")},
                status=status.HTTP_410_GONE,
            )
        return exports.job_file(job)
