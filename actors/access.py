"""Who may give whom which access, and the one place that changes it (tilgang).

Roles are granted in the application, never taken from sign-in claims as they come:

- an administrator grants anything;
- a national coordinator grants and removes coordinators (for areas or the whole
  country), directorate users and municipality contacts anywhere, never administrators;
- a coordinator for areas grants and removes municipality contacts for the municipalities
  in the catchment of their areas only, and leaves the contact's other municipalities alone;
- nobody changes their own access; nobody else grants anything.

Every path that changes a user's role, national scope, areas or municipalities (pages, API,
the Django admin, invitations, the identity provider's group mapping) goes through
`apply()`, which writes one AccessChange row per difference in the same transaction. When a
user loses their role their API keys are deleted at once; scopes are computed per request,
so their session sees nothing from the next request on.

A user's access has a version without a field of its own: access_etag(), a fingerprint of
what it is. The pages and the API hand it out with what they show and give it back to
apply() as `expected`, which refuses (VersionConflict) a change over one made since, so two
people editing the same access at once never overwrite each other silently.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import Role
from .concurrency import VersionConflict
from .scoping import forget_scope, scope_for


@dataclass(frozen=True)
class Access:
    """A user's access: role, national scope, areas and municipalities (ids)."""

    role: str = ""
    national_scope: bool = False
    trust_ids: frozenset[int] = frozenset()
    municipality_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, user) -> Access:
        if user is None or user.pk is None:
            return cls()
        return cls(
            role=user.role or "",
            national_scope=bool(user.national_scope),
            trust_ids=frozenset(user.health_trusts.values_list("pk", flat=True)),
            municipality_ids=frozenset(user.municipalities.values_list("pk", flat=True)),
        ).normalised()

    def normalised(self) -> Access:
        """Only what the role uses: areas for coordinators (none with national scope),
        municipalities for municipality contacts, nothing for the others."""
        if self.role == Role.COORDINATOR:
            return Access(
                self.role,
                self.national_scope,
                frozenset() if self.national_scope else frozenset(self.trust_ids),
            )
        if self.role == Role.MUNICIPALITY_CONTACT:
            return Access(self.role, municipality_ids=frozenset(self.municipality_ids))
        return Access(self.role)

    @property
    def is_empty(self) -> bool:
        return not self.role

    @property
    def etag(self) -> str:
        """The version of this access: a short fingerprint of the role, national scope and
        sorted area and municipality ids (no field on the user: any change of them, by any
        path, gives another value)."""
        text = "|".join(
            [
                self.role,
                "1" if self.national_scope else "0",
                ",".join(map(str, sorted(self.trust_ids))),
                ",".join(map(str, sorted(self.municipality_ids))),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Reach:
    """What a user may grant: roles, national scope, and where (None = everywhere)."""

    roles: frozenset[str] = frozenset()
    national_scope: bool = False
    municipality_ids: frozenset[int] | None = frozenset()
    trust_ids: frozenset[int] | None = frozenset()
    manages_all_users: bool = False

    @property
    def grants_anything(self) -> bool:
        return bool(self.roles)

    def covers_municipality(self, pk: int) -> bool:
        return self.municipality_ids is None or pk in self.municipality_ids


NO_REACH = Reach()


def reach_of(actor) -> Reach:
    """What `actor` may grant (the rules in the module's docstring)."""
    scope = scope_for(actor)
    if scope.role == Role.ADMIN:
        return Reach(
            roles=frozenset(Role.values),
            national_scope=True,
            municipality_ids=None,
            trust_ids=None,
            manages_all_users=True,
        )
    if scope.role == Role.COORDINATOR and scope.edits_all:
        return Reach(
            roles=frozenset({Role.COORDINATOR, Role.DIRECTORATE, Role.MUNICIPALITY_CONTACT}),
            national_scope=True,
            municipality_ids=None,
            trust_ids=None,
            manages_all_users=True,
        )
    if scope.role == Role.COORDINATOR:
        from .models import Catchment

        ids = Catchment.objects.filter(health_trust_id__in=scope.trust_ids).values_list(
            "municipality_id", flat=True
        )
        return Reach(
            roles=frozenset({Role.MUNICIPALITY_CONTACT}),
            municipality_ids=frozenset(ids),
            trust_ids=frozenset(),
        )
    return NO_REACH


def can_manage_users(actor) -> bool:
    return reach_of(actor).grants_anything


def manageable_users(actor, qs: QuerySet | None = None) -> QuerySet:
    """The users whose access `actor` may see and change: everyone for administrators and
    national coordinators; for coordinators for areas, the municipality contacts of their
    municipalities."""
    from .models import User

    qs = User.objects.all() if qs is None else qs
    reach = reach_of(actor)
    if not reach.grants_anything:
        return qs.none()
    if reach.manages_all_users:
        return qs
    return qs.filter(
        pk__in=User.objects.filter(
            role=Role.MUNICIPALITY_CONTACT, municipalities__in=reach.municipality_ids
        ).values("pk")
    )


def may_change(actor, user) -> bool:
    """Whether `actor` may change `user`'s access at all (what to, is check()'s)."""
    if actor is None or user is None or actor.pk == user.pk:
        return False
    reach = reach_of(actor)
    if not reach.grants_anything:
        return False
    if user.is_superuser or (user.role and user.role not in reach.roles):
        return False
    return reach.manages_all_users or manageable_users(actor).filter(pk=user.pk).exists()


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code="not_allowed")})


