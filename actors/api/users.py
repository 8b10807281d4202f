"""The API of user administration (actors/access.py): the users whose access the caller may
see and change, their access log, and invitations.

Every rule and every change is actors.access's: the viewsets only translate requests into
its calls. Users and invitations outside what the caller may manage answer 404; a role that
manages nobody gets 403 everywhere except `users/me/`. A user's answer carries the ETag of
their access (actors.access.access_etag); changing it needs that ETag in If-Match.
"""

from __future__ import annotations

import django_filters as filters
from django.db.models import Prefetch, Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from actors import access
from actors.choices import Role
from actors.models import AccessChange, HealthTrust, Invitation, Municipality, User

from .concurrency import IF_MATCH, STALE, ETagMixin, if_match, quoted
from .fields import ChoiceLabelField, EnumChoiceField, OptionalEmailField, UserField
from .pagination import FeedPagination

MAX_ID = 2**31 - 1

NOT_FOUND = {404: OpenApiResponse(description="No such user among those you may manage.")}
NO_USERS = {403: OpenApiResponse(description="Your role does not manage users.")}
REFUSED = {
    400: OpenApiResponse(
        description="The change is not yours to make (a role, national scope, area or "
        "municipality beyond your reach, your own access, a user you may not change) or "
        "something is missing; the field messages say what."
    )
}


# --- fields ------------------------------------------------------------------------------


class AccessChoiceField(EnumChoiceField):
    """Access log and invitation choices, documented as `AccessChange…Choice` /
    `Invitation…Choice` (plain `KindEnum`/`SourceEnum` collide with other apps')."""

    def __init__(self, choices_class, prefix: str, **kwargs):
        self.prefix = prefix
        super().__init__(choices_class, **kwargs)


class HealthTrustRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthTrust
        fields = ["id", "code", "name"]


class MunicipalityRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Municipality
        fields = ["id", "number", "name"]


def id_list(help_text):
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=1000,
        help_text=help_text,
    )


class AccessFieldsSerializer(serializers.Serializer):
    """The access asked for; what it becomes is access.check()'s."""

    role = EnumChoiceField(
        Role,
        allow_blank=True,
        help_text=_("Empty: no role (the access is removed)."),
    )
    national_scope = serializers.BooleanField(
        required=False, default=False, help_text=_("For coordinators: the whole country.")
    )
    health_trusts = id_list(_("For coordinators: ids of their health-trust areas."))
    municipalities = id_list(
        _(
            "For municipality contacts: ids of their municipalities. A coordinator for areas "
            "gives only municipalities in their areas; the contact's others are kept."
        )
    )

    def wanted(self) -> access.Access:
        data = self.validated_data
        return access.Access(
            role=data["role"],
            national_scope=data["national_scope"],
            trust_ids=frozenset(data["health_trusts"]),
            municipality_ids=frozenset(data["municipalities"]),
        )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text=_("Why (optional); kept in the user's access log."),
    )


class UserAccessSerializer(AccessFieldsSerializer, ReasonSerializer):
    pass


# --- users -------------------------------------------------------------------------------


class AccessUserSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    email = OptionalEmailField(read_only=True)
    role = EnumChoiceField(Role, allow_blank=True, read_only=True)
    role_label = ChoiceLabelField(source="role")
    health_trusts = HealthTrustRefSerializer(many=True, read_only=True)
    municipalities = MunicipalityRefSerializer(many=True, read_only=True)
    inactive = serializers.SerializerMethodField(
        help_text=_("Has not signed in for the configured number of days.")
    )
    role_from_group = serializers.CharField(
        read_only=True,
        help_text=_(
            "The identity provider's group the role follows; empty when the role was "
            "granted in the application."
        ),
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "email",
            "role",
            "role_label",
            "national_scope",
            "health_trusts",
            "municipalities",
            "last_login",
            "inactive",
            "role_from_group",
        ]
        read_only_fields = fields

    def get_name(self, user) -> str:
        return user.get_full_name()

    def get_inactive(self, user) -> bool:
        return access.is_inactive(user)


class AccessLogPagination(FeedPagination):
    """The access log's feed, with `hidden`: how many of the user's rows are left out for
    the caller (actors.access.visible_access_log)."""

    hidden = 0

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["hidden"] = self.hidden
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["hidden"] = {
            "type": "integer",
            "minimum": 0,
            "example": 0,
            "description": "How many of the user's changes are left out for you: those about "
            "municipalities or areas outside your areas (always 0 for administrators and "
            "national coordinators).",
        }
        schema["required"] = [*schema["required"], "hidden"]
        return schema


