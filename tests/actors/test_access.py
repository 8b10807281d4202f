"""The rules of actors/access.py: who may give whom which access, invitations, the identity
provider's groups, the access log (append-only) and the Django admin's changes, which are
logged like every other path."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DatabaseError, transaction
from django.forms import MultiWidget
from django.utils import timezone

from actors import access
from actors.access import Access
from actors.choices import Role
from actors.concurrency import VersionConflict
from actors.models import AccessChange, HealthTrust, Invitation, Municipality, User
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UI = AccessChange.Source.UI


def mids(*numbers):
    return frozenset(Municipality.objects.filter(number__in=numbers).values_list("pk", flat=True))


def tids(*codes):
    return frozenset(HealthTrust.objects.filter(code__in=codes).values_list("pk", flat=True))


def contact(*numbers):
    return Access(Role.MUNICIPALITY_CONTACT, municipality_ids=mids(*numbers))


def access_of(user) -> Access:
    return Access.of(User.objects.get(pk=user.pk))


def numbers_of(user):
    return set(user.municipalities.values_list("number", flat=True))


def bergen_area_neighbour():
    """A municipality in Helse Bergen's catchment other than Bergen."""
    return (
        Municipality.objects.filter(catchments__health_trust__code="helse-bergen")
        .exclude(number="4601")
        .order_by("number")[0]
        .number
    )


def refused(field, actor, user, wanted):
    with pytest.raises(ValidationError) as info:
        access.apply(actor, user, wanted, expected=None, source=UI)
    assert field in info.value.message_dict, info.value.message_dict
    return info.value


# --- who may grant what --------------------------------------------------------------------


@pytest.mark.parametrize(
    "wanted",
    [
        Access(Role.ADMIN),
        Access(Role.DIRECTORATE),
        Access(Role.COORDINATOR, national_scope=True),
        Access(Role.COORDINATOR, trust_ids=None),
        None,
    ],
    ids=["admin", "directorate", "national", "area", "contact"],
)
def test_an_administrator_grants_anything(wanted, users):
    if wanted is None:
        wanted = contact("5501")
    elif wanted.trust_ids is None:
        wanted = Access(Role.COORDINATOR, trust_ids=tids("unn"))
    person = UserFactory(username="ny")
    access.apply(users["admin"], person, wanted, expected=None, source=UI)
    assert access_of(person) == wanted.normalised()


def test_a_national_coordinator_grants_coordinators_directorate_and_contacts(users):
    nat = users["coord_nat"]
    person = UserFactory(username="ny")
    for wanted in (
        Access(Role.COORDINATOR, trust_ids=tids("unn")),
        Access(Role.COORDINATOR, national_scope=True),
        Access(Role.DIRECTORATE),
        contact("5501", "4601"),
    ):
        access.apply(nat, person, wanted, expected=None, source=UI)
        assert access_of(person) == wanted
    refused("role", nat, person, Access(Role.ADMIN))
    # ... and cannot change an administrator at all.
    refused("role", nat, users["admin"], Access(Role.DIRECTORATE))
    assert not access.may_change(nat, users["admin"])
    other_admin = UserFactory(username="admin2", role=Role.ADMIN)
    refused("role", nat, other_admin, Access())
    assert User.objects.get(pk=other_admin.pk).role == Role.ADMIN


def test_an_area_coordinator_grants_contacts_within_their_areas_only(users):
    coord = users["coord_area"]
    neighbour = bergen_area_neighbour()
    person = UserFactory(username="ny")
    access.apply(coord, person, contact("4601", neighbour), expected=None, source=UI)
    assert numbers_of(person) == {"4601", neighbour}
    error = refused("municipalities", coord, person, contact("4601", "5501"))
    assert "5501" in str(error)
    for role in (Role.COORDINATOR, Role.DIRECTORATE, Role.ADMIN):
        refused("role", coord, person, Access(role, national_scope=True, trust_ids=tids("unn")))
    assert numbers_of(person) == {"4601", neighbour}
    assert access.reach_of(coord).roles == {Role.MUNICIPALITY_CONTACT}