def check(actor, current: Access, wanted: Access) -> Access:
    """The access the user ends up with when `actor` asks for `wanted` over `current`, or a
    ValidationError keyed by the field to fix. A coordinator for areas changes only their
    own municipalities: the contact's others are kept as they are."""
    from .models import HealthTrust, Municipality

    reach = reach_of(actor)
    wanted = wanted.normalised()
    if not reach.grants_anything:
        raise _error("role", _("You cannot give anyone access."))
    if current.role and current.role not in reach.roles:
        raise _error(
            "role",
            _("You cannot change the access of a user with the role “%(role)s”.")
            % {"role": Role(current.role).label},
        )
    if wanted.role and wanted.role not in reach.roles:
        raise _error(
            "role",
            _("You cannot give anyone the role “%(role)s”.") % {"role": Role(wanted.role).label},
        )
    if wanted.national_scope and not reach.national_scope:
        raise _error("national_scope", _("You cannot give anyone national scope."))
    if reach.municipality_ids is not None:
        # Municipalities the contact has already (another area's) are kept, not refused:
        # accepting an invitation asks for them along with the new ones.
        outside = wanted.municipality_ids - reach.municipality_ids - current.municipality_ids
        if outside:
            names = ", ".join(
                f"{m.number} {m.name}" for m in Municipality.objects.filter(pk__in=outside)
            )
            raise _error(
                "municipalities",
                _("%(names)s is not in your areas: ask that area's coordinator.")
                % {"names": names},
            )
        kept = current.municipality_ids - reach.municipality_ids
        final = kept | wanted.municipality_ids
        if final:
            wanted = Access(Role.MUNICIPALITY_CONTACT, municipality_ids=final)
        elif not wanted.role:
            wanted = Access()  # removing: nothing of theirs is left
        # else: a contact asked for without a municipality is refused below
    if reach.trust_ids is not None and wanted.trust_ids - reach.trust_ids:
        raise _error("health_trusts", _("You cannot give access to these areas."))
    if wanted.role == Role.MUNICIPALITY_CONTACT and not wanted.municipality_ids:
        raise _error("municipalities", _("Choose at least one municipality."))
    if wanted.role == Role.COORDINATOR and not wanted.national_scope and not wanted.trust_ids:
        raise _error(
            "health_trusts", _("Choose at least one health-trust area, or national scope.")
        )
    # Ids that do not exist are refused rather than dropped.
    for ids, model, name in (
        (wanted.municipality_ids, Municipality, "municipalities"),
        (wanted.trust_ids, HealthTrust, "health_trusts"),
    ):
        if ids and model.objects.filter(pk__in=ids).count() != len(ids):
            raise _error(name, _("Unknown %(what)s.") % {"what": model._meta.verbose_name})
    return wanted


