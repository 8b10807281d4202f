"""The user-administration API (actors/api/users.py): who sees whom, access changes through
actors.access with field errors, removal that stops API keys at once, the access log and
invitations whose token never leaves the e-mail."""

import datetime
import re

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from actors import access
from actors.choices import Role
from actors.models import AccessChange, HealthTrust, Invitation, Municipality, User
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
INVITATIONS = "/api/v1/invitations/"


def m(number):
    return Municipality.objects.get(number=number)


def contact_for(*numbers, username="kari", **extra):
    return UserFactory(
        username=username, role=Role.MUNICIPALITY_CONTACT, municipalities=list(numbers), **extra
    )


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


# --- who sees whom ---------------------------------------------------------------------


def test_the_list_is_the_users_the_caller_may_manage(users):
    bergen = contact_for("4601")
    tromso = contact_for("5501", username="tromso")
    everyone = {
        u["username"] for u in api_client_for(users["coord_nat"]).get(USERS).data["results"]
    }
    assert {"kari", "tromso", "admin", "contact"} <= everyone
    area = api_client_for(users["coord_area"]).get(USERS)
    assert area.status_code == 200
    assert {u["id"] for u in area.data["results"]} == {bergen.pk, users["contact"].pk}
    assert api_client_for(users["coord_area"]).get(f"{USERS}{tromso.pk}/").status_code == 404
    row = api_client_for(users["coord_area"]).get(f"{USERS}{bergen.pk}/").data
    assert row["role"] == Role.MUNICIPALITY_CONTACT
    assert row["municipalities"] == [{"id": m("4601").pk, "number": "4601", "name": "Bergen"}]
    assert row["health_trusts"] == [] and row["inactive"] is False
    assert row["role_from_group"] == "" and "last_login" in row


@pytest.mark.parametrize("role", ["norole", "contact", "directorate"])
def test_roles_that_manage_nobody_get_403_but_see_themselves(role, make_user):
    user = make_user(role)
    client = api_client_for(user)
    assert client.get(USERS).status_code == 403
    assert client.get(f"{USERS}{user.pk}/").status_code == 403
    assert client.get(INVITATIONS).status_code == 403
    me = client.get(f"{USERS}me/")
    assert me.status_code == 200
    assert me.data["username"] == role and me.data["role"] == ROLE_OF[role]


ROLE_OF = {"norole": "", "contact": Role.MUNICIPALITY_CONTACT, "directorate": Role.DIRECTORATE}


def test_anonymous_calls_get_401():
    assert APIClient().get(USERS).status_code == 401
    assert APIClient().get(f"{USERS}me/").status_code == 401


def test_filters_role_inactive_and_search(users):
    old = contact_for("4601", username="gammel", email="ola@bergen.kommune.no")
    User.objects.filter(pk=old.pk).update(last_login=timezone.now() - datetime.timedelta(days=400))
    client = api_client_for(users["admin"])

    def names(**params):
        return {u["username"] for u in client.get(USERS, params).data["results"]}

    assert names(role="municipality_contact") == {"gammel", "contact"}
    assert names(role="none") == {"norole"}
    assert names(inactive="true", role="municipality_contact") == {"gammel"}
    assert "gammel" not in names(inactive="false")
    assert names(q="bergen.kommune") == {"gammel"}
    row = client.get(f"{USERS}{old.pk}/").data
    assert row["inactive"] is True


# --- changing access ---------------------------------------------------------------------


def if_match(user) -> dict:
    """The If-Match of a caller who read the user just now."""
    return {"HTTP_IF_MATCH": f'"{access.access_etag(user)}"'}


def put_access(client, user, **body):
    return client.put(f"{USERS}{user.pk}/access/", body, format="json", **if_match(user))


def post_remove(client, user, **body):
    return client.post(f"{USERS}{user.pk}/remove/", body, format="json", **if_match(user))


