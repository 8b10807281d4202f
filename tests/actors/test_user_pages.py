"""User administration pages (actors/user_views.py): who sees and changes whom, the forms
refusing what the actor may not give (nothing changed, no log row), invitations by e-mail
with a working link, refused links, the accept form, the access log and the inactive flag.

Roles (tests/conftest.py): contact reports for 4601 Bergen, coord_area coordinates Helse
Bergen, coord_nat is a national coordinator. Assertions use status codes, URLs, context
and database state, not translated texts."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from actors import access
from actors.choices import Role
from actors.models import AccessChange, Catchment, HealthTrust, Invitation, Municipality, User
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BERGEN, TROMSO, OSLO = "4601", "5501", "0301"


def m(number: str) -> Municipality:
    return Municipality.objects.get(number=number)


def as_read(user, data: dict) -> dict:
    """A form's data as posted by someone who opened it just now (with its version)."""
    return {**data, "version": access.access_etag(user)}


def other_in_helse_bergen() -> Municipality:
    """A municipality of Helse Bergen's catchment besides Bergen."""
    return (
        Municipality.objects.filter(catchments__health_trust__code="helse-bergen")
        .exclude(number=BERGEN)
        .order_by("number")
        .first()
    )


@pytest.fixture
def people(users):
    """The role users and contacts inside (Bergen) and outside (Tromsø) Helse Bergen."""
    return {
        **users,
        "in": UserFactory(
            username="kontakt-bergen",
            email="bergen@example.no",
            role=Role.MUNICIPALITY_CONTACT,
            municipalities=[BERGEN],
        ),
        "out": UserFactory(
            username="kontakt-tromso",
            email="tromso@example.no",
            role=Role.MUNICIPALITY_CONTACT,
            municipalities=[TROMSO],
        ),
        "both": UserFactory(
            username="kontakt-begge",
            role=Role.MUNICIPALITY_CONTACT,
            municipalities=[BERGEN, TROMSO],
        ),
    }


def listed(response) -> set[int]:
    return {u.pk for u in response.context["page"].object_list}


def access_of(user) -> access.Access:
    return access.Access.of(User.objects.get(pk=user.pk))


def log_count(user) -> int:
    return AccessChange.objects.filter(user=user).count()


# Who sees whom ----------------------------------------------------------------------------


def test_area_coordinator_lists_only_contacts_in_their_areas(people):
    response = client_for(people["coord_area"]).get(reverse("users:list"))
    assert response.status_code == 200
    assert listed(response) == {people["in"].pk, people["both"].pk, people["contact"].pk}
    # Only their own municipalities are named, the rest counted.
    both = next(u for u in response.context["page"].object_list if u.pk == people["both"].pk)
    assert both.places == [f"{BERGEN} Bergen"] and both.more_places == 1


def test_national_coordinator_lists_everyone_and_who_waits(people):
    UserFactory(username="root", is_superuser=True)  # no role, but an administrator
    response = client_for(people["coord_nat"]).get(reverse("users:list"))
    assert listed(response) == set(User.objects.values_list("pk", flat=True))
    assert response.context["waiting"] == 1  # norole
    waiting = client_for(people["coord_nat"]).get(reverse("users:list"), {"role": "none"})
    assert listed(waiting) == {people["norole"].pk}


def test_the_list_filters_by_role_and_searches_name_and_email(people):
    client = client_for(people["admin"])
    by_role = client.get(reverse("users:list"), {"role": Role.DIRECTORATE})
    assert listed(by_role) == {people["directorate"].pk}
    by_email = client.get(reverse("users:list"), {"q": "tromso@example"})
    assert listed(by_email) == {people["out"].pk}


def test_area_coordinator_gets_404_for_users_outside_their_areas(people):
    client = client_for(people["coord_area"])
    for who in ("out", "directorate", "coord_nat", "norole"):
        pk = people[who].pk
        for name in ("users:detail", "users:edit", "users:remove"):
            assert client.get(reverse(name, args=[pk])).status_code == 404, (who, name)
    assert client.get(reverse("users:detail", args=[people["in"].pk])).status_code == 200