def _label_municipality(m) -> str:
    return f"{m.number} {m.name}"


def _changes(user, before: Access, after: Access) -> list:
    """One unsaved AccessChange per difference between two accesses."""
    from .models import AccessChange, HealthTrust, Municipality

    Kind = AccessChange.Kind
    rows = []

    def label(role: str) -> str:
        return str(Role(role).label) if role else ""

    if before.role != after.role:
        rows.append(
            AccessChange(kind=Kind.ROLE, old_value=label(before.role), new_value=label(after.role))
        )
    if before.national_scope != after.national_scope:
        rows.append(
            AccessChange(
                kind=Kind.NATIONAL_SCOPE,
                old_value=_("yes") if before.national_scope else _("no"),
                new_value=_("yes") if after.national_scope else _("no"),
            )
        )
    for ids, kind in (
        (after.trust_ids - before.trust_ids, Kind.AREA_ADDED),
        (before.trust_ids - after.trust_ids, Kind.AREA_REMOVED),
    ):
        for trust in HealthTrust.objects.filter(pk__in=ids).order_by("name"):
            value = trust.name
            rows.append(
                AccessChange(
                    kind=kind,
                    old_value="" if kind == Kind.AREA_ADDED else value,
                    new_value=value if kind == Kind.AREA_ADDED else "",
                )
            )
    for ids, kind in (
        (after.municipality_ids - before.municipality_ids, Kind.MUNICIPALITY_ADDED),
        (before.municipality_ids - after.municipality_ids, Kind.MUNICIPALITY_REMOVED),
    ):
        for m in Municipality.objects.filter(pk__in=ids).order_by("number"):
            value = _label_municipality(m)
            rows.append(
                AccessChange(
                    kind=kind,
                    old_value="" if kind == Kind.MUNICIPALITY_ADDED else value,
                    new_value=value if kind == Kind.MUNICIPALITY_ADDED else "",
                )
            )
    return rows


def record(user, before: Access, after: Access, *, by, source: str, reason: str = "") -> list:
    """Write the log rows for a change already decided (also the admin's path), save the
    user's fields and assignments, and revoke their API keys when the role went away."""
    from .models import AccessChange

    now = timezone.now()
    rows = _changes(user, before, after)
    extra = []
    if before.role and not after.role:
        extra = revoke_tokens(user, by=by, source=source, when=now, save=False)
    for row in rows:
        row.user = user
        row.changed_by = by if getattr(by, "pk", None) else None
        row.source = source
        row.reason = reason
        row.changed_at = now
    AccessChange.objects.bulk_create(rows + extra)
    user.role = after.role
    user.national_scope = after.national_scope
    if not after.role or source != AccessChange.Source.IDP:
        # A role changed in the application is the application's from now on: the
        # provider's groups no longer move it.
        user.role_from_group = ""
    user.save(update_fields=["role", "national_scope", "role_from_group"])
    if before.trust_ids != after.trust_ids:
        user.health_trusts.set(after.trust_ids)
    if before.municipality_ids != after.municipality_ids:
        user.municipalities.set(after.municipality_ids)
    forget_scope(user)
    return rows + extra


def revoke_tokens(user, *, by, source: str, when=None, save: bool = True) -> list:
    """Delete the user's API keys; the log row (returned, written when `save`)."""
    from rest_framework.authtoken.models import Token

    from .models import AccessChange

    deleted, _ignored = Token.objects.filter(user=user).delete()
    if not deleted:
        return []
    row = AccessChange(
        user=user,
        kind=AccessChange.Kind.TOKENS_REVOKED,
        changed_by=by if getattr(by, "pk", None) else None,
        source=source,
        changed_at=when or timezone.now(),
    )
    if save:
        row.save()
    return [row]


