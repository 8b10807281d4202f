"""User administration: who has which access, its log, invitations (rules: actors/access.py).

Pages for those who may give access (access.can_manage_users; others get 403) show only
the users they may manage (access.manageable_users; others answer 404, so a coordinator
for areas learns nothing about people outside them). Every change goes through access
(apply, remove, invite, withdraw, accept). The invitation link is for anyone.

The access and removal forms carry the version of the access they show: when someone
else changed it in between, the save is refused, the page says what they saved (as far as
the viewer reaches) and keeps what was typed; saving again is then a deliberate choice."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from . import access
from .access_middleware import LOCAL_BACKEND
from .choices import Role
from .concurrency import VersionConflict
from .forms import save_or_message, save_to_form
from .listing import page_of, query_without
from .models import AccessChange, HealthTrust, Invitation, Municipality, User
from .user_forms import (
    AcceptForm,
    AccessForm,
    InviteForm,
    RemoveForm,
    UserFilterForm,
    waiting_q,
)

PAGE_SIZE = 50
LOG_PAGE_SIZE = 25
PLACES_SHOWN = 5  # municipalities named in a row; the rest as "and N others"


def _reach(request) -> access.Reach:
    """The signed-in person's reach; 403 for those who may give nobody access."""
    reach = access.reach_of(request.user)
    if not reach.grants_anything:
        raise PermissionDenied
    return reach


def _managed_user(request, pk: int) -> User:
    _reach(request)
    return get_object_or_404(access.manageable_users(request.user), pk=pk)


def _places(user, reach: access.Reach | None) -> tuple[list[str], int]:
    """What a row or page says about where the user works: the areas of a coordinator
    (the whole country with national scope), the municipalities of a contact that the
    viewer reaches (`reach`; None: all of them), at most PLACES_SHOWN of them, and how many
    are not named."""
    if user.role == Role.COORDINATOR:
        if user.national_scope:
            return [_("The whole country")], 0
        names = [t.name for t in user.health_trusts.all()]
        return names, 0
    if user.role != Role.MUNICIPALITY_CONTACT:
        return [], 0
    mine = list(user.municipalities.all())
    seen = [m for m in mine if reach is None or reach.covers_municipality(m.pk)]
    named = [f"{m.number} {m.name}" for m in sorted(seen, key=lambda m: m.number)]
    shown = named[:PLACES_SHOWN]
    return shown, len(mine) - len(shown)


@login_required
def user_list(request):
    reach = _reach(request)
    form = UserFilterForm(request.GET or None, reach=reach)
    users = access.manageable_users(request.user).order_by("last_name", "first_name", "username")
    page = page_of(request, form.filter(users), PAGE_SIZE)
    prefetch_related_objects(page.object_list, "municipalities", "health_trusts")
    for u in page.object_list:
        u.places, u.more_places = _places(u, reach)
        u.inactive = access.is_inactive(u)
        u.role_label = role_label(u)
    waiting = 0
    if reach.manages_all_users:
        waiting = access.manageable_users(request.user).filter(waiting_q()).count()
    return render(
        request,
        "users/user_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without(request, "page"),
            "waiting": waiting,
            "inactive_days": settings.USER_INACTIVE_DAYS,
        },
    )


def role_label(user) -> str:
    """The user's role as shown; a superuser without one is an administrator (scoping)."""
    if user.role:
        return user.get_role_display()
    return str(Role.ADMIN.label) if user.is_superuser else ""


def _user_page(request, user, *, reach, can_change: bool, own: bool):
    places, more = _places(user, reach)
    log = access.visible_access_log(request.user, user).select_related("changed_by")
    return render(
        request,
        "users/user_detail.html",
        {
            "person": user,
            "role_label": role_label(user),
            "places": places,
            "more_places": more,
            "inactive": access.is_inactive(user),
            "inactive_days": settings.USER_INACTIVE_DAYS,
            "log_page": page_of(request, log, LOG_PAGE_SIZE, "log_page"),
            "log_hidden": access.hidden_access_log_count(request.user, user),
            "can_change": can_change,
            "own": own,
        },
    )


@login_required
def user_detail(request, pk: int):
    user = _managed_user(request, pk)
    reach = access.reach_of(request.user)
    return _user_page(
        request,
        user,
        reach=None if reach.manages_all_users else reach,
        can_change=access.may_change(request.user, user),
        own=user.pk == request.user.pk,
    )