@pytest.mark.parametrize("role", ["contact", "directorate"])
def test_contacts_and_directorate_get_403_on_the_admin_pages(people, role):
    client = client_for(people[role])
    invitation = access.invite(
        people["coord_nat"],
        email="ny@example.no",
        name="",
        wanted=access.Access(Role.DIRECTORATE),
        source=AccessChange.Source.UI,
    ).invitation
    pk = people["in"].pk
    for url in (
        reverse("users:list"),
        reverse("users:invite"),
        reverse("users:invitations"),
        reverse("users:detail", args=[pk]),
        reverse("users:edit", args=[pk]),
        reverse("users:remove", args=[pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("users:withdraw", args=[invitation.pk])).status_code == 403
    assert client.post(reverse("users:edit", args=[pk]), {"role": "admin"}).status_code == 403
    assert client.get(reverse("users:me")).status_code == 200


@pytest.mark.parametrize("role", ["contact", "directorate", "coord_area"])
def test_everyone_who_sees_the_municipality_sees_who_reports_for_it(people, role):
    response = client_for(people[role]).get(m(BERGEN).get_absolute_url())
    assert response.status_code == 200
    shown = {c.pk for c in response.context["contacts"]}
    assert shown == {people["contact"].pk, people["in"].pk, people["both"].pk}
    link = reverse("users:detail", args=[people["in"].pk])
    assert (link in response.content.decode()) is (role == "coord_area")


# Changing access through the forms ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"role": Role.MUNICIPALITY_CONTACT, "municipalities": ["out"]}, "municipalities"),
        ({"role": Role.COORDINATOR, "health_trusts": ["helse-bergen"]}, "role"),
        ({"role": Role.COORDINATOR, "national_scope": "on"}, "role"),
        ({"role": Role.DIRECTORATE}, "role"),
        ({"role": Role.ADMIN}, "role"),
    ],
)
def test_area_coordinator_cannot_give_what_they_do_not_reach(people, data, field):
    target = people["in"]
    data = {
        **data,
        "municipalities": [m(TROMSO).pk] if data.get("municipalities") else [m(BERGEN).pk],
        "health_trusts": [
            HealthTrust.objects.get(code=c).pk for c in data.get("health_trusts", [])
        ],
    }
    before = access_of(target)
    response = client_for(people["coord_area"]).post(
        reverse("users:edit", args=[target.pk]), as_read(target, data)
    )
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert access_of(target) == before
    assert log_count(target) == 0
    # What was typed is kept.
    assert response.context["form"]["role"].value() == data["role"]