def test_an_area_coordinator_keeps_a_contacts_other_municipalities(users):
    coord = users["coord_area"]
    person = UserFactory(
        username="ny", role=Role.MUNICIPALITY_CONTACT, municipalities=["4601", "5501"]
    )
    neighbour = bergen_area_neighbour()
    # Sending back what the contact has (as the API shows it) is no attempt on Tromsø.
    assert access.apply(coord, person, contact("4601", "5501"), expected=None, source=UI) == []
    # Changing: Bergen swapped for the neighbour; Tromsø (not theirs) is kept.
    access.apply(coord, person, contact(neighbour), expected=None, source=UI)
    assert numbers_of(person) == {neighbour, "5501"}
    # Removing takes only theirs.
    access.remove(coord, person, expected=None, source=UI)
    person.refresh_from_db()
    assert numbers_of(person) == {"5501"} and person.role == Role.MUNICIPALITY_CONTACT
    # The rest is out of their reach now: the contact is no longer theirs to manage.
    assert not access.may_change(coord, person)
    assert not access.manageable_users(coord).filter(pk=person.pk).exists()


def test_an_area_coordinator_manages_only_the_contacts_of_their_municipalities(users):
    coord = users["coord_area"]
    far = UserFactory(username="nord", role=Role.MUNICIPALITY_CONTACT, municipalities=["5501"])
    assert set(access.manageable_users(coord)) == {users["contact"]}
    refused("role", coord, far, contact("4601"))
    refused("role", coord, users["coord_nat"], Access())


@pytest.mark.parametrize("role", ["admin", "coord_nat", "coord_area", "contact", "directorate"])
def test_nobody_changes_their_own_access(role, users):
    me = users[role]
    before = access_of(me)
    refused("role", me, me, Access())
    assert not access.may_change(me, me)
    assert access_of(me) == before


@pytest.mark.parametrize("role", ["contact", "directorate", "norole"])
def test_contacts_directorate_and_users_without_a_role_grant_nothing(role, users):
    actor = users[role]
    assert not access.can_manage_users(actor)
    assert not access.manageable_users(actor).exists()
    refused("role", actor, UserFactory(username="ny"), contact("4601"))
    with pytest.raises(ValidationError):
        access.invite(actor, email="a@b.no", name="", wanted=contact("4601"), source=UI)


# --- the access log ------------------------------------------------------------------------


def test_every_change_writes_who_when_from_to_and_source(users):
    person = UserFactory(username="ny")
    before = timezone.now()
    rows = access.apply(
        users["coord_nat"],
        person,
        Access(Role.COORDINATOR, trust_ids=tids("unn", "helse-bergen")),
        expected=None,
        source=AccessChange.Source.API,
        reason="Ny koordinator",
    )
    assert len(rows) == 3
    logged = list(AccessChange.objects.filter(user=person))
    assert {(r.kind, r.old_value, r.new_value) for r in logged} == {
        (AccessChange.Kind.ROLE, "", str(Role.COORDINATOR.label)),
        (AccessChange.Kind.AREA_ADDED, "", HealthTrust.objects.get(code="unn").name),
        (AccessChange.Kind.AREA_ADDED, "", HealthTrust.objects.get(code="helse-bergen").name),
    }
    for row in logged:
        assert row.changed_by == users["coord_nat"] and row.source == "api"
        assert row.reason == "Ny koordinator" and row.changed_at >= before
    # Nothing changed: nothing written.
    assert (
        access.apply(
            users["coord_nat"],
            person,
            Access(Role.COORDINATOR, trust_ids=tids("unn", "helse-bergen")),
            expected=None,
            source=UI,
        )
        == []
    )
    access.apply(
        users["coord_nat"],
        person,
        Access(Role.COORDINATOR, national_scope=True),
        expected=None,
        source=UI,
    )
    kinds = [r.kind for r in AccessChange.objects.filter(user=person, source=UI)]
    assert sorted(kinds) == sorted(
        [
            AccessChange.Kind.NATIONAL_SCOPE,
            AccessChange.Kind.AREA_REMOVED,
            AccessChange.Kind.AREA_REMOVED,
        ]
    )


def test_losing_the_role_revokes_api_keys_with_a_log_row(users):
    from rest_framework.authtoken.models import Token

    person = UserFactory(username="ny", role=Role.DIRECTORATE)
    Token.objects.create(user=person)
    access.remove(users["coord_nat"], person, expected=None, source=UI)
    assert not Token.objects.filter(user=person).exists()
    assert AccessChange.objects.filter(
        user=person, kind=AccessChange.Kind.TOKENS_REVOKED, changed_by=users["coord_nat"]
    ).exists()