def access_etag(user) -> str:
    """The version of `user`'s access as stored now (Access.etag; read again, not from the
    instance, which may be older): what the pages' hidden field and the API's ETag carry,
    and what apply() checks `expected` against."""
    from .models import User

    return Access.of(User.objects.get(pk=user.pk)).etag


@transaction.atomic
def apply(
    actor, user, wanted: Access, *, expected: str | None, source: str, reason: str = ""
) -> list:
    """Change `user`'s access as `actor` asks (check() decides), with the log. Returns the
    log rows written (none when nothing changed).

    `expected` is the access_etag() the caller read (a page's form, the API's If-Match):
    when someone changed the access since, VersionConflict (with the current value) and
    nothing is written. None for callers without one (invitations)."""
    from .models import User

    if actor is not None and user.pk == getattr(actor, "pk", None):
        raise _error("role", _("You cannot change your own access."))
    user = User.objects.select_for_update().get(pk=user.pk)
    current = Access.of(user)
    if expected is not None and expected != current.etag:
        raise VersionConflict(
            user,
            expected,
            current_version=current.etag,
            message=_(
                "Someone else changed this user's access while you were editing it. Review "
                "the current access and save again."
            ),
        )
    if not may_change(actor, user) and not (current.is_empty and reach_of(actor).grants_anything):
        raise _error("role", _("You cannot change this user's access."))
    final = check(actor, current, wanted)
    if final == current:
        return []
    changes = record(user, current, final, by=actor, source=source, reason=reason)
    _tell(user, final)
    return changes


def remove(actor, user, *, expected: str | None, source: str, reason: str = "") -> list:
    """Take away what `actor` may take away: everything for administrators and national
    coordinators; their own municipalities for a coordinator for areas. `expected`: as
    for apply()."""
    return apply(actor, user, Access(), expected=expected, source=source, reason=reason)


def _tell(user, final: Access) -> None:
    from django.urls import reverse

    from .services import notify

    if final.role:
        text = _("Your access has changed: you are now “%(role)s”.") % {
            "role": Role(final.role).label
        }
    else:
        text = _("Your access to the rollout application has been removed.")
    notify(users=[user], text=text, link=reverse("actors:home"))


# Invitations ------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Invited:
    """What invite() did: an invitation (with its one-time token) or, for a person who
    already has an account, the access granted at once."""

    invitation: object = None
    token: str = ""
    user: object = None
    changes: list = field(default_factory=list)


def _user_with_email(email: str):
    from .models import User

    users = list(User.objects.filter(email__iexact=email.strip(), is_active=True)[:2])
    return users[0] if len(users) == 1 else None


@transaction.atomic
def invite(actor, *, email: str, name: str, wanted: Access, source: str) -> Invited:
    """Give `wanted` to the person with `email`: at once when exactly one active account has
    that address (added to what they have), else an invitation that expires after
    INVITATION_DAYS and is granted when the link is followed or, with the identity
    provider, when that address signs in. Mailing the link is the caller's (it knows the
    site's address): see send_invitation()."""
    from .models import Invitation

    email = email.strip()
    existing = _user_with_email(email)
    if existing is not None:
        current = Access.of(existing)
        merged = Access(
            wanted.role or current.role,
            wanted.national_scope or current.national_scope,
            current.trust_ids | wanted.trust_ids,
            current.municipality_ids | wanted.municipality_ids,
        )
        if current.role and wanted.role and current.role != wanted.role:
            raise _error(
                "email",
                _(
                    "%(email)s already has the role “%(role)s”: change their access on "
                    "their user page instead."
                )
                % {"email": email, "role": Role(current.role).label},
            )
        changes = apply(actor, existing, merged, expected=None, source=source)
        return Invited(user=existing, changes=changes)
    final = check(actor, Access(), wanted)
    if not final.role:
        raise _error("role", _("Choose the role to invite them to."))
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        email=email,
        name=name.strip(),
        role=final.role,
        national_scope=final.national_scope,
        token_hash=_hash(token),
        created_by=actor,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.INVITATION_DAYS),
    )
    invitation.health_trusts.set(final.trust_ids)
    invitation.municipalities.set(final.municipality_ids)
    return Invited(invitation=invitation, token=token)


