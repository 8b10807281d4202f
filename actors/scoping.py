"""Who may see and change what. The one place for these rules.

Every view, viewset, filter choice, export and task narrows its querysets with
`Model.objects.visible_to(user)` or `.editable_by(user)`, which land here.

- admin (or superuser): sees and edits everything.
- direktorat: sees everything, edits nothing operational.
- innføringskoordinator with national scope: sees and edits everything.
- innføringskoordinator assigned to health-trust areas: the organisations in those areas,
  the municipalities in their catchment and the areas themselves.
- kommunekontakt: the organisations of their municipalities, those municipalities and
  the areas they belong to.
- anyone else (no role, anonymous): nothing.
Counties and regional health authorities are plain reference names, visible to all
signed-in users. Models of other apps declare how they hang on the structure with
SCOPE_ORGANISATION, SCOPE_MUNICIPALITY or SCOPE_HEALTH_TRUST (a field path).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .choices import Role

_CACHE_ATTR = "_rollout_scope"


@dataclass(frozen=True)
class Scope:
    role: str
    sees_all: bool = False
    edits_all: bool = False
    can_edit: bool = False
    trust_ids: frozenset[int] = frozenset()
    municipality_ids: frozenset[int] = frozenset()

    @property
    def is_limited(self) -> bool:
        return not self.sees_all

    def filter_visible(self, qs: QuerySet) -> QuerySet:
        if self.sees_all:
            return qs
        return self._restrict(qs)

    def filter_editable(self, qs: QuerySet) -> QuerySet:
        if not self.can_edit:
            return qs.none()
        if self.edits_all:
            return qs
        return self._restrict(qs)

    def may_edit_organisation(self, organisation) -> bool:
        """The same rule as filter_editable, for an organisation not yet saved (imports)."""
        if not self.can_edit:
            return False
        if self.edits_all:
            return True
        if self.role == Role.COORDINATOR:
            return organisation.health_trust_id in self.trust_ids
        if self.role == Role.MUNICIPALITY_CONTACT:
            return organisation.municipality_id in self.municipality_ids
        return False

    def may_move_organisations(self) -> bool:
        """Whether the role may move organisations at all (where to, is may_edit's)."""
        return self.can_edit and (self.edits_all or self.role == Role.COORDINATOR)

    def _restrict(self, qs: QuerySet) -> QuerySet:
        from .models import Catchment

        model = qs.model
        label = model._meta.label
        if label in ("actors.County", "actors.RegionalHealthAuthority"):
            return qs if self.role else qs.none()
        # Other apps' models say how they hang on an organisation, municipality or area.
        prefix = {
            "actors.Organisation": "",
            "actors.Municipality": None,
            "actors.HealthTrust": None,
        }.get(label, getattr(model, "SCOPE_ORGANISATION", None))
        municipality_path = "pk" if label == "actors.Municipality" else None
        municipality_path = municipality_path or getattr(model, "SCOPE_MUNICIPALITY", None)
        trust_path = "pk" if label == "actors.HealthTrust" else None
        trust_path = trust_path or getattr(model, "SCOPE_HEALTH_TRUST", None)
        if prefix is not None:
            p = f"{prefix}__" if prefix else ""
            if self.role == Role.COORDINATOR:
                return qs.filter(**{f"{p}health_trust_id__in": self.trust_ids})
            if self.role == Role.MUNICIPALITY_CONTACT:
                return qs.filter(**{f"{p}municipality_id__in": self.municipality_ids})
        elif municipality_path:
            if self.role == Role.COORDINATOR:
                ids = Catchment.objects.filter(health_trust_id__in=self.trust_ids).values(
                    "municipality_id"
                )
            elif self.role == Role.MUNICIPALITY_CONTACT:
                ids = self.municipality_ids
            else:
                return qs.none()
            # One or more paths (many-to-many too): any of them in reach, no duplicate rows.
            paths = [municipality_path] if isinstance(municipality_path, str) else municipality_path
            reach = Q()
            for path in paths:
                reach |= Q(**{f"{path}__in": ids})
            return qs.filter(pk__in=model.objects.filter(reach).values("pk"))
        elif trust_path:
            if self.role == Role.COORDINATOR:
                return qs.filter(**{f"{trust_path}__in": self.trust_ids})
            if self.role == Role.MUNICIPALITY_CONTACT:
                ids = Catchment.objects.filter(municipality_id__in=self.municipality_ids).values(
                    "health_trust_id"
                )
                return qs.filter(**{f"{trust_path}__in": ids})
        return qs.none()


@dataclass(frozen=True)
class Place:
    """Where an organisation is registered: all that its scope depends on."""

    orgnr: str
    municipality_id: int | None
    health_trust_id: int | None

    @classmethod
    def of(cls, organisation) -> Place:
        return cls(organisation.orgnr, organisation.municipality_id, organisation.health_trust_id)


def not_in_reach_message(orgnr: str) -> str:
    """The answer for an organisation number outside the user's reach: word for word the
    answer for one that does not exist, on every path, so none reveals that it exists."""
    return _("Organisation number “%(v)s” is not in your area of responsibility.") % {"v": orgnr}


def check_organisation_write(scope: Scope, before: Place | None, after) -> None:
    """The one rule for every registry write (form, API, import, task): the organisation is
    in the user's editable scope before the change (`before`; None for a new one) and stays
    there after it (`after`, the organisation as it will be saved). A change of municipality
    or health-trust area is a move (flytt), for coordinators whose areas cover both the old
    and the new place and for those who edit everything (national coordinators, admins);
    municipality contacts never move organisations.

    Raises ValidationError keyed by the field to fix, with code `not_in_reach` (the
    organisation is not the user's to change), `move_refused` or `outside_reach`."""
    if before is not None and not scope.may_edit_organisation(before):
        raise ValidationError(
            {"orgnr": ValidationError(not_in_reach_message(before.orgnr), code="not_in_reach")}
        )
    moved = before is not None and (
        before.municipality_id != after.municipality_id
        or before.health_trust_id != after.health_trust_id
    )
    if moved and not (scope.may_move_organisations() and scope.may_edit_organisation(after)):
        if scope.role == Role.MUNICIPALITY_CONTACT:
            message = _(
                "Municipality contacts cannot move an organisation to another municipality "
                "or health-trust area; ask a rollout coordinator."
            )
        else:
            message = _(
                "Moving an organisation to another municipality or health-trust area needs "
                "a coordinator responsible for both the old and the new place, or a national "
                "coordinator."
            )
        raise ValidationError({"municipality": ValidationError(message, code="move_refused")})
    if not scope.may_edit_organisation(after):
        raise ValidationError(
            {
                "municipality": ValidationError(
                    _(
                        "You can only place organisations in the municipalities and areas you "
                        "are responsible for."
                    ),
                    code="outside_reach",
                )
            }
        )


NO_SCOPE = Scope(role="")
# For system jobs (demo data, scheduled tasks) that act for no particular person.
SYSTEM_SCOPE = Scope(role=Role.ADMIN, sees_all=True, edits_all=True, can_edit=True)


class SystemActor:
    """Acts for no particular person (commands, demo data, scheduled tasks)."""

    pk = None
    is_authenticated = True
    is_active = True
    _rollout_scope = SYSTEM_SCOPE

    def __str__(self) -> str:
        return "system"


SYSTEM_USER = SystemActor()


def scope_for(user) -> Scope:
    """The user's scope, computed once per user object (one request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    scope = _compute(user)
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user) -> None:
    """Drop the cached scope after the user's assignments changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _compute(user) -> Scope:
    if user.is_superuser or user.role == Role.ADMIN:
        return Scope(role=Role.ADMIN, sees_all=True, edits_all=True, can_edit=True)
    if user.role == Role.DIRECTORATE:
        return Scope(role=Role.DIRECTORATE, sees_all=True)
    if user.role == Role.COORDINATOR:
        if user.national_scope:
            return Scope(role=Role.COORDINATOR, sees_all=True, edits_all=True, can_edit=True)
        return Scope(
            role=Role.COORDINATOR,
            can_edit=True,
            trust_ids=frozenset(user.health_trusts.values_list("pk", flat=True)),
        )
    if user.role == Role.MUNICIPALITY_CONTACT:
        return Scope(
            role=Role.MUNICIPALITY_CONTACT,
            can_edit=True,
            municipality_ids=frozenset(user.municipalities.values_list("pk", flat=True)),
        )
    return NO_SCOPE


# Job kinds whose work concerns everyone (not one person's files): visible to the roles
# that may start them, whoever did.
SHARED_JOB_KINDS = ("coverage_recompute", "coverage_backfill")


def can_recompute_targets(user) -> bool:
    """Coordinators, the directorate and administrators may ask for a recomputation."""
    return scope_for(user).role in (Role.COORDINATOR, Role.DIRECTORATE, Role.ADMIN)


def jobs_visible(user, qs: QuerySet) -> QuerySet:
    """A user's own jobs; shared jobs for those who may start them; everything for admins."""
    scope = scope_for(user)
    if scope.role == Role.ADMIN:
        return qs
    if not scope.role:
        return qs.none()
    mine = Q(created_by_id=user.pk)
    if can_recompute_targets(user):
        mine |= Q(kind__in=SHARED_JOB_KINDS)
    return qs.filter(mine)


def can_import_organisations(user) -> bool:
    """Registry imports are a coordinator's (and admin's) job."""
    scope = scope_for(user)
    return scope.can_edit and scope.role in (Role.COORDINATOR, Role.ADMIN)