def test_the_access_etag_is_the_access_and_changes_with_each_part_of_it(users):
    person = UserFactory(username="ny")
    coordinator = Access(Role.COORDINATOR, trust_ids=tids("unn", "helse-bergen"))
    access.apply(users["admin"], person, coordinator, expected=None, source=UI)
    etag = access.access_etag(person)
    assert etag == Access(Role.COORDINATOR, trust_ids=tids("helse-bergen", "unn")).etag
    others = {
        Access(Role.COORDINATOR, trust_ids=tids("unn")).etag,
        Access(Role.COORDINATOR, national_scope=True).etag,
        contact("4601").etag,
        contact("4601", "5501").etag,
        Access(Role.DIRECTORATE).etag,
        Access().etag,
    }
    assert etag not in others and len(others) == 6


def test_a_change_over_a_stale_read_is_refused_and_writes_nothing(users):
    person = UserFactory(username="ny", role=Role.MUNICIPALITY_CONTACT, municipalities=["4601"])
    read = access.access_etag(person)
    access.apply(users["coord_nat"], person, contact("4601", "5501"), expected=read, source=UI)
    assert numbers_of(person) == {"4601", "5501"} and read != access.access_etag(person)
    for change in (
        lambda: access.apply(
            users["admin"], person, Access(Role.DIRECTORATE), expected=read, source=UI
        ),
        lambda: access.remove(users["admin"], person, expected=read, source=UI),
    ):
        with pytest.raises(VersionConflict) as info:
            change()
        assert info.value.expected_version == read
        assert info.value.current_version == access.access_etag(person)
    assert access_of(person) == contact("4601", "5501")
    assert AccessChange.objects.filter(user=person).count() == 1  # the first change only
    # Without an expectation (invitations, the admin, sign-in) nothing is compared.
    access.remove(users["admin"], person, expected=None, source=UI)
    assert access_of(person) == Access()


def test_the_access_log_refuses_update_and_delete(users):
    person = UserFactory(username="ny")
    access.apply(users["admin"], person, Access(Role.DIRECTORATE), expected=None, source=UI)
    row = AccessChange.objects.get(user=person)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessChange.objects.filter(pk=row.pk).update(new_value="Administrator")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessChange.objects.filter(pk=row.pk).delete()
    assert AccessChange.objects.get(pk=row.pk).new_value == row.new_value


def test_an_area_coordinator_reads_only_their_part_of_a_users_access_log(users):
    """A contact who was a coordinator (UNN and Helse Bergen) and now reports for Bergen
    and Oslo: Helse Bergen's coordinator reads the rows about Bergen, Helse Bergen and the
    role, not those about Oslo or UNN; a national coordinator and the user read them all."""
    person = UserFactory(username="ny")
    both_areas = Access(Role.COORDINATOR, trust_ids=tids("unn", "helse-bergen"))
    access.apply(users["admin"], person, both_areas, expected=None, source=UI)
    access.apply(users["admin"], person, contact("4601", "0301"), expected=None, source=UI)
    access.apply(
        users["coord_nat"], person, contact("4601", "0301", "5501"), expected=None, source=UI
    )
    bergen = Municipality.objects.get(number="4601")
    # A row written when Bergen had another number and name: it is still Bergen's.
    bergen.versions.create(
        valid_from=datetime.date(1972, 1, 1),
        valid_to=datetime.date(1972, 1, 2),
        number="1299",
        name="Gamle Bergen",
        county=bergen.county,
    )
    AccessChange.objects.create(
        user=person, kind=AccessChange.Kind.MUNICIPALITY_REMOVED, old_value="1299 Gamle Bergen"
    )
    every = set(AccessChange.objects.filter(user=person).values_list("pk", flat=True))

    def seen(actor):
        return list(
            access.visible_access_log(actor, person).values_list("kind", "old_value", "new_value")
        )

    Kind = AccessChange.Kind
    unn, helse_bergen = (HealthTrust.objects.get(code=c).name for c in ("unn", "helse-bergen"))
    coordinator = users["coord_area"]
    assert sorted(seen(coordinator)) == sorted(
        [
            (Kind.ROLE, "", str(Role.COORDINATOR.label)),
            (Kind.AREA_ADDED, "", helse_bergen),
            (Kind.ROLE, str(Role.COORDINATOR.label), str(Role.MUNICIPALITY_CONTACT.label)),
            (Kind.AREA_REMOVED, helse_bergen, ""),
            (Kind.MUNICIPALITY_ADDED, "", "4601 Bergen"),
            (Kind.MUNICIPALITY_REMOVED, "1299 Gamle Bergen", ""),
        ]
    )
    hidden = {(Kind.AREA_ADDED, "", unn), (Kind.AREA_REMOVED, unn, "")}
    assert hidden.isdisjoint(seen(coordinator))
    assert access.hidden_access_log_count(coordinator, person) == 2 + 2  # UNN, Oslo, Tromsø
    for actor in (users["coord_nat"], users["admin"], person):
        assert set(access.visible_access_log(actor, person).values_list("pk", flat=True)) == every
        assert access.hidden_access_log_count(actor, person) == 0
    assert not access.visible_access_log(users["directorate"], person).exists()