def test_a_coordinator_grants_their_municipalities_with_the_log(users):
    person = UserFactory(username="ny")
    client = api_client_for(users["coord_area"])
    # A user without a role is not listed for them, but can be given access.
    response = put_access(
        client,
        person,
        role="municipality_contact",
        municipalities=[m("4601").pk],
        reason="Ny kontakt",
    )
    assert response.status_code == 404  # only their contacts are reachable through the API
    answer = put_access(
        api_client_for(users["coord_nat"]),
        person,
        role="municipality_contact",
        municipalities=[m("4601").pk],
        reason="Ny kontakt",
    )
    assert answer.status_code == 200, answer.data
    assert answer.data["role"] == Role.MUNICIPALITY_CONTACT
    rows = AccessChange.objects.filter(user=person)
    assert {(r.kind, r.source, r.changed_by_id, r.reason) for r in rows} == {
        (AccessChange.Kind.ROLE, "api", users["coord_nat"].pk, "Ny kontakt"),
        (AccessChange.Kind.MUNICIPALITY_ADDED, "api", users["coord_nat"].pk, "Ny kontakt"),
    }
    # Now the area coordinator reaches them and adds another municipality of Helse Bergen.
    askoy = Municipality.objects.filter(catchments__health_trust__code="helse-bergen").exclude(
        number="4601"
    )[0]
    added = put_access(
        client, person, role="municipality_contact", municipalities=[m("4601").pk, askoy.pk]
    )
    assert added.status_code == 200, added.data
    assert set(person.municipalities.values_list("number", flat=True)) == {"4601", askoy.number}


def test_a_coordinator_cannot_grant_outside_their_areas_or_other_roles(users):
    person = contact_for("4601")
    client = api_client_for(users["coord_area"])
    outside = put_access(client, person, role="municipality_contact", municipalities=[m("5501").pk])
    assert outside.status_code == 400
    assert "municipalities" in outside.data
    for role, field in [
        ("coordinator", "role"),
        ("directorate", "role"),
        ("admin", "role"),
    ]:
        refused = put_access(client, person, role=role, health_trusts=[], national_scope=True)
        assert refused.status_code == 400 and field in refused.data, role
    assert set(person.municipalities.values_list("number", flat=True)) == {"4601"}
    assert not AccessChange.objects.filter(user=person).exists()


def test_a_national_coordinator_cannot_make_admins_nor_change_them_nor_themselves(users):
    client = api_client_for(users["coord_nat"])
    person = contact_for("4601")
    refused = put_access(client, person, role="admin")
    assert refused.status_code == 400 and "role" in refused.data
    other_admin = UserFactory(username="admin2", role=Role.ADMIN)
    assert put_access(client, other_admin, role="directorate").status_code == 400
    own = put_access(client, users["coord_nat"], role="directorate")
    assert own.status_code == 400 and "role" in own.data
    assert User.objects.get(pk=other_admin.pk).role == Role.ADMIN
    made = put_access(
        client, person, role="coordinator", health_trusts=[HealthTrust.objects.get(code="unn").pk]
    )
    assert made.status_code == 200, made.data
    assert [t["code"] for t in made.data["health_trusts"]] == ["unn"]


def test_unknown_ids_and_missing_municipalities_are_field_errors(users):
    client = api_client_for(users["admin"])
    person = contact_for("4601")
    unknown = put_access(client, person, role="municipality_contact", municipalities=[2**31 - 1])
    assert unknown.status_code == 400 and "municipalities" in unknown.data
    empty = put_access(client, person, role="municipality_contact", municipalities=[])
    assert empty.status_code == 400 and "municipalities" in empty.data
    assert put_access(client, person, role="nonsense").status_code == 400


