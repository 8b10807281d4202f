"""API of benefits.governance (dependencies); registered by benefits/api/urls.py.

- /dependencies/: every user with a role reads; national coordinators and admins create
  (POST) and change (PATCH with If-Match, ETag on GET). Writes go through
  benefits.governance.dependencies.dependency_save.
- /reminders/: the reminders sent to you; /reminders/due/ what is due for you now.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from actors.api.concurrency import ETagMixin, expected_version
from actors.api.fields import EnumChoiceField
from actors.models import HealthTrust, ReminderSent
from rollout.api.views import IF_MATCH, REFUSED, STALE, service_errors, validated
from rollout.choices import DependencyStatus
from rollout.models import Dependency, Solution

from . import dependencies as svc


class CanEditDependencies(permissions.BasePermission):
    message = _("Only national coordinators record dependencies.")

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return svc.can_edit_dependencies(request.user)


class DependencySerializer(serializers.ModelSerializer):
    status = EnumChoiceField(DependencyStatus, required=False)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    solutions = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Solution.objects.all()
    )
    health_trusts = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=HealthTrust.objects.all(),
        help_text=_("Empty: every area."),
    )
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Dependency
        fields = [
            "id",
            "name",
            "description",
            "provider",
            "status",
            "status_label",
            "expected_date",
            "delivered_date",
            "solutions",
            "health_trusts",
            "is_open",
            "version",
        ]
        read_only_fields = ["version"]
        # The service checks a duplicate name (full_clean), so the message is its own.
        extra_kwargs = {"name": {"validators": []}}


class DependencyViewSet(
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """External deliveries the rollout waits for (steg 1 trust model, standards, SFM for
    PLO). An open dependency keeps the areas of its solutions from being ready."""

    serializer_class = DependencySerializer
    permission_classes = [permissions.IsAuthenticated, CanEditDependencies]
    filterset_fields = ["status"]

    def get_queryset(self):
        return svc.dependencies_visible(self.request.user).order_by("expected_date", "name", "id")

    def _respond(self, dependency, status_code=status.HTTP_200_OK):
        dependency = self.get_queryset().get(pk=dependency.pk)
        self._etag_instance = dependency
        return Response(DependencySerializer(dependency).data, status=status_code)

    @staticmethod
    def _split(data: dict) -> tuple[dict, list | None, list | None]:
        data = dict(data)
        solutions = data.pop("solutions", None)
        trusts = data.pop("health_trusts", None)
        return data, solutions, trusts

    @extend_schema(request=DependencySerializer, responses={201: DependencySerializer, **REFUSED})
    def create(self, request, *args, **kwargs):
        fields, solutions, trusts = self._split(validated(DependencySerializer, request))
        with service_errors():
            dependency = svc.dependency_save(
                user=request.user,
                dependency_id=None,
                expected_version=None,
                fields=fields,
                solutions=solutions,
                health_trusts=trusts or [],
            )
        return self._respond(dependency, status.HTTP_201_CREATED)

    @extend_schema(
        request=DependencySerializer,
        responses={200: DependencySerializer, **REFUSED, **STALE},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, *args, **kwargs):
        version = expected_version(request)
        dependency = self.get_object()
        fields, solutions, trusts = self._split(
            validated(DependencySerializer, request, partial=True)
        )
        with service_errors():
            dependency = svc.dependency_save(
                user=request.user,
                dependency_id=dependency.pk,
                expected_version=version,
                fields=fields,
                solutions=solutions,
                health_trusts=trusts,
            )
        return self._respond(dependency)


class DueItemSerializer(serializers.Serializer):
    text = serializers.CharField()
    link = serializers.CharField()


class DueGroupSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    items = DueItemSerializer(many=True)


class ReminderSentSerializer(serializers.ModelSerializer):
    items = DueItemSerializer(many=True, read_only=True)

    class Meta:
        model = ReminderSent
        fields = ["id", "kind", "items", "sent_at"]


class ReminderViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your reminders: those e-mailed to you (newest first) and what is due now."""

    serializer_class = ReminderSentSerializer

    def get_queryset(self):
        user = self.request.user
        qs = ReminderSent.objects.order_by("-sent_at", "-id")
        return qs.filter(user=user) if user.is_authenticated else qs.none()

    @extend_schema(responses=DueGroupSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def due(self, request):
        """What is due for you now, by kind (the same selection the e-mails use)."""
        groups = [
            {"kind": kind, "label": svc.kind_label(kind), "items": items}
            for kind, items in svc.reminders_due(request.user).items()
        ]
        return Response(DueGroupSerializer(groups, many=True).data)


def register(router) -> None:
    router.register("dependencies", DependencyViewSet, basename="dependency")
    router.register("reminders", ReminderViewSet, basename="reminder")