def send_invitation(invitation, token: str, accept_url: str) -> None:
    """E-mail the invitation's link (after commit)."""
    from django.core.mail import send_mail

    what = Role(invitation.role).label
    places = ", ".join(_label_municipality(m) for m in invitation.municipalities.all())
    lines = [
        _("%(who)s has given you access to the rollout application as “%(role)s”.")
        % {"who": invitation.created_by, "role": what},
    ]
    if places:
        lines.append(_("Municipalities: %(places)s") % {"places": places})
    lines += [
        "",
        _("Open this link to get started (valid until %(date)s):")
        % {"date": timezone.localtime(invitation.expires_at).strftime("%d.%m.%Y %H:%M")},
        accept_url,
    ]
    if settings.OIDC_ISSUER:
        lines += [
            "",
            _("Or sign in with %(provider)s using this e-mail address.")
            % {"provider": settings.OIDC_PROVIDER_NAME},
        ]
    body = "\n".join(str(line) for line in lines)
    subject = _("Access to the rollout application")
    transaction.on_commit(
        lambda: send_mail(str(subject), body, None, [invitation.email], fail_silently=False)
    )


def invitation_for_token(token: str):
    """The invitation whose link carries `token`, or None (unknown tokens and tampered
    ones alike)."""
    from .models import Invitation

    if not token or len(token) > 200:
        return None
    return Invitation.objects.filter(token_hash=_hash(token)).first()


def pending_invitations(qs: QuerySet | None = None) -> QuerySet:
    from .models import Invitation

    qs = Invitation.objects.all() if qs is None else qs
    return qs.filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())


def visible_invitations(actor, qs: QuerySet | None = None) -> QuerySet:
    """Invitations `actor` may see and withdraw: all for those who manage all users; for a
    coordinator for areas, those for municipalities in their areas and their own."""
    from .models import Invitation

    qs = Invitation.objects.all() if qs is None else qs
    reach = reach_of(actor)
    if not reach.grants_anything:
        return qs.none()
    if reach.manages_all_users:
        return qs
    return qs.filter(
        Q(created_by_id=actor.pk) | Q(municipalities__in=reach.municipality_ids)
    ).distinct()


def visible_access_log(actor, user) -> QuerySet:
    """The rows of `user`'s access log that `actor` may read (newest first): all of them for
    the user themselves and for those who manage all users; for a coordinator for areas,
    all but the rows about another area's data, a municipality outside their areas'
    catchment or an area not theirs (the contact's other municipalities are someone else's).

    A row names one municipality ("number name", as then) or one area (its name): it is
    theirs when that text is what one of theirs is or was called (today's number and name,
    or those of a MunicipalityVersion). A row whose name matches none of theirs is hidden,
    never guessed at; the page and the API say how many (`hidden_access_log_count`)."""
    from .models import AccessChange, HealthTrust, Municipality, MunicipalityVersion

    log = AccessChange.objects.filter(user=user)
    if actor is not None and actor.pk == user.pk:
        return log
    reach = reach_of(actor)
    if reach.manages_all_users:
        return log
    if not reach.grants_anything:
        return log.none()
    Kind = AccessChange.Kind
    label = Concat("number", Value(" "), "name", output_field=CharField())
    ids = reach.municipality_ids
    municipalities = _names_any(
        Municipality.objects.filter(pk__in=ids).annotate(label=label).values("label"),
        MunicipalityVersion.objects.filter(municipality_id__in=ids)
        .annotate(label=label)
        .values("label"),
    )
    areas = _names_any(HealthTrust.objects.filter(pk__in=scope_for(actor).trust_ids).values("name"))
    about_municipality = Q(kind__in=[Kind.MUNICIPALITY_ADDED, Kind.MUNICIPALITY_REMOVED])
    about_area = Q(kind__in=[Kind.AREA_ADDED, Kind.AREA_REMOVED])
    theirs = (about_municipality & municipalities) | (about_area & areas)
    return log.filter(~(about_municipality | about_area) | theirs)