def test_two_changes_from_the_same_read_the_second_gets_412_and_changes_nothing(users):
    person = contact_for("4601")
    url = f"{USERS}{person.pk}/"
    first_client, second_client = api_client_for(users["coord_nat"]), api_client_for(users["admin"])
    read = first_client.get(url)
    etag = read["ETag"]
    assert etag == f'"{access.access_etag(person)}"' == second_client.get(url)["ETag"]
    both = [m("4601").pk, m("5501").pk]
    first = first_client.put(
        f"{url}access/",
        {"role": "municipality_contact", "municipalities": both, "reason": "Først"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert first.status_code == 200, first.data
    assert first["ETag"] == f'"{access.access_etag(person)}"' != etag
    second = second_client.put(
        f"{url}access/",
        {"role": "directorate", "reason": "Sist"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert second.status_code == 412, second.data
    assert f'"{second.data["current_version"]}"' == first["ETag"]
    removal = second_client.post(f"{url}remove/", {}, format="json", HTTP_IF_MATCH=etag)
    assert removal.status_code == 412
    person.refresh_from_db()
    assert person.role == Role.MUNICIPALITY_CONTACT
    assert set(person.municipalities.values_list("pk", flat=True)) == set(both)
    log = AccessChange.objects.filter(user=person)
    assert {(r.kind, r.reason) for r in log} == {(AccessChange.Kind.MUNICIPALITY_ADDED, "Først")}
    # Read again, the change is a deliberate one over the newer access.
    again = second_client.post(f"{url}remove/", {}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert again.status_code == 200 and again.data["role"] == ""
    assert again["ETag"] == f'"{access.access_etag(person)}"'


@pytest.mark.parametrize("method, path", [("put", "access/"), ("post", "remove/")])
def test_a_change_without_if_match_gets_428_and_changes_nothing(method, path, users):
    person = contact_for("4601")
    client = api_client_for(users["coord_nat"])
    body = {"role": "directorate"} if path == "access/" else {}
    response = getattr(client, method)(f"{USERS}{person.pk}/{path}", body, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.data["detail"]
    person.refresh_from_db()
    assert person.role == Role.MUNICIPALITY_CONTACT
    assert not AccessChange.objects.filter(user=person).exists()


# --- removal and API keys ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["api", "service"])
def test_a_removed_users_api_key_stops_working_at_once(path, users):
    person = contact_for("4601")
    client = token_client(person)
    assert client.get("/api/v1/organisations/").status_code == 200
    if path == "api":
        response = post_remove(api_client_for(users["coord_area"]), person, reason="Sluttet")
        assert response.status_code == 200, response.data
        assert response.data["role"] == ""
    else:
        access.remove(
            users["coord_area"],
            person,
            expected=None,
            source=AccessChange.Source.UI,
            reason="Sluttet",
        )
    assert client.get("/api/v1/organisations/").status_code == 401
    assert client.get(f"{USERS}me/").status_code == 401
    assert not Token.objects.filter(user=person).exists()
    kinds = set(AccessChange.objects.filter(user=person).values_list("kind", flat=True))
    assert AccessChange.Kind.TOKENS_REVOKED in kinds and AccessChange.Kind.ROLE in kinds


def test_a_reduced_contact_sees_only_the_rest_on_the_next_call(users):
    in_bergen = OrganisationFactory(municipality__number="4601")
    in_tromso = OrganisationFactory(municipality__number="5501")
    person = contact_for("4601", "5501")
    client = token_client(person)

    def seen():
        return {o["id"] for o in client.get("/api/v1/organisations/").data["results"]}

    assert {in_bergen.pk, in_tromso.pk} <= seen()
    # The area coordinator of Helse Bergen removes what is theirs: Bergen; Tromsø stays.
    response = post_remove(api_client_for(users["coord_area"]), person)
    assert response.status_code == 200, response.data
    assert [x["number"] for x in response.data["municipalities"]] == ["5501"]
    assert in_tromso.pk in seen() and in_bergen.pk not in seen()
    assert Token.objects.filter(user=person).exists()  # still a contact: the key works


def test_the_access_log_is_a_feed_of_the_users_changes(users):
    person = contact_for("4601")
    access.apply(
        users["admin"],
        person,
        access.Access(Role.DIRECTORATE),
        expected=None,
        source=AccessChange.Source.UI,
        reason="Bytter jobb",
    )
    response = api_client_for(users["coord_nat"]).get(f"{USERS}{person.pk}/access-log/")
    assert response.status_code == 200
    assert "count" not in response.data
    rows = response.data["results"]
    assert {r["kind"] for r in rows} == {"role", "municipality_removed"}
    role_row = next(r for r in rows if r["kind"] == "role")
    assert role_row["source"] == "ui" and role_row["changed_by"] == "admin"
    assert role_row["reason"] == "Bytter jobb"
    far = contact_for("5501", username="nord")
    assert (
        api_client_for(users["coord_area"]).get(f"{USERS}{far.pk}/access-log/").status_code == 404
    )


def test_an_area_coordinator_gets_only_their_municipalities_in_a_contacts_log(users):
    """The same rows as the user page (actors.access.visible_access_log), and `hidden`."""
    person = UserFactory(username="kari")
    access.apply(
        users["coord_nat"],
        person,
        access.Access(
            Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({m("4601").pk, m("0301").pk})
        ),
        expected=None,
        source=AccessChange.Source.UI,
    )
    url = f"{USERS}{person.pk}/access-log/"
    area = api_client_for(users["coord_area"]).get(url)
    assert area.status_code == 200
    places = {r["new_value"] for r in area.data["results"] if r["kind"] == "municipality_added"}
    assert places == {"4601 Bergen"}
    assert len(area.data["results"]) == 2 and area.data["hidden"] == 1
    national = api_client_for(users["coord_nat"]).get(url).data
    assert {r["new_value"] for r in national["results"]} >= {"4601 Bergen", str(m("0301"))}
    assert len(national["results"]) == 3 and national["hidden"] == 0


# --- invitations ---------------------------------------------------------------------------


def invite(client, **body):
    return client.post(INVITATIONS, body, format="json")


def test_an_invitation_mails_an_absolute_link_and_never_answers_the_token(
    users, mailoutbox, django_capture_on_commit_callbacks
):
    client = api_client_for(users["coord_area"])
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            client,
            email="ny@bergen.kommune.no",
            name="Ny Kontakt",
            role="municipality_contact",
            municipalities=[m("4601").pk],
        )
    assert response.status_code == 201, response.data
    assert response.data["state"] == "pending" and response.data["created_by"] == "coord_area"
    assert "token" not in response.data and "token_hash" not in response.data
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ny@bergen.kommune.no"]
    link = re.search(r"http://testserver/\S+", mailoutbox[0].body).group(0)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in str(response.content)
    invitation = Invitation.objects.get(pk=response.data["id"])
    assert access.invitation_for_token(token) == invitation
    listed = client.get(INVITATIONS).data["results"]
    assert [i["id"] for i in listed] == [invitation.pk]
    assert token not in str(client.get(INVITATIONS).content)


def test_invitations_refused_beyond_reach(users):
    coord = api_client_for(users["coord_area"])
    outside = invite(
        coord,
        email="a@tromso.kommune.no",
        role="municipality_contact",
        municipalities=[m("5501").pk],
    )
    assert outside.status_code == 400 and "municipalities" in outside.data
    admin_invite = invite(api_client_for(users["coord_nat"]), email="x@helsedir.no", role="admin")
    assert admin_invite.status_code == 400 and "role" in admin_invite.data
    assert (
        invite(
            api_client_for(users["contact"]), email="x@y.no", role="municipality_contact"
        ).status_code
        == 403
    )
    assert not Invitation.objects.exists()


def test_an_invitation_to_an_existing_address_grants_at_once(users, mailoutbox):
    person = UserFactory(username="finnes", email="finnes@bergen.kommune.no")
    response = invite(
        api_client_for(users["coord_area"]),
        email="Finnes@bergen.kommune.no",
        role="municipality_contact",
        municipalities=[m("4601").pk],
    )
    assert response.status_code == 200, response.data
    assert response.data["id"] == person.pk and response.data["role"] == Role.MUNICIPALITY_CONTACT
    assert not Invitation.objects.exists() and not mailoutbox


def test_withdrawing_an_invitation(users):
    invited = access.invite(
        users["coord_area"],
        email="ny@bergen.kommune.no",
        name="",
        wanted=access.Access(Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({m("4601").pk})),
        source=AccessChange.Source.UI,
    )
    pk = invited.invitation.pk
    elsewhere = access.invite(
        users["coord_nat"],
        email="nord@tromso.kommune.no",
        name="",
        wanted=access.Access(Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({m("5501").pk})),
        source=AccessChange.Source.UI,
    )
    coord = api_client_for(users["coord_area"])
    assert coord.post(f"{INVITATIONS}{elsewhere.invitation.pk}/withdraw/").status_code == 404
    response = coord.post(f"{INVITATIONS}{pk}/withdraw/")
    assert response.status_code == 200 and response.data["state"] == "revoked"
    assert response.data["revoked_by"] == "coord_area"
    again = coord.post(f"{INVITATIONS}{pk}/withdraw/")
    assert again.status_code == 400 and "invitation" in again.data
    assert access.invitation_for_token(invited.token).state == Invitation.State.REVOKED
    states = api_client_for(users["admin"]).get(INVITATIONS, {"state": "pending"}).data["results"]
    assert [i["id"] for i in states] == [elsewhere.invitation.pk]