@login_required
def my_access(request):
    return _user_page(request, request.user, reach=None, can_change=False, own=True)


def _changeable_user(request, pk: int) -> User:
    user = _managed_user(request, pk)
    if not access.may_change(request.user, user):
        raise PermissionDenied
    return user


def _after_change(request, user):
    """The user's page, or the list when the change took them out of the actor's reach."""
    if access.manageable_users(request.user).filter(pk=user.pk).exists():
        return redirect("users:detail", user.pk)
    return redirect("users:list")


def _saved_message(request, rows: list) -> None:
    if rows:
        messages.success(
            request,
            ngettext(
                "Access saved; %(n)s change recorded in the access log.",
                "Access saved; %(n)s changes recorded in the access log.",
                len(rows),
            )
            % {"n": len(rows)},
        )
    else:
        messages.info(request, _("Nothing changed."))


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk: int):
    user = _changeable_user(request, pk)
    reach = access.reach_of(request.user)
    form = AccessForm(
        request.POST or None, actor=request.user, initial=AccessForm.initial_for(user, reach)
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        ok, outcome = save_to_form(
            form,
            lambda: access.apply(
                request.user,
                user,
                form.wanted(),
                expected=form.cleaned_data["version"],
                source=AccessChange.Source.UI,
                reason=form.cleaned_data["reason"],
            ),
        )
        if ok:
            _saved_message(request, outcome)
            return _after_change(request, user)
        if isinstance(outcome, VersionConflict):
            user = outcome.current
            conflict = _conflict_rows(user, form.wanted(), reach)
    return render(
        request,
        "users/user_form.html",
        {
            "form": form,
            "person": user,
            "kept": _kept_elsewhere(user, reach),
            "conflict": conflict,
        },
    )


def _conflict_rows(user, wanted: access.Access, reach: access.Reach) -> list[dict]:
    """Where the access saved now (by someone else since the form was read) differs from
    the access asked for: role, and national scope, areas and municipalities as far as
    the viewer gives them (a coordinator for areas sees only their own municipalities)."""
    shown = {
        "role": True,
        "national_scope": reach.national_scope,
        "health_trusts": reach.trust_ids is None,
        "municipalities": True,
    }
    saved, typed = _described(access.Access.of(user), reach), _described(wanted, reach)
    return [
        {"label": AccessForm.base_fields[name].label, "saved": saved[name], "typed": typed[name]}
        for name, show in shown.items()
        if show and saved[name] != typed[name]
    ]


def _described(wanted: access.Access, reach: access.Reach) -> dict[str, str]:
    """An access in words, by AccessForm field; municipalities only those `reach` covers."""
    wanted = wanted.normalised()
    trusts = HealthTrust.objects.filter(pk__in=wanted.trust_ids).order_by("name")
    municipalities = Municipality.objects.filter(
        pk__in=[pk for pk in wanted.municipality_ids if reach.covers_municipality(pk)]
    ).order_by("number")
    return {
        "role": str(Role(wanted.role).label) if wanted.role else "",
        "national_scope": _("yes") if wanted.national_scope else _("no"),
        "health_trusts": ", ".join(t.name for t in trusts),
        "municipalities": ", ".join(f"{m.number} {m.name}" for m in municipalities),
    }


def _kept_elsewhere(user, reach: access.Reach) -> list[str]:
    """A contact's municipalities outside the actor's areas, which a change leaves alone."""
    if reach.municipality_ids is None:
        return []
    return [
        f"{m.number} {m.name}"
        for m in user.municipalities.order_by("number")
        if not reach.covers_municipality(m.pk)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def user_remove(request, pk: int):
    user = _changeable_user(request, pk)
    reach = access.reach_of(request.user)
    form = RemoveForm(request.POST or None, initial={"version": access.access_etag(user)})
    conflict = None
    if request.method == "POST" and form.is_valid():
        ok, outcome = save_to_form(
            form,
            lambda: access.remove(
                request.user,
                user,
                expected=form.cleaned_data["version"],
                source=AccessChange.Source.UI,
                reason=form.cleaned_data["reason"],
            ),
        )
        if ok:
            _saved_message(request, outcome)
            return _after_change(request, user)
        if isinstance(outcome, VersionConflict):
            user = outcome.current
            conflict = _conflict_rows(user, access.Access(), reach)
    places, more = _places(user, None if reach.manages_all_users else reach)
    return render(
        request,
        "users/user_remove.html",
        {
            "form": form,
            "person": user,
            "places": places,
            "more_places": more,
            "kept": _kept_elsewhere(user, reach),
            "conflict": conflict,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def invite(request):
    _reach(request)
    form = InviteForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        ok, invited = save_to_form(
            form,
            lambda: access.invite(
                request.user,
                email=email,
                name=form.cleaned_data["name"],
                wanted=form.wanted(),
                source=AccessChange.Source.UI,
            ),
        )
        if ok and invited.invitation is not None:
            link = request.build_absolute_uri(reverse("users:accept", args=[invited.token]))
            access.send_invitation(invited.invitation, invited.token, link)
            messages.success(
                request,
                _("Invitation sent to %(email)s; the link is valid until %(date)s.")
                % {
                    "email": email,
                    "date": timezone.localtime(invited.invitation.expires_at).strftime("%d.%m.%Y"),
                },
            )
            return redirect("users:invitations")
        if ok:
            messages.success(
                request,
                _("%(email)s already has an account: the access was given at once.")
                % {"email": email},
            )
            return _after_change(request, invited.user)
    return render(
        request,
        "users/invite.html",
        {"form": form, "invitation_days": settings.INVITATION_DAYS},
    )


@login_required
def invitations(request):
    _reach(request)
    rows = (
        access.visible_invitations(request.user)
        .select_related("created_by", "accepted_by", "revoked_by")
        .order_by("-created_at", "-id")
    )
    page = page_of(request, rows, PAGE_SIZE)
    prefetch_related_objects(page.object_list, "municipalities", "health_trusts")
    return render(
        request,
        "users/invitations.html",
        {"page": page, "query": query_without(request, "page"), "State": Invitation.State},
    )


@login_required
@require_POST
def withdraw(request, pk: int):
    _reach(request)
    invitation = get_object_or_404(access.visible_invitations(request.user), pk=pk)
    ok, _result = save_or_message(request, lambda: access.withdraw(request.user, invitation))
    if ok:
        messages.success(
            request, _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email}
        )
    return redirect("users:invitations")


def provider_login_url() -> str | None:
    """Where sign-in through the identity provider starts, when one is configured."""
    if not settings.OIDC_ISSUER:
        return None
    try:
        return reverse("oidc_authentication_init")
    except NoReverseMatch:
        return None


@require_http_methods(["GET", "POST"])
def accept(request, token: str):
    """The invitation's link: accept it to the account one is signed in with, or sign in
    with the identity provider, or create a local account. A link that cannot be used says
    why (404 unknown, 410 used, expired or withdrawn)."""
    invitation = access.invitation_for_token(token)
    if invitation is None:
        return render(request, "users/invitation_gone.html", {"state": None}, status=404)
    if invitation.state != Invitation.State.PENDING:
        return render(
            request, "users/invitation_gone.html", {"state": invitation.state}, status=410
        )
    context = {
        "invitation": invitation,
        "login_url": f"{reverse('login')}?{urlencode({'next': request.path})}",
    }
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                access.accept(invitation, request.user)
            except ValidationError as exc:
                context["refused"] = " ".join(exc.messages)
            else:
                return _welcome(request, invitation)
        return render(request, "users/accept.html", context)
    provider = provider_login_url()
    if request.method == "POST" and "provider" in request.POST and provider:
        request.session[access.SESSION_INVITATION] = token
        return redirect(provider)
    form = AcceptForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        user = _create_and_accept(form)
        if user is not None:
            request.session.pop(access.SESSION_INVITATION, None)
            login(request, user, backend=LOCAL_BACKEND)
            return _welcome(request, invitation)
    context.update(form=form, provider=provider, provider_name=settings.OIDC_PROVIDER_NAME)
    return render(request, "users/accept.html", context)


def _create_and_accept(form: AcceptForm) -> User | None:
    """The new local account with the invitation granted, or None (the refusal on the
    form, nothing created)."""
    try:
        with transaction.atomic():
            user = form.unsaved_user()
            user.set_password(form.cleaned_data["password1"])
            user.save()
            access.accept(form.invitation, user)
    except ValidationError as exc:
        form.add_error(None, exc)
        return None
    return user


def _welcome(request, invitation):
    messages.success(
        request,
        _("Welcome! You now have access as “%(role)s”.") % {"role": invitation.get_role_display()},
    )
    return redirect("actors:home")