def _names_any(*querysets) -> Q:
    """The row's from or to is one of the names the querysets (of one column) give."""
    q = Q(pk__in=[])
    for names in querysets:
        q |= Q(old_value__in=names) | Q(new_value__in=names)
    return q


def hidden_access_log_count(actor, user) -> int:
    """How many rows of `user`'s access log `visible_access_log` leaves out for `actor`."""
    from .models import AccessChange

    visible = visible_access_log(actor, user)
    return AccessChange.objects.filter(user=user).count() - visible.count()


@transaction.atomic
def accept(invitation, user, *, source: str | None = None) -> list:
    """Grant the invitation to `user` (added to what they have), on behalf of the person
    who invited them, whose reach is checked again now. Refused when the invitation is not
    waiting any more."""
    from .models import AccessChange, Invitation

    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != Invitation.State.PENDING:
        raise ValidationError(
            _("This invitation is %(state)s and can no longer be used.")
            % {"state": str(invitation.get_state_display()).lower()},
            code="invitation_used",
        )
    inviter = invitation.created_by
    current = Access.of(user)
    wanted = Access(
        invitation.role,
        invitation.national_scope or current.national_scope,
        current.trust_ids | frozenset(invitation.health_trusts.values_list("pk", flat=True)),
        current.municipality_ids
        | frozenset(invitation.municipalities.values_list("pk", flat=True)),
    )
    if current.role and current.role != invitation.role:
        raise ValidationError(
            _("Your account already has the role “%(role)s”; ask the person who invited you.")
            % {"role": Role(current.role).label},
            code="role_conflict",
        )
    try:
        final = check(inviter, current, wanted)
    except ValidationError as exc:
        raise ValidationError(
            _("The person who invited you can no longer give this access; ask them again."),
            code="inviter_lost_reach",
        ) from exc
    source = source or AccessChange.Source.INVITATION
    now = timezone.now()
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    accepted = AccessChange(
        user=user,
        kind=AccessChange.Kind.INVITATION_ACCEPTED,
        new_value=invitation.email,
        reason=_("Invited by %(who)s on %(date)s")
        % {
            "who": inviter,
            "date": timezone.localtime(invitation.created_at).strftime("%d.%m.%Y"),
        },
        source=source,
        changed_by=inviter,
        changed_at=now,
    )
    accepted.save()
    if final == current:
        return [accepted]
    return [accepted, *record(user, current, final, by=inviter, source=source)]


def accept_waiting_for(user) -> list:
    """Grant every invitation waiting for the user's e-mail address (sign-in through the
    identity provider with that address). Invitations that cannot be granted stay."""
    if not user.email:
        return []
    done = []
    for invitation in pending_invitations().filter(email__iexact=user.email):
        try:
            done += accept(invitation, user)
        except ValidationError:
            continue
    return done


# An invitation link followed before signing in with the identity provider waits here.
SESSION_INVITATION = "invitation_token"


def accept_from_session(request, user) -> list:
    """After a sign-in: grant the invitation whose link the person followed before, if
    any (the token is removed from the session either way). Returns the log rows, or
    raises ValidationError with the reason the invitation could not be used."""
    token = request.session.pop(SESSION_INVITATION, "")
    invitation = invitation_for_token(token) if token else None
    if invitation is None:
        return []
    return accept(invitation, user)


@transaction.atomic
def withdraw(actor, invitation) -> None:
    from .models import Invitation

    if not visible_invitations(actor).filter(pk=invitation.pk).exists():
        raise _error("invitation", _("You cannot withdraw this invitation."))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != Invitation.State.PENDING:
        raise _error("invitation", _("Only a waiting invitation can be withdrawn."))
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = actor
    invitation.save(update_fields=["revoked_at", "revoked_by"])