class AccessChangeSerializer(serializers.ModelSerializer):
    kind = AccessChoiceField(AccessChange.Kind, "AccessChange", read_only=True)
    kind_label = ChoiceLabelField(source="kind")
    source = AccessChoiceField(AccessChange.Source, "AccessChange", read_only=True)
    source_label = ChoiceLabelField(source="source")
    changed_by = UserField(
        help_text=_("Who made the change; null for the identity provider or the system."),
    )

    class Meta:
        model = AccessChange
        fields = [
            "id",
            "user",
            "kind",
            "kind_label",
            "old_value",
            "new_value",
            "reason",
            "source",
            "source_label",
            "changed_at",
            "changed_by",
        ]
        read_only_fields = fields


class UserFilterSet(filters.FilterSet):
    role = filters.ChoiceFilter(
        choices=[("none", _("No role")), *Role.choices], method="filter_role", label=_("role")
    )
    inactive = filters.BooleanFilter(method="filter_inactive", label=_("inactive"))
    q = filters.CharFilter(method="filter_q", label=_("search"))

    class Meta:
        model = User
        fields = ["role", "inactive", "q"]

    def filter_role(self, queryset, name, value):
        return queryset.filter(role="" if value == "none" else value)

    def filter_inactive(self, queryset, name, value):
        condition = access.inactive_q()
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_q(self, queryset, name, value):
        condition = Q()
        for word in value.split()[:5]:
            condition &= (
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        return queryset.filter(condition)


class ManagesUsers(permissions.BasePermission):
    """User administration is for roles that grant access (403 for the others)."""

    message = _("Your role does not manage users.")

    def has_permission(self, request, view):
        return access.can_manage_users(request.user)


def _users():
    return User.objects.prefetch_related(
        Prefetch("health_trusts", HealthTrust.objects.order_by("name")),
        Prefetch("municipalities", Municipality.objects.order_by("number")),
    ).order_by("username", "id")


class UserViewSet(ETagMixin, viewsets.ReadOnlyModelViewSet):
    """The users whose access you may see and change: everyone for administrators and
    national coordinators; the municipality contacts of your municipalities for a
    coordinator for areas. Others answer 404; roles that manage nobody get 403. A user's
    answer carries `ETag`: the version of their access, for If-Match when changing it."""

    serializer_class = AccessUserSerializer
    filterset_class = UserFilterSet
    permission_classes = [permissions.IsAuthenticated, ManagesUsers]

    def get_queryset(self):
        return access.manageable_users(self.request.user, _users())

    def get_permissions(self):
        if self.action == "me":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def etag_of(self, user) -> str:
        return quoted(access.access_etag(user))

    def _answer(self, user):
        self._etag_instance = user
        return Response(self.get_serializer(_users().get(pk=user.pk)).data)

    @extend_schema(filters=False, responses={200: AccessUserSerializer})
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def me(self, request):
        """Your own user and access (for everyone signed in, with a role or not)."""
        return self._answer(request.user)

    @extend_schema(
        request=UserAccessSerializer,
        responses={200: AccessUserSerializer, **REFUSED, **NO_USERS, **NOT_FOUND, **STALE},
        parameters=[IF_MATCH],
    )
    @action(
        detail=True, methods=["put"], url_path="access", url_name="access", filterset_class=None
    )
    def set_access(self, request, pk=None):
        """Set the user's role, national scope, areas and municipalities. What you may give
        depends on your role; a coordinator for areas changes only the municipalities in
        their areas. Every difference is written to the user's access log; a user who
        loses their role loses their API keys at once. Send If-Match with the ETag of the
        user you read: 412 (with `current_version`) when someone changed their access
        since, 428 without it."""
        user = self.get_object()
        expected = if_match(request)
        body = UserAccessSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        access.apply(
            request.user,
            user,
            body.wanted(),
            expected=expected,
            source=AccessChange.Source.API,
            reason=body.validated_data["reason"],
        )
        return self._answer(user)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: AccessUserSerializer, **REFUSED, **NO_USERS, **NOT_FOUND, **STALE},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def remove(self, request, pk=None):
        """Take away the user's access, as far as it is yours (a coordinator for areas:
        the municipalities in their areas). Their API keys stop working when no role is
        left. If-Match as for PUT access/."""
        user = self.get_object()
        expected = if_match(request)
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        access.remove(
            request.user,
            user,
            expected=expected,
            source=AccessChange.Source.API,
            reason=body.validated_data["reason"],
        )
        return self._answer(user)

    @extend_schema(responses={200: AccessChangeSerializer(many=True), **NO_USERS, **NOT_FOUND})
    @action(
        detail=True,
        methods=["get"],
        url_path="access-log",
        filterset_class=None,
        pagination_class=AccessLogPagination,
    )
    def access_log(self, request, pk=None):
        """The user's access log (append-only): every grant, change and removal of a role,
        national scope, area or municipality, accepted invitations and revoked API keys;
        newest first, cursor-paginated. A coordinator for areas gets the rows about their
        own municipalities and areas only; `hidden` counts the others."""
        user = self.get_object()
        changes = access.visible_access_log(request.user, user).select_related("changed_by")
        page = self.paginate_queryset(changes)
        data = AccessChangeSerializer(page, many=True).data
        self.paginator.hidden = access.hidden_access_log_count(request.user, user)
        return self.get_paginated_response(data)


