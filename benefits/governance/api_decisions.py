"""API of benefits.governance (decisions); registered by benefits/api/urls.py.

Decision points (with their brief and decisions), the change log (append-only, with an
export) and the cut list (with the what-if). Every user with a role reads; the
directorate, national coordinators and administrators write (access.can_govern),
others get 403. Writes go through the services of benefits.governance, the same functions
the UI uses; versioned records need `If-Match` with the ETag of the last GET (428 when missing,
412 when stale).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from actors.api.concurrency import ETagMixin, expected_version
from actors.api.fields import EnumChoiceField, UserField
from actors.api.files import export_action
from actors.filters import MAX_ID
from actors.models import HealthTrust
from rollout.api.views import IF_MATCH, REFUSED, STALE, service_errors, validated
from rollout.choices import Cadence, ChangeKind, CutStatus, DecisionKind, DecisionPointStatus
from rollout.models import (
    ChangeLogEntry,
    CutListItem,
    Decision,
    DecisionPoint,
    GovernanceSchedule,
    Solution,
)

from .. import exports
from . import access, briefs, changelog, cutlist, decision_points, decisions, whatif


class Governs(permissions.BasePermission):
    """Reads for every user with a role; writes for those who govern the programme."""

    message = access.GOVERN_MESSAGE

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return access.can_read(request.user)
        return access.can_govern(request.user)


class GovernanceViewSet(
    ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and detail (with ETag) for every user with a role."""

    permission_classes = [permissions.IsAuthenticated, Governs]

    def respond(self, instance, serializer_class=None, status_code=status.HTTP_200_OK):
        if hasattr(instance, "version"):
            self._etag_instance = instance
        serializer_class = serializer_class or self.get_serializer_class()
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=status_code)


SOLUTION = dict(slug_field="code", queryset=Solution.objects.all())
TRUST = dict(slug_field="code", queryset=HealthTrust.objects.all())


# --- serializers ------------------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    kind = EnumChoiceField(DecisionKind)
    solution = serializers.SlugRelatedField(required=False, allow_null=True, **SOLUTION)
    health_trust = serializers.SlugRelatedField(required=False, allow_null=True, **TRUST)
    decided_by = UserField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "kind",
            "text",
            "reason",
            "cost_benefit_note",
            "solution",
            "health_trust",
            "effective_date",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = ["decided_by", "decided_at"]