# The identity provider's groups ------------------------------------------------------------

GROUP_ROLES = {
    "directorate": Access(Role.DIRECTORATE),
    "national_coordinator": Access(Role.COORDINATOR, national_scope=True),
}


@dataclass(frozen=True)
class GroupRole:
    group: str
    access: Access
    orgnr: str = ""


def group_roles(text: str | None = None) -> list[GroupRole]:
    """OIDC_GROUP_ROLES parsed: "group=role@orgnr;..." (orgnr optional)."""
    text = settings.OIDC_GROUP_ROLES if text is None else text
    rules = []
    for item in (part.strip() for part in text.split(";")):
        if not item:
            continue
        group, sep, rest = item.partition("=")
        role, _at, orgnr = rest.partition("@")
        role, orgnr = role.strip(), orgnr.replace(" ", "").strip()
        if not sep or not group.strip() or role not in GROUP_ROLES:
            raise ImproperlyConfigured(
                f"OIDC_GROUP_ROLES: “{item}” should be group=role or group=role@orgnr, "
                f"role one of {', '.join(GROUP_ROLES)}."
            )
        if orgnr and not (len(orgnr) == 9 and orgnr.isdigit()):
            raise ImproperlyConfigured(
                f"OIDC_GROUP_ROLES: “{orgnr}” in “{item}” is not a nine-digit orgnr."
            )
        rules.append(GroupRole(group.strip(), GROUP_ROLES[role], orgnr))
    return rules


def access_from_groups(groups, orgnr: str) -> tuple[GroupRole | None, list[str]]:
    """The first configured rule that the person's groups and organisation number meet,
    and the reasons rules with a matching group were refused (for the log)."""
    refused = []
    groups = set(groups or ())
    for rule in group_roles():
        if rule.group not in groups:
            continue
        if rule.orgnr and rule.orgnr != (orgnr or ""):
            refused.append(
                _("group %(group)s needs organisation number %(want)s, the sign-in gave “%(got)s”")
                % {"group": rule.group, "want": rule.orgnr, "got": orgnr or ""}
            )
            continue
        return rule, refused
    return None, refused


@transaction.atomic
def sync_group_role(user, groups, orgnr: str) -> list:
    """At sign-in: a role that came from a provider group follows the groups (granted,
    changed or removed); a role granted in the application is left as it is."""
    from .models import AccessChange, User

    user = User.objects.select_for_update().get(pk=user.pk)
    current = Access.of(user)
    rule, _refused = access_from_groups(groups, orgnr)
    from_group = bool(user.role_from_group)
    if current.role and not from_group:
        return []
    if rule is None:
        if not from_group:
            return []
        reason = _("No longer in the identity provider's group %(group)s") % {
            "group": user.role_from_group
        }
        return record(
            user, current, Access(), by=None, source=AccessChange.Source.IDP, reason=reason
        )
    rows = []
    if rule.access != current:
        reason = _("Member of the identity provider's group %(group)s") % {"group": rule.group}
        rows = record(
            user, current, rule.access, by=None, source=AccessChange.Source.IDP, reason=reason
        )
    if user.role_from_group != rule.group:
        user.role_from_group = rule.group
        user.save(update_fields=["role_from_group"])
    return rows


# Inactivity --------------------------------------------------------------------------------


def inactive_cutoff():
    return timezone.now() - datetime.timedelta(days=settings.USER_INACTIVE_DAYS)


def inactive_q() -> Q:
    """Users who have not signed in for USER_INACTIVE_DAYS (or never, and joined before)."""
    cutoff = inactive_cutoff()
    return Q(last_login__lt=cutoff) | Q(last_login=None, date_joined__lt=cutoff)


def is_inactive(user) -> bool:
    cutoff = inactive_cutoff()
    last = user.last_login or user.date_joined
    return last is not None and last < cutoff