# --- invitations ---------------------------------------------------------------------------


def invite(actor, wanted, email="ny@bergen.kommune.no"):
    return access.invite(actor, email=email, name="Ny", wanted=wanted, source=UI)


def test_an_invitation_is_granted_on_acceptance_and_merged_with_existing_access(users):
    coord = users["coord_area"]
    neighbour = bergen_area_neighbour()
    invited = invite(coord, contact(neighbour))
    assert invited.invitation.state == Invitation.State.PENDING and invited.token
    assert invited.invitation.token_hash != invited.token
    assert access.invitation_for_token(invited.token) == invited.invitation
    assert access.invitation_for_token(invited.token + "x") is None
    # The person who follows the link already reports for Tromsø (another e-mail address).
    person = UserFactory(username="ny", role=Role.MUNICIPALITY_CONTACT, municipalities=["5501"])
    rows = access.accept(invited.invitation, person)
    assert numbers_of(person) == {"5501", neighbour}
    assert rows[0].kind == AccessChange.Kind.INVITATION_ACCEPTED
    assert rows[0].changed_by == coord and rows[0].source == AccessChange.Source.INVITATION
    invited.invitation.refresh_from_db()
    assert invited.invitation.state == Invitation.State.ACCEPTED
    assert invited.invitation.accepted_by == person
    with pytest.raises(ValidationError) as info:
        access.accept(invited.invitation, UserFactory(username="to"))
    assert info.value.code == "invitation_used"