class DecisionPointSerializer(serializers.ModelSerializer):
    status = EnumChoiceField(DecisionPointStatus, read_only=True)
    decided_by = UserField()
    brief = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = DecisionPoint
        fields = [
            "id",
            "programme",
            "title",
            "scheduled_for",
            "held_on",
            "status",
            "summary",
            "scope_until_next",
            "decided_by",
            "brief_generated_at",
            "brief",
            "decisions",
            "version",
        ]
        read_only_fields = ["programme", "held_on", "brief_generated_at", "version"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_brief(self, point) -> dict:
        """The brief as you may read it (see benefits.governance.briefs.brief_for)."""
        return briefs.brief_for(self.context["request"].user, point)


class DecisionPointWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = DecisionPoint
        fields = ["title", "scheduled_for", "summary", "scope_until_next"]


class CloseSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    scope_until_next = serializers.CharField(required=False, allow_blank=True, default="")


class ScheduleSerializer(serializers.ModelSerializer):
    cadence = EnumChoiceField(Cadence)

    class Meta:
        model = GovernanceSchedule
        fields = ["programme", "cadence", "first_date", "version"]
        read_only_fields = ["programme", "version"]


class GenerateSerializer(serializers.Serializer):
    until = serializers.DateField(
        required=False, help_text="Add points up to this date (default: a year from today)."
    )


class ChangeLogEntrySerializer(serializers.ModelSerializer):
    kind = EnumChoiceField(ChangeKind)
    recorded_by = UserField()
    decision_point = serializers.PrimaryKeyRelatedField(
        queryset=DecisionPoint.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ChangeLogEntry
        fields = [
            "id",
            "kind",
            "title",
            "reason",
            "cost_benefit_note",
            "subject",
            "decision_point",
            "decision",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["decision", "recorded_by", "recorded_at"]


class CutListItemSerializer(serializers.ModelSerializer):
    status = EnumChoiceField(CutStatus, read_only=True)
    solution = serializers.SlugRelatedField(**SOLUTION)
    health_trust = serializers.SlugRelatedField(required=False, allow_null=True, **TRUST)

    class Meta:
        model = CutListItem
        fields = ["id", *cutlist.CUT_FIELDS, "status", "decision", "version"]
        read_only_fields = ["decision", "version"]


class CutDecideSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[CutStatus.CUT.value, CutStatus.KEPT.value])
    decision_point = serializers.PrimaryKeyRelatedField(queryset=DecisionPoint.objects.all())
    reason = serializers.CharField()
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)


class WhatIfTargetSerializer(serializers.Serializer):
    target_code = serializers.CharField()
    target_name = serializers.CharField()
    solution = serializers.CharField()
    threshold = serializers.DecimalField(max_digits=4, decimal_places=3)
    day = serializers.DateField(allow_null=True)
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    numerator_after = serializers.IntegerField()
    denominator_after = serializers.IntegerField()
    ratio = serializers.FloatField(allow_null=True)
    ratio_after = serializers.FloatField(allow_null=True)


class WhatIfPopulationSerializer(serializers.Serializer):
    solution = serializers.CharField()
    areas = serializers.ListField(child=serializers.CharField())
    population_cut = serializers.IntegerField()
    population_total = serializers.IntegerField()
    share_cut = serializers.FloatField()


class WhatIfSerializer(serializers.Serializer):
    items = serializers.SerializerMethodField()
    targets = WhatIfTargetSerializer(many=True)
    population = WhatIfPopulationSerializer(many=True)
    unquantified = serializers.SerializerMethodField()

    def get_items(self, result) -> list[int]:
        return [i.pk for i in result.items]

    def get_unquantified(self, result) -> list[int]:
        return [i.pk for i in result.unquantified]


# --- viewsets ---------------------------------------------------------------------------


class DecisionPointViewSet(GovernanceViewSet):
    """Evaluation and decision points with their brief and decisions."""

    serializer_class = DecisionPointSerializer

    def get_queryset(self):
        return DecisionPoint.objects.select_related("decided_by").prefetch_related(
            "decisions__solution", "decisions__health_trust", "decisions__decided_by"
        )

    @extend_schema(
        request=DecisionPointWriteSerializer, responses={201: DecisionPointSerializer, **REFUSED}
    )
    def create(self, request, *args, **kwargs):
        data = validated(DecisionPointWriteSerializer, request)
        with service_errors():
            point = decision_points.point_save(
                user=request.user, point_id=None, expected_version=None, fields=data
            )
        return self.respond(point, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=DecisionPointWriteSerializer,
        responses={200: DecisionPointSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        version = expected_version(request)
        point = self.get_object()
        data = validated(DecisionPointWriteSerializer, request, partial=True)
        with service_errors():
            point = decision_points.point_save(
                user=request.user, point_id=point.pk, expected_version=version, fields=data
            )
        return self.respond(point)

    @extend_schema(request=None, responses={200: DecisionPointSerializer, **REFUSED})
    @action(detail=True, methods=["post"], url_path="brief", url_name="brief")
    def brief(self, request, pk=None):
        """Prepare (again) the brief from the current data."""
        with service_errors():
            point = briefs.brief_generate(user=request.user, point=self.get_object())
        return self.respond(point)

    @extend_schema(request=DecisionSerializer, responses={201: DecisionSerializer, **REFUSED})
    @action(detail=True, methods=["post"], url_path="decisions", url_name="decisions")
    def record_decision(self, request, pk=None):
        """Record a decision. start_area / stop_area update the area's rollout record."""
        point = self.get_object()
        data = validated(DecisionSerializer, request)
        with service_errors():
            decision = decisions.decision_record(user=request.user, point=point, **data)
        return self.respond(decision, DecisionSerializer, status.HTTP_201_CREATED)

    @extend_schema(
        request=CloseSerializer,
        responses={200: DecisionPointSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="close", url_name="close")
    def close(self, request, pk=None):
        """Mark the point as decided, with the scope until the next point."""
        version = expected_version(request)
        point = self.get_object()
        data = validated(CloseSerializer, request)
        with service_errors():
            point = decision_points.point_close(
                user=request.user, point=point, expected_version=version, **data
            )
        return self.respond(point)

    @extend_schema(responses=ScheduleSerializer)
    @action(detail=False, methods=["get"], url_path="schedule", url_name="schedule")
    def schedule(self, request):
        """The programme's schedule of decision points."""
        schedule = decision_points.schedule_for()
        if schedule is None:
            raise ValidationError({"schedule": ["No schedule is defined."]})
        return self.respond(schedule, ScheduleSerializer)

    @extend_schema(
        request=GenerateSerializer, responses={201: DecisionPointSerializer(many=True), **REFUSED}
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="generate",
        url_name="generate",
        pagination_class=None,
    )
    def generate(self, request):
        """Add the schedule's points that do not exist yet."""
        data = validated(GenerateSerializer, request)
        schedule = decision_points.schedule_for()
        if schedule is None:
            raise ValidationError({"schedule": ["No schedule is defined."]})
        created = decision_points.points_generate(
            user=request.user, schedule=schedule, until=data.get("until")
        )
        context = self.get_serializer_context()
        return Response(
            DecisionPointSerializer(created, many=True, context=context).data,
            status=status.HTTP_201_CREATED,
        )


class ChangeLogPagination(CursorPagination):
    ordering = ("-recorded_at", "-id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


KIND = OpenApiParameter("kind", OpenApiTypes.STR, enum=list(ChangeKind.values))


class ChangeLogViewSet(GovernanceViewSet):
    """The change log, newest first. Append-only: entries are added (by decisions, or by
    hand with POST), never changed or deleted."""

    serializer_class = ChangeLogEntrySerializer
    pagination_class = ChangeLogPagination

    def get_queryset(self):
        qs = ChangeLogEntry.objects.select_related("recorded_by")
        kind = self.request.query_params.get("kind")
        return qs.filter(kind=kind) if kind in ChangeKind.values else qs

    def retrieve(self, request, *args, **kwargs):
        # Entries are never changed: no version, no ETag.
        return mixins.RetrieveModelMixin.retrieve(self, request, *args, **kwargs)

    @extend_schema(parameters=[KIND])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: ChangeLogEntrySerializer, **REFUSED})
    def create(self, request, *args, **kwargs):
        data = validated(ChangeLogEntrySerializer, request)
        with service_errors():
            entry = changelog.changelog_entry_create(user=request.user, **data)
        return self.respond(entry, status_code=status.HTTP_201_CREATED)

    @export_action(KIND)
    def export(self, request, fmt):
        """The change log as Excel or CSV (UTF-8 with BOM)."""
        return exports.export_changelog(self.get_queryset(), fmt)


ITEM = OpenApiParameter(
    "item",
    OpenApiTypes.INT,
    many=True,
    description="Cut-list item ids; without any, every proposed item.",
)


class WhatIfQuerySerializer(serializers.Serializer):
    item = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False
    )


class CutListViewSet(GovernanceViewSet):
    """The cut list: optional scope with its consequences. For an area-wise solution an
    item is a whole area. Decided at a decision point; cutting such an area stops it."""

    serializer_class = CutListItemSerializer

    def get_queryset(self):
        return CutListItem.objects.select_related("solution", "health_trust")

    @extend_schema(responses={201: CutListItemSerializer, **REFUSED})
    def create(self, request, *args, **kwargs):
        data = validated(CutListItemSerializer, request)
        with service_errors():
            item = cutlist.cut_item_save(
                user=request.user, item_id=None, expected_version=None, fields=data
            )
        return self.respond(item, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: CutListItemSerializer, **REFUSED, **STALE}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, *args, **kwargs):
        version = expected_version(request)
        item = self.get_object()
        data = validated(CutListItemSerializer, request, partial=True)
        with service_errors():
            item = cutlist.cut_item_save(
                user=request.user, item_id=item.pk, expected_version=version, fields=data
            )
        return self.respond(item)

    @extend_schema(
        request=CutDecideSerializer,
        responses={200: CutListItemSerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="decide", url_name="decide")
    def decide(self, request, pk=None):
        """Cut or keep the item by a decision at a decision point."""
        version = expected_version(request)
        item = self.get_object()
        data = validated(CutDecideSerializer, request)
        with service_errors():
            item = cutlist.cut_item_decide(
                user=request.user,
                item=item,
                to_status=data["status"],
                point=data["decision_point"],
                reason=data["reason"],
                effective_date=data["effective_date"],
                expected_version=version,
            )
        return self.respond(item)

    @extend_schema(parameters=[ITEM], responses=WhatIfSerializer)
    @action(detail=False, methods=["get"], url_path="what-if", url_name="what-if")
    def what_if(self, request):
        """Target ratios and population if the items' areas were cut."""
        query = WhatIfQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids = query.validated_data.get("item", [])
        result = whatif.what_if(whatif.what_if_items(request.user, ids))
        return Response(WhatIfSerializer(result).data)


def register(router) -> None:
    router.register("decision-points", DecisionPointViewSet, basename="decisionpoint")
    router.register("change-log", ChangeLogViewSet, basename="changelogentry")
    router.register("cut-list", CutListViewSet, basename="cutlistitem")