# --- invitations -------------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer):
    role = EnumChoiceField(Role, read_only=True)
    role_label = ChoiceLabelField(source="role")
    health_trusts = HealthTrustRefSerializer(many=True, read_only=True)
    municipalities = MunicipalityRefSerializer(many=True, read_only=True)
    state = AccessChoiceField(Invitation.State, "Invitation", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    created_by = UserField(help_text=_("Who sent the invitation."))
    accepted_by = UserField(help_text=_("Who accepted it; null until then."))
    revoked_by = UserField(help_text=_("Who withdrew it; null unless withdrawn."))

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "name",
            "role",
            "role_label",
            "national_scope",
            "health_trusts",
            "municipalities",
            "state",
            "state_label",
            "created_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "accepted_by",
            "revoked_at",
            "revoked_by",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(AccessFieldsSerializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    role = EnumChoiceField(Role)


class InvitationFilterSet(filters.FilterSet):
    state = filters.ChoiceFilter(
        choices=Invitation.State.choices, method="filter_state", label=_("state")
    )

    class Meta:
        model = Invitation
        fields = ["state"]

    def filter_state(self, queryset, name, value):
        pending = access.pending_invitations(queryset)
        if value == Invitation.State.PENDING:
            return pending
        if value == Invitation.State.ACCEPTED:
            return queryset.exclude(accepted_at=None)
        if value == Invitation.State.REVOKED:
            return queryset.filter(accepted_at=None).exclude(revoked_at=None)
        return queryset.filter(accepted_at=None, revoked_at=None).exclude(
            pk__in=pending.values("pk")
        )


def accept_path(token: str) -> str:
    """The page where an invitation's link leads."""
    try:
        return reverse("users:accept", args=[token])
    except NoReverseMatch:
        return f"/invitasjon/{token}/"


class InvitationViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations you may see and withdraw: all for administrators and national
    coordinators; for a coordinator for areas, those for their municipalities and their
    own. The link's token is only ever in the e-mail."""

    serializer_class = InvitationSerializer
    filterset_class = InvitationFilterSet
    permission_classes = [permissions.IsAuthenticated, ManagesUsers]

    def get_queryset(self):
        qs = Invitation.objects.select_related(
            "created_by", "accepted_by", "revoked_by"
        ).prefetch_related(
            Prefetch("health_trusts", HealthTrust.objects.order_by("name")),
            Prefetch("municipalities", Municipality.objects.order_by("number")),
        )
        return access.visible_invitations(self.request.user, qs).order_by("-created_at", "-id")

    @extend_schema(
        request=InvitationCreateSerializer,
        responses={
            201: InvitationSerializer,
            200: OpenApiResponse(
                AccessUserSerializer,
                description="The address belongs to an account: the access was added to it "
                "at once (no invitation).",
            ),
            **REFUSED,
            **NO_USERS,
        },
    )
    def create(self, request, *args, **kwargs):
        """Invite a person by e-mail: the link (valid for the configured number of days)
        is e-mailed, and with sign-in through the identity provider the access also waits
        for that address. When exactly one account has the address, the access is added to
        it at once."""
        body = InvitationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        invited = access.invite(
            request.user,
            email=data["email"],
            name=data["name"],
            wanted=body.wanted(),
            source=AccessChange.Source.API,
        )
        if invited.invitation is None:
            user = _users().get(pk=invited.user.pk)
            return Response(AccessUserSerializer(user).data, status=status.HTTP_200_OK)
        access.send_invitation(
            invited.invitation,
            invited.token,
            request.build_absolute_uri(accept_path(invited.token)),
        )
        invitation = self.get_queryset().get(pk=invited.invitation.pk)
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: InvitationSerializer,
            400: OpenApiResponse(description="The invitation is not waiting any more."),
            **NO_USERS,
            404: OpenApiResponse(description="No such invitation among those you may see."),
        },
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def withdraw(self, request, pk=None):
        """Withdraw a waiting invitation: its link stops working."""
        invitation = self.get_object()
        access.withdraw(request.user, invitation)
        return Response(self.get_serializer(self.get_queryset().get(pk=invitation.pk)).data)