def test_an_expired_invitation_cannot_be_accepted(users):
    invited = invite(users["coord_area"], contact("4601"))
    expected = invited.invitation.created_at + datetime.timedelta(days=14)
    assert abs(invited.invitation.expires_at - expected) < datetime.timedelta(seconds=1)
    Invitation.objects.filter(pk=invited.invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    invited.invitation.refresh_from_db()
    assert invited.invitation.state == Invitation.State.EXPIRED
    assert not access.pending_invitations().exists()
    with pytest.raises(ValidationError):
        access.accept(invited.invitation, UserFactory(username="ny"))
    with pytest.raises(ValidationError):
        access.withdraw(users["coord_area"], invited.invitation)


def test_a_withdrawn_invitation_cannot_be_accepted(users):
    invited = invite(users["coord_area"], contact("4601"))
    far = invite(users["coord_nat"], contact("5501"), email="nord@tromso.kommune.no")
    with pytest.raises(ValidationError):
        access.withdraw(users["coord_area"], far.invitation)  # not theirs to see
    assert set(access.visible_invitations(users["coord_area"])) == {invited.invitation}
    assert not access.visible_invitations(users["contact"]).exists()
    access.withdraw(users["coord_area"], invited.invitation)
    invited.invitation.refresh_from_db()
    assert invited.invitation.state == Invitation.State.REVOKED
    person = UserFactory(username="ny")
    with pytest.raises(ValidationError):
        access.accept(invited.invitation, person)
    assert access_of(person).is_empty


def test_acceptance_rechecks_the_inviters_reach(users):
    coord = users["coord_area"]
    invited = invite(coord, contact("4601"))
    # The coordinator moves to UNN before the link is followed.
    access.apply(
        users["admin"],
        coord,
        Access(Role.COORDINATOR, trust_ids=tids("unn")),
        expected=None,
        source=UI,
    )
    person = UserFactory(username="ny")
    with pytest.raises(ValidationError) as info:
        access.accept(invited.invitation, person)
    assert info.value.code == "inviter_lost_reach"
    assert access_of(person).is_empty
    assert invited.invitation.state == Invitation.State.PENDING


def test_an_invitation_refused_beyond_the_inviters_reach(users):
    with pytest.raises(ValidationError) as info:
        invite(users["coord_area"], contact("5501"))
    assert "municipalities" in info.value.message_dict
    with pytest.raises(ValidationError):
        invite(users["coord_nat"], Access(Role.ADMIN))
    assert not Invitation.objects.exists()


def test_an_existing_address_is_granted_at_once(users):
    neighbour = bergen_area_neighbour()
    person = UserFactory(
        username="finnes",
        email="finnes@bergen.kommune.no",
        role=Role.MUNICIPALITY_CONTACT,
        municipalities=[neighbour],
    )
    done = invite(users["coord_area"], contact("4601"), email=" Finnes@Bergen.kommune.no ")
    assert done.invitation is None and done.user == person and done.changes
    assert numbers_of(person) == {"4601", neighbour}
    assert not Invitation.objects.exists()
    # A different role for an account that has one is a change on their page, not an invitation.
    with pytest.raises(ValidationError) as info:
        invite(users["coord_nat"], Access(Role.DIRECTORATE), email="finnes@bergen.kommune.no")
    assert "email" in info.value.message_dict


def test_invitations_waiting_for_an_address_are_granted_at_sign_in(users):
    invite(users["coord_area"], contact("4601"))
    person = UserFactory(username="ny", email="NY@bergen.kommune.no")
    rows = access.accept_waiting_for(person)
    assert rows and numbers_of(person) == {"4601"}
    assert access.accept_waiting_for(person) == []


# --- the identity provider's groups --------------------------------------------------------


def test_group_mapping_is_parsed_and_refused_when_malformed(settings):
    rules = access.group_roles("hdir-ansatte=directorate@983544622; nhn-koord=national_coordinator")
    assert [(r.group, r.access.role, r.orgnr) for r in rules] == [
        ("hdir-ansatte", Role.DIRECTORATE, "983544622"),
        ("nhn-koord", Role.COORDINATOR, ""),
    ]
    assert rules[1].access.national_scope
    assert access.group_roles("") == []
    for bad in (
        "hdir=admin",
        "hdir",
        "=directorate",
        "hdir=directorate@12345",
        "x=directorate@abcdefghi",
    ):
        with pytest.raises(ImproperlyConfigured):
            access.group_roles(bad)


@pytest.fixture
def mapped(settings):
    settings.OIDC_GROUP_ROLES = "hdir=directorate@983544622;nhn=national_coordinator"


def test_a_group_grants_its_role_when_the_orgnr_matches(mapped):
    person = UserFactory(username="ny")
    assert access.sync_group_role(person, ["hdir"], "999999999") == []
    assert access_of(person).is_empty
    rule, refused_because = access.access_from_groups(["hdir"], "999999999")
    assert rule is None and "983544622" in refused_because[0]
    rows = access.sync_group_role(person, ["andre", "hdir"], "983544622")
    person.refresh_from_db()
    assert person.role == Role.DIRECTORATE and person.role_from_group == "hdir"
    assert rows[0].source == AccessChange.Source.IDP and rows[0].changed_by is None


def test_a_group_role_follows_the_groups_and_goes_when_the_group_does(mapped):
    from rest_framework.authtoken.models import Token

    person = UserFactory(username="ny")
    access.sync_group_role(person, ["nhn"], "")
    person.refresh_from_db()
    assert access_of(person) == Access(Role.COORDINATOR, national_scope=True)
    access.sync_group_role(person, ["hdir"], "983544622")
    person.refresh_from_db()
    assert person.role == Role.DIRECTORATE and person.role_from_group == "hdir"
    Token.objects.create(user=person)
    rows = access.sync_group_role(person, [], "983544622")
    person.refresh_from_db()
    assert person.role == "" and person.role_from_group == ""
    assert not Token.objects.filter(user=person).exists()
    assert "hdir" in rows[0].reason


def test_a_role_granted_in_the_application_is_kept_at_sign_in(mapped, users):
    person = UserFactory(username="ny", role=Role.MUNICIPALITY_CONTACT, municipalities=["4601"])
    assert access.sync_group_role(person, ["nhn"], "") == []
    assert access.sync_group_role(person, [], "") == []
    person.refresh_from_db()
    assert person.role == Role.MUNICIPALITY_CONTACT and person.role_from_group == ""


# --- inactivity ----------------------------------------------------------------------------


def test_inactive_users_are_those_not_signed_in_for_the_configured_days(settings):
    settings.USER_INACTIVE_DAYS = 30
    now = timezone.now()
    recent = UserFactory(username="ny", last_login=now - datetime.timedelta(days=2))
    old = UserFactory(username="gammel", last_login=now - datetime.timedelta(days=31))
    never = UserFactory(username="aldri", date_joined=now - datetime.timedelta(days=40))
    fresh = UserFactory(username="fersk", date_joined=now)
    assert [access.is_inactive(u) for u in (recent, old, never, fresh)] == [
        False,
        True,
        True,
        False,
    ]
    assert set(User.objects.filter(access.inactive_q())) == {old, never}


# --- the Django admin ----------------------------------------------------------------------


def admin_form_data(response) -> dict:
    """What the admin's change form would post back unchanged (main form and inlines)."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for bound in form:
            if bound.field.disabled:
                continue
            value = bound.value()
            if isinstance(bound.field.widget, MultiWidget):
                for i, part in enumerate(bound.field.widget.decompress(value)):
                    data[f"{bound.html_name}_{i}"] = "" if part is None else part
            elif isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            elif value is not None:
                data[bound.html_name] = value
    return data


def test_access_changed_in_the_django_admin_is_logged(users):
    person = UserFactory(username="ny", role=Role.MUNICIPALITY_CONTACT, municipalities=["4601"])
    client = client_for(users["admin"])
    url = f"/admin/actors/user/{person.pk}/change/"
    data = admin_form_data(client.get(url))
    data.update(role=Role.COORDINATOR, health_trusts=list(tids("unn")), municipalities=[])
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert access_of(person) == Access(Role.COORDINATOR, trust_ids=tids("unn"))
    rows = AccessChange.objects.filter(user=person)
    assert {r.kind for r in rows} == {
        AccessChange.Kind.ROLE,
        AccessChange.Kind.AREA_ADDED,
        AccessChange.Kind.MUNICIPALITY_REMOVED,
    }
    assert {(r.source, r.changed_by_id) for r in rows} == {("admin", users["admin"].pk)}
    # A save that changes no access writes nothing; the log shows under the user.
    page = client.get(url)
    data = admin_form_data(page)
    data["first_name"] = "Nytt navn"
    assert client.post(url, data).status_code == 302
    assert AccessChange.objects.filter(user=person).count() == rows.count() == 3
    # The log and the invitations are read only in the admin.
    log = client.get("/admin/actors/accesschange/")
    assert log.status_code == 200
    row = rows.first()
    assert client.get(f"/admin/actors/accesschange/{row.pk}/change/").status_code == 200
    assert client.post(f"/admin/actors/accesschange/{row.pk}/delete/").status_code == 403
    assert client.get("/admin/actors/accesschange/add/").status_code == 403
    assert client.get("/admin/actors/invitation/").status_code == 200
    assert client.get("/admin/actors/invitation/add/").status_code == 403


def test_removing_the_role_in_the_django_admin_revokes_api_keys(users):
    from rest_framework.authtoken.models import Token

    person = UserFactory(username="ny", role=Role.DIRECTORATE)
    Token.objects.create(user=person)
    client = client_for(users["admin"])
    url = f"/admin/actors/user/{person.pk}/change/"
    data = admin_form_data(client.get(url))
    data["role"] = ""
    assert client.post(url, data).status_code == 302
    assert not Token.objects.filter(user=person).exists()
    assert AccessChange.objects.filter(
        user=person, kind=AccessChange.Kind.TOKENS_REVOKED, source="admin"
    ).exists()