def test_area_coordinator_cannot_invite_outside_their_areas(people):
    response = client_for(people["coord_area"]).post(
        reverse("users:invite"),
        {
            "email": "ny@example.no",
            "name": "Ny Kontakt",
            "role": Role.MUNICIPALITY_CONTACT,
            "municipalities": [m(TROMSO).pk],
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get("municipalities")
    assert form["email"].value() == "ny@example.no"
    assert not Invitation.objects.exists()


def test_the_area_coordinators_form_offers_their_catchment_only(people):
    response = client_for(people["coord_area"]).get(reverse("users:edit", args=[people["both"].pk]))
    form = response.context["form"]
    offered = {x.pk for x in form.offered_municipalities}
    catchment = set(
        Catchment.objects.filter(health_trust__code="helse-bergen").values_list(
            "municipality_id", flat=True
        )
    )
    assert offered and offered <= catchment
    assert not form.shows_national_scope and not form.shows_health_trusts
    assert form.initial["municipalities"] == [m(BERGEN).pk]  # not Tromsø
    assert response.context["kept"] == [f"{TROMSO} Tromsø"]


def test_area_coordinator_changes_their_municipalities_and_keeps_the_others(people):
    target, extra = people["both"], other_in_helse_bergen()
    response = client_for(people["coord_area"]).post(
        reverse("users:edit", args=[target.pk]),
        as_read(
            target,
            {"role": Role.MUNICIPALITY_CONTACT, "municipalities": [extra.pk], "reason": "Bytte"},
        ),
    )
    assert response.status_code == 302
    assert set(target.municipalities.values_list("number", flat=True)) == {TROMSO, extra.number}
    kinds = set(AccessChange.objects.filter(user=target).values_list("kind", "reason"))
    assert kinds == {
        (AccessChange.Kind.MUNICIPALITY_ADDED, "Bytte"),
        (AccessChange.Kind.MUNICIPALITY_REMOVED, "Bytte"),
    }


def test_national_coordinator_grants_a_coordinator_and_a_directorate_user(people):
    client = client_for(people["coord_nat"])
    new = UserFactory(username="ny-koordinator")
    trust = HealthTrust.objects.get(code="helse-bergen")
    response = client.post(
        reverse("users:edit", args=[new.pk]),
        as_read(new, {"role": Role.COORDINATOR, "health_trusts": [trust.pk]}),
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "users:detail", args=[new.pk]
    )
    assert access_of(new) == access.Access(Role.COORDINATOR, trust_ids=frozenset({trust.pk}))
    other = UserFactory(username="ny-direktorat")
    assert (
        client.post(
            reverse("users:edit", args=[other.pk]), as_read(other, {"role": Role.DIRECTORATE})
        ).status_code
        == 302
    )
    assert User.objects.get(pk=other.pk).role == Role.DIRECTORATE
    # ...but never an administrator.
    refused = client.post(
        reverse("users:edit", args=[other.pk]), as_read(other, {"role": Role.ADMIN})
    )
    assert refused.context["form"].errors.get("role")
    assert User.objects.get(pk=other.pk).role == Role.DIRECTORATE


def test_two_saves_from_the_same_read_the_second_shows_the_conflict_and_keeps_the_typing(
    people,
):
    target, extra = people["in"], other_in_helse_bergen()
    first_client, second_client = client_for(people["coord_nat"]), client_for(people["admin"])
    url = reverse("users:edit", args=[target.pk])
    read = first_client.get(url).context["form"]["version"].value()
    assert read == second_client.get(url).context["form"]["version"].value()
    assert read == access.access_etag(target)
    first = first_client.post(
        url,
        {
            "role": Role.MUNICIPALITY_CONTACT,
            "municipalities": [m(BERGEN).pk, extra.pk],
            "reason": "Først",
            "version": read,
        },
    )
    assert first.status_code == 302
    typed = {
        "role": Role.MUNICIPALITY_CONTACT,
        "municipalities": [m(TROMSO).pk],
        "reason": "Sist",
        "version": read,
    }
    second = second_client.post(url, typed)
    assert second.status_code == 200
    now = access.access_etag(target)
    form = second.context["form"]
    with translation.override("nb"):
        message = gettext(
            "Someone else changed this user's access while you were editing it. Review "
            "the current access and save again."
        )
    assert form.non_field_errors() == [message]
    # What the other person saved, next to what was typed; what was typed is kept.
    [row] = second.context["conflict"]
    assert row["label"] == form.fields["municipalities"].label
    assert row["saved"] == f"{BERGEN} Bergen, {extra.number} {extra.name}"
    assert row["typed"] == f"{TROMSO} Tromsø"
    assert form["municipalities"].value() == [str(m(TROMSO).pk)]
    assert form["reason"].value() == "Sist"
    assert form["version"].value() == now
    assert 'id="conflict"' in second.content.decode()
    # Only the first change is saved and logged.
    assert access_of(target) == access.Access(
        Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({m(BERGEN).pk, extra.pk})
    )
    log = AccessChange.objects.filter(user=target)
    assert set(log.values_list("kind", "reason")) == {
        (AccessChange.Kind.MUNICIPALITY_ADDED, "Først")
    }
    # Saving again, over the newer access, is deliberate and goes through.
    again = second_client.post(url, {**typed, "version": form["version"].value()})
    assert again.status_code == 302
    assert access_of(target).municipality_ids == {m(TROMSO).pk}


def test_a_removal_over_a_stale_read_shows_the_conflict_and_removes_nothing(people):
    target = people["in"]
    url = reverse("users:remove", args=[target.pk])
    read = client_for(people["coord_area"]).get(url).context["form"]["version"].value()
    access.apply(
        people["coord_nat"],
        target,
        access.Access(Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({m(OSLO).pk})),
        expected=read,
        source=AccessChange.Source.UI,
    )
    client = client_for(people["coord_nat"])
    response = client.post(url, {"reason": "Sluttet", "version": read})
    assert response.status_code == 200 and response.context["conflict"]
    assert response.context["form"]["reason"].value() == "Sluttet"
    assert access_of(target).municipality_ids == {m(OSLO).pk}
    assert not AccessChange.objects.filter(user=target, reason="Sluttet").exists()
    # A form without the version (a crafted post) is no deliberate choice either.
    assert client.post(url, {"reason": "Sluttet"}).status_code == 200
    assert access_of(target).role == Role.MUNICIPALITY_CONTACT


def test_nobody_changes_their_own_access_nor_an_administrators(people):
    client = client_for(people["coord_nat"])
    assert client.get(reverse("users:edit", args=[people["coord_nat"].pk])).status_code == 403
    assert client.get(reverse("users:edit", args=[people["admin"].pk])).status_code == 403
    page = client.get(reverse("users:detail", args=[people["admin"].pk]))
    assert page.status_code == 200 and not page.context["can_change"]


def test_removing_a_contact_writes_the_log_and_the_page_shows_it(people):
    target = people["in"]
    client = client_for(people["coord_area"])
    response = client.post(
        reverse("users:remove", args=[target.pk]), as_read(target, {"reason": "Sluttet"})
    )
    assert response.status_code == 302 and response["Location"] == reverse("users:list")
    assert User.objects.get(pk=target.pk).role == ""
    # The coordinator no longer manages them; an administrator sees the log on their page.
    assert client.get(reverse("users:detail", args=[target.pk])).status_code == 404
    page = client_for(people["admin"]).get(reverse("users:detail", args=[target.pk]))
    rows = list(page.context["log_page"].object_list)
    assert {r.kind for r in rows} == {
        AccessChange.Kind.ROLE,
        AccessChange.Kind.MUNICIPALITY_REMOVED,
    }
    assert all(r.reason == "Sluttet" and r.changed_by == people["coord_area"] for r in rows)
    assert 'data-kind="role"' in page.content.decode()


def test_everyone_sees_their_own_access_and_log(people):
    access.apply(
        people["coord_area"],
        people["in"],
        access.Access(
            Role.MUNICIPALITY_CONTACT,
            municipality_ids=frozenset({m(BERGEN).pk, other_in_helse_bergen().pk}),
        ),
        expected=None,
        source=AccessChange.Source.UI,
    )
    response = client_for(people["in"]).get(reverse("users:me"))
    assert response.status_code == 200
    assert response.context["person"] == people["in"] and response.context["own"]
    assert len(response.context["log_page"].object_list) == 1
    assert not response.context["can_change"]


def test_an_area_coordinator_sees_only_their_municipalities_in_a_contacts_log(people):
    """A contact reporting for Bergen and Oslo: Helse Bergen's coordinator sees the Bergen
    rows and a line counting the Oslo ones; a national coordinator sees every row."""
    person = people["norole"]
    wanted = frozenset({m(BERGEN).pk, m(OSLO).pk})
    access.apply(
        people["coord_nat"],
        person,
        access.Access(Role.MUNICIPALITY_CONTACT, municipality_ids=wanted),
        expected=None,
        source=AccessChange.Source.UI,
    )
    url = reverse("users:detail", args=[person.pk])

    def log_of(viewer):
        page = client_for(people[viewer]).get(url)
        assert page.status_code == 200
        rows = {(r.kind, r.new_value) for r in page.context["log_page"].object_list}
        return page, rows

    added = AccessChange.Kind.MUNICIPALITY_ADDED
    bergen, oslo = (str(m(number)) for number in (BERGEN, OSLO))  # "0301 Oslo - Oslove"
    page, rows = log_of("coord_area")
    assert (added, bergen) in rows and (added, oslo) not in rows
    assert len(rows) == 2  # the role and Bergen
    assert page.context["log_hidden"] == 1
    assert 'data-log-hidden="1"' in page.content.decode()
    page, rows = log_of("coord_nat")
    assert {(added, bergen), (added, oslo)} <= rows
    assert len(rows) == log_count(person) == 3
    assert page.context["log_hidden"] == 0 and "data-log-hidden" not in page.content.decode()


def test_a_log_with_no_row_of_ones_own_says_so_rather_than_that_it_is_empty(people):
    """Bergen's contact (given access before the log, as the demo's are) who was then
    also given Oslo: Helse Bergen's coordinator sees no row of theirs and is told that,
    not that nothing was ever recorded."""
    person = people["in"]
    both = frozenset({m(BERGEN).pk, m(OSLO).pk})
    wanted = access.Access(Role.MUNICIPALITY_CONTACT, municipality_ids=both)
    access.apply(people["coord_nat"], person, wanted, expected=None, source="ui")
    page = client_for(people["coord_area"]).get(reverse("users:detail", args=[person.pk]))
    assert page.context["log_hidden"] == 1 and not page.context["log_page"].object_list
    with translation.override("nb"):
        assert gettext("No access changes concerning your areas.") in page.content.decode()
        assert gettext("No access changes recorded yet.") not in page.content.decode()


# Inactivity --------------------------------------------------------------------------------


def test_inactive_users_are_flagged_and_filtered(people, settings):
    settings.USER_INACTIVE_DAYS = 30
    now = timezone.now()
    User.objects.update(last_login=now, date_joined=now - datetime.timedelta(days=400))
    User.objects.filter(pk=people["in"].pk).update(last_login=now - datetime.timedelta(days=31))
    client = client_for(people["coord_area"])
    # force_login moved the coordinator's own last_login; the rows above stay as set.
    inactive = client.get(reverse("users:list"), {"inactive": "on"})
    assert listed(inactive) == {people["in"].pk}
    flagged = {u.pk for u in client.get(reverse("users:list")).context["page"] if u.inactive}
    assert flagged == {people["in"].pk}
    page = client.get(reverse("users:detail", args=[people["in"].pk]))
    assert page.context["inactive"] and "data-inactive" in page.content.decode()


# Invitations -------------------------------------------------------------------------------


def invite_link(mail) -> str:
    return re.search(r"https?://\S+/invitasjon/\S+/", mail.body).group(0)


def test_an_invitation_is_mailed_with_a_link_that_creates_the_account(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people["coord_area"]).post(
            reverse("users:invite"),
            {
                "email": "kari.nordmann@bergen.kommune.no",
                "name": "Kari Nordmann",
                "role": Role.MUNICIPALITY_CONTACT,
                "municipalities": [m(BERGEN).pk],
            },
        )
    assert response.status_code == 302 and response["Location"] == reverse("users:invitations")
    invitation = Invitation.objects.get()
    assert invitation.created_by == people["coord_area"]
    assert [mail.to for mail in mailoutbox] == [["kari.nordmann@bergen.kommune.no"]]
    path = invite_link(mailoutbox[0]).split("://", 1)[1].split("/", 1)[1]
    anonymous = client_for(None)
    page = anonymous.get(f"/{path}")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["username"] == "kari.nordmann"
    assert (form.initial["first_name"], form.initial["last_name"]) == ("Kari", "Nordmann")
    created = anonymous.post(
        f"/{path}",
        {
            "username": "kari.nordmann",
            "first_name": "Kari",
            "last_name": "Nordmann",
            "password1": "fjell-og-fjord-2026",
            "password2": "fjell-og-fjord-2026",
        },
    )
    assert created.status_code == 302 and created["Location"] == reverse("actors:home")
    user = User.objects.get(username="kari.nordmann")
    assert user.email == invitation.email and user.check_password("fjell-og-fjord-2026")
    assert access_of(user) == access.Access(
        Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({m(BERGEN).pk})
    )
    assert Invitation.objects.get().accepted_by == user
    assert anonymous.get(reverse("actors:home")).status_code == 200  # signed in
    # The link works once.
    assert client_for(None).get(f"/{path}").status_code == 410


def test_inviting_an_existing_account_gives_the_access_at_once(people, mailoutbox):
    waiting = UserFactory(username="venter", email="venter@example.no")
    response = client_for(people["coord_nat"]).post(
        reverse("users:invite"), {"email": "venter@example.no", "role": Role.DIRECTORATE}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("users:detail", args=[waiting.pk])
    assert User.objects.get(pk=waiting.pk).role == Role.DIRECTORATE
    assert not Invitation.objects.exists() and not mailoutbox


def invitation_for(actor, email="ny@example.no"):
    invited = access.invite(
        actor,
        email=email,
        name="Ny Person",
        wanted=access.Access(Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({m(BERGEN).pk})),
        source=AccessChange.Source.UI,
    )
    return invited.invitation, reverse("users:accept", args=[invited.token])


def test_expired_withdrawn_and_unknown_links_are_refused(people):
    expired, expired_url = invitation_for(people["coord_area"], "a@example.no")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    withdrawn, withdrawn_url = invitation_for(people["coord_area"], "b@example.no")
    client = client_for(people["coord_area"])
    assert client.post(reverse("users:withdraw", args=[withdrawn.pk])).status_code == 302
    assert Invitation.objects.get(pk=withdrawn.pk).state == Invitation.State.REVOKED
    anonymous = client_for(None)
    for url, state in ((expired_url, "expired"), (withdrawn_url, "revoked")):
        response = anonymous.get(url)
        assert response.status_code == 410 and response.context["state"] == state
        posted = anonymous.post(url, {"username": "x", "password1": "a", "password2": "a"})
        assert posted.status_code == 410
    assert anonymous.get("/invitasjon/ukjent-lenke/").status_code == 404
    assert anonymous.get("/invitasjon/" + "x" * 300 + "/").status_code == 404
    assert User.objects.filter(email__in=["a@example.no", "b@example.no"]).count() == 0


def test_the_invitation_list_shows_the_states(people):
    waiting, _url = invitation_for(people["coord_area"], "a@example.no")
    response = client_for(people["coord_area"]).get(reverse("users:invitations"))
    assert response.status_code == 200
    assert [i.pk for i in response.context["page"]] == [waiting.pk]
    assert 'data-state="pending"' in response.content.decode()
    assert reverse("users:withdraw", args=[waiting.pk]) in response.content.decode()
    # Another area's coordinator neither sees nor withdraws it.
    other = UserFactory(username="unn", role=Role.COORDINATOR, health_trusts=["unn"])
    client = client_for(other)
    assert list(client.get(reverse("users:invitations")).context["page"]) == []
    assert client.post(reverse("users:withdraw", args=[waiting.pk])).status_code == 404


def test_the_accept_form_keeps_what_was_typed(people):
    _invitation, url = invitation_for(people["coord_area"])
    typed = {
        "username": "ny.person",
        "first_name": "Ny",
        "last_name": "Person",
        "password1": "fjell-og-fjord-2026",
        "password2": "noe-annet-2026",
    }
    response = client_for(None).post(url, typed)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get("password2")
    assert form["username"].value() == "ny.person" and form["last_name"].value() == "Person"
    too_simple = client_for(None).post(url, {**typed, "password1": "12345", "password2": "12345"})
    assert too_simple.context["form"].errors.get("password1")
    taken = client_for(None).post(
        url, {**typed, "username": "contact", "password2": typed["password1"]}
    )
    assert taken.context["form"].errors.get("username")
    assert not User.objects.filter(username="ny.person").exists()


def test_a_signed_in_person_accepts_to_their_own_account(people):
    _invitation, url = invitation_for(people["coord_area"])
    client = client_for(people["norole"])
    page = client.get(url)  # open to people without a role
    assert page.status_code == 200 and "form" not in page.context
    response = client.post(url, {"accept": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("actors:home")
    assert User.objects.get(pk=people["norole"].pk).role == Role.MUNICIPALITY_CONTACT


def test_with_a_provider_the_link_offers_it_and_remembers_the_invitation(people, settings):
    settings.OIDC_ISSUER = "https://idp.example.no"
    _invitation, url = invitation_for(people["coord_area"])
    client = client_for(None)
    page = client.get(url)
    from actors.user_views import provider_login_url

    provider = provider_login_url()
    assert page.context["provider"] == provider
    if provider is None:  # the provider's sign-in is not routed yet
        return
    response = client.post(url, {"provider": "1"})
    assert response.status_code == 302 and response["Location"] == provider
    assert client.session[access.SESSION_INVITATION] == url.rstrip("/").rsplit("/", 1)[1]


def test_a_contact_without_a_municipality_is_refused_not_removed(people):
    """An area coordinator who ticks none of the contact's municipalities is asked to
    choose one (removing is the remove page's); inviting without one is refused too."""
    client = client_for(people["coord_area"])
    target = people["in"]
    response = client.post(
        reverse("users:edit", args=[target.pk]),
        as_read(target, {"role": Role.MUNICIPALITY_CONTACT}),
    )
    assert response.context["form"].errors.get("municipalities")
    assert access_of(target).role == Role.MUNICIPALITY_CONTACT and log_count(target) == 0
    invited = client.post(
        reverse("users:invite"), {"email": "ny@example.no", "role": Role.MUNICIPALITY_CONTACT}
    )
    assert invited.context["form"].errors.get("municipalities")
    assert not Invitation.objects.exists()
