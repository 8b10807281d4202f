"""Issue 18: a wrong status is corrected by a coordinator with a reason (the history keeps
both entries and marks the first as corrected; past statuses follow the correction), and
a change that skips steps is confirmed, with its date, by whoever makes it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from actors.concurrency import VersionConflict
from actors.models import Organisation
from rollout import corrections, integrity, selectors, services
from rollout.choices import Source, Status, StatusChangeKind, skipped_steps
from rollout.corrections import status_correct
from rollout.models import RolloutStatus, Solution, StatusChange
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TODAY = services.today()
DAY = datetime.timedelta(days=1)
WRONG_DAY = TODAY - 30 * DAY


def kj():
    return Solution.objects.get(code="kjernejournal")


def wrong_jump(contact, organisation, day=WRONG_DAY):
    """The mistake of the issue: ikke startet → i bruk in one step (confirmed, as asked)."""
    return services.status_change(
        user=contact,
        organisation=organisation,
        solution=kj(),
        to_status=Status.IN_USE,
        effective_date=day,
        confirm_jump=True,
    )


def correct(user, organisation, to_status=Status.PLANNING, reason="Feilregistrert", **kw):
    return status_correct(
        user=user,
        organisation=organisation,
        solution=kj(),
        to_status=to_status,
        reason=reason,
        **kw,
    )


def history(organisation):
    return list(
        StatusChange.objects.filter(organisation=organisation, solution=kj()).order_by(
            "effective_date", "id"
        )
    )


def as_of(organisation, day):
    return selectors.statuses_as_of(kj(), day, [organisation.pk]).get(organisation.pk)


# --- correcting ------------------------------------------------------------------------


def test_a_coordinator_corrects_a_wrong_jump(contact, coordinator, org_bergen):
    wrong = wrong_jump(contact, org_bergen)
    row = correct(coordinator, org_bergen, reason="Kommunen trykket feil; de planlegger")
    assert (row.status, row.version, row.effective_date) == (Status.PLANNING, 2, WRONG_DAY)
    assert row.reason == "Kommunen trykket feil; de planlegger" and row.updated_by == coordinator
    first, fix = history(org_bergen)
    # Both entries are kept; the correction points at the wrong one.
    assert (first.from_status, first.to_status, first.kind) == (
        Status.NOT_STARTED,
        Status.IN_USE,
        StatusChangeKind.CHANGE,
    )
    assert (fix.from_status, fix.to_status, fix.effective_date) == (
        Status.IN_USE,
        Status.PLANNING,
        WRONG_DAY,
    )
    assert fix.kind == StatusChangeKind.CORRECTION and fix.corrects == first
    assert (fix.changed_by, fix.source, fix.reason) == (
        coordinator,
        Source.UI,
        "Kommunen trykket feil; de planlegger",
    )
    assert list(first.corrections.all()) == [fix]
    # The wrong status never stood on any day.
    assert as_of(org_bergen, WRONG_DAY) == Status.PLANNING
    assert as_of(org_bergen, TODAY) == Status.PLANNING
    assert as_of(org_bergen, WRONG_DAY - DAY) is None
    # The rules go on from the corrected status: planning → technically ready is allowed.
    services.status_change(
        user=contact,
        organisation=org_bergen,
        solution=kj(),
        to_status=Status.TECHNICALLY_READY,
        expected_version=wrong.version + 1,
    )


def test_a_correction_is_not_bound_by_the_transitions(contact, coordinator, org_bergen):
    wrong_jump(contact, org_bergen)
    assert Status.NOT_RELEVANT not in services.TRANSITIONS[Status.IN_USE]
    row = correct(coordinator, org_bergen, to_status=Status.NOT_RELEVANT, reason="Ingen pasienter")
    assert row.status == Status.NOT_RELEVANT


def test_a_correction_from_a_later_date_undoes_the_wrong_entry_where_it_happened(
    contact, coordinator, org_bergen
):
    wrong_jump(contact, org_bergen)
    later = WRONG_DAY + 10 * DAY
    row = correct(coordinator, org_bergen, to_status=Status.TECHNICALLY_READY, effective_date=later)
    assert row.effective_date == later
    wrong, undo, fix = history(org_bergen)
    assert (undo.from_status, undo.to_status, undo.effective_date) == (
        Status.IN_USE,
        Status.NOT_STARTED,
        WRONG_DAY,
    )
    assert (fix.from_status, fix.to_status, fix.effective_date) == (
        Status.NOT_STARTED,
        Status.TECHNICALLY_READY,
        later,
    )
    assert undo.corrects == fix.corrects == wrong
    assert as_of(org_bergen, WRONG_DAY) == Status.NOT_STARTED
    assert as_of(org_bergen, later - DAY) == Status.NOT_STARTED
    assert as_of(org_bergen, later) == Status.TECHNICALLY_READY


def test_a_correction_back_to_the_status_before_undoes_the_change(contact, coordinator, org_bergen):
    wrong_jump(contact, org_bergen)
    row = correct(coordinator, org_bergen, to_status=Status.NOT_STARTED)
    assert row.status == Status.NOT_STARTED
    assert [(c.from_status, c.to_status) for c in history(org_bergen)] == [
        (Status.NOT_STARTED, Status.IN_USE),
        (Status.IN_USE, Status.NOT_STARTED),
    ]


def test_the_history_stays_a_chain_after_corrections(contact, coordinator, org_bergen):
    """The integrity check (rollout/integrity.py) finds nothing to repair."""
    wrong_jump(contact, org_bergen)
    correct(coordinator, org_bergen, to_status=Status.TRIAL, effective_date=WRONG_DAY + 3 * DAY)
    # A correction of the correction, from a later date again.
    correct(coordinator, org_bergen, to_status=Status.PLANNING, effective_date=WRONG_DAY + 5 * DAY)
    assert integrity.history_findings() == []
    assert as_of(org_bergen, WRONG_DAY + 4 * DAY) == Status.NOT_STARTED
    assert as_of(org_bergen, WRONG_DAY + 5 * DAY) == Status.PLANNING


def test_standing_leaves_out_the_corrected_entries(contact, coordinator, org_bergen):
    wrong_jump(contact, org_bergen)
    correct(coordinator, org_bergen, to_status=Status.IN_USE, effective_date=TODAY)
    in_use = corrections.standing(StatusChange.objects.filter(to_status=Status.IN_USE))
    assert [c.effective_date for c in in_use] == [TODAY]  # not the wrong entry's day


@pytest.mark.parametrize("role", ["coord_nat", "admin"])
def test_national_coordinators_and_administrators_correct_anywhere(make_user, org_tromso, role):
    wrong_jump(UserFactory(username="setter", role="coordinator", national_scope=True), org_tromso)
    assert correct(make_user(role), org_tromso).status == Status.PLANNING


def test_a_kommunekontakt_cannot_correct(contact, org_bergen):
    wrong_jump(contact, org_bergen)
    with pytest.raises(PermissionDenied, match="koordinator|coordinator"):
        correct(contact, org_bergen)
    assert len(history(org_bergen)) == 1
    assert RolloutStatus.objects.get(organisation=org_bergen).status == Status.IN_USE


def test_the_directorate_cannot_correct(contact, directorate, org_bergen):
    wrong_jump(contact, org_bergen)
    with pytest.raises(PermissionDenied):
        correct(directorate, org_bergen)


def test_outside_the_coordinators_scope_is_refused(make_user, coordinator, org_tromso):
    wrong_jump(make_user("coord_nat"), org_tromso)
    with pytest.raises(Organisation.DoesNotExist):
        correct(coordinator, org_tromso)  # Helse Bergen's coordinator, a Tromsø office
    assert len(history(org_tromso)) == 1


def test_a_reason_is_required(contact, coordinator, org_bergen):
    wrong_jump(contact, org_bergen)
    with pytest.raises(ValidationError) as exc:
        correct(coordinator, org_bergen, reason="  ")
    assert set(exc.value.message_dict) == {"reason"}
    assert len(history(org_bergen)) == 1


def test_the_date_rules(contact, coordinator, org_bergen):
    wrong_jump(contact, org_bergen)
    with pytest.raises(ValidationError) as exc:
        correct(coordinator, org_bergen, effective_date=WRONG_DAY - DAY)
    assert "effective_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        correct(coordinator, org_bergen, effective_date=TODAY + DAY)
    assert "effective_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # the same status on the same day
        correct(coordinator, org_bergen, to_status=Status.IN_USE)
    assert "to_status" in exc.value.message_dict
    # The same status from a later day corrects the date only.
    row = correct(coordinator, org_bergen, to_status=Status.IN_USE, effective_date=TODAY)
    assert row.effective_date == TODAY and as_of(org_bergen, TODAY - DAY) == Status.NOT_STARTED
    assert len(history(org_bergen)) == 3


def test_nothing_to_correct_without_history(coordinator, org_bergen):
    with pytest.raises(ValidationError, match="."):
        correct(coordinator, org_bergen)
    assert not StatusChange.objects.exists()


def test_a_stale_version_is_refused(contact, coordinator, org_bergen):
    row = wrong_jump(contact, org_bergen)
    with pytest.raises(VersionConflict):
        correct(coordinator, org_bergen, expected_version=row.version - 1)
    assert correct(coordinator, org_bergen, expected_version=row.version).version == 2


def test_a_correction_asks_for_the_coverage_recomputation_from_the_wrong_date(
    contact, coordinator, org_bergen, monkeypatch
):
    asked = []
    monkeypatch.setattr(corrections, "coverage_changed", lambda since: asked.append(since))
    wrong_jump(contact, org_bergen)
    correct(coordinator, org_bergen, effective_date=WRONG_DAY + 2 * DAY)
    assert asked == [WRONG_DAY]


# --- the pages -------------------------------------------------------------------------


def correct_url(organisation):
    return reverse("rollout:status_correct", args=[organisation.pk, "kjernejournal"])


def status_url(organisation):
    return reverse("rollout:status_change", args=[organisation.pk, "kjernejournal"])


def test_the_correction_page_corrects_and_every_history_view_marks_the_entry(
    contact, coordinator, org_bergen
):
    wrong_jump(contact, org_bergen)
    page = client_for(coordinator).get(status_url(org_bergen)).content.decode()
    assert correct_url(org_bergen) in page  # the “correct a wrong status” action
    form = client_for(coordinator).get(correct_url(org_bergen)).context["form"]
    assert form["effective_date"].value() == WRONG_DAY  # the wrong entry's date by default
    response = client_for(coordinator).post(
        correct_url(org_bergen),
        {
            "to_status": "planlegging",
            "effective_date": WRONG_DAY.isoformat(),
            "reason": "Trykket feil i skjemaet",
            "version": "1",
        },
    )
    assert response.status_code == 302 and response["Location"] == status_url(org_bergen)
    wrong, fix = history(org_bergen)
    assert fix.corrects == wrong and fix.changed_by == coordinator
    for url in (status_url(org_bergen), org_bergen.get_absolute_url()):
        page = client_for(coordinator).get(url).content.decode()
        assert 'class="correction-note"' in page and "Trykket feil i skjemaet" in page
        assert timezone.localtime(fix.changed_at).strftime("%d.%m.%Y") in page
        assert str(coordinator) in page
    status_page = client_for(coordinator).get(status_url(org_bergen)).content.decode()
    assert '<tr class="corrected">' in status_page and "<del>" in status_page


def test_the_correction_page_keeps_what_was_typed_on_error(contact, coordinator, org_bergen):
    wrong_jump(contact, org_bergen)
    response = client_for(coordinator).post(
        correct_url(org_bergen),
        {"to_status": "planlegging", "effective_date": "", "reason": "", "version": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert response.context["form"]["to_status"].value() == "planlegging"
    assert len(history(org_bergen)) == 1


def test_a_kommunekontakt_is_told_to_ask_the_coordinator(contact, org_bergen):
    wrong_jump(contact, org_bergen)
    response = client_for(contact).get(status_url(org_bergen))
    assert response.context["can_correct"] is False
    assert correct_url(org_bergen) not in response.content.decode()
    assert client_for(contact).get(correct_url(org_bergen)).status_code == 403
    refused = client_for(contact).post(
        correct_url(org_bergen), {"to_status": "planlegging", "reason": "x", "version": "1"}
    )
    assert refused.status_code == 403 and len(history(org_bergen)) == 1


# --- the API ---------------------------------------------------------------------------


def api_correct(user, row, version, **body):
    return api_client_for(user).post(
        reverse("rolloutstatus-correct", args=[row.pk]),
        {"status": "planlegging", "reason": "Feilregistrert", **body},
        format="json",
        **({"HTTP_IF_MATCH": f'"{version}"'} if version is not None else {}),
    )


def test_the_api_corrects_with_if_match(contact, coordinator, org_bergen):
    row = wrong_jump(contact, org_bergen)
    assert api_correct(coordinator, row, None).status_code == 428
    assert api_correct(contact, row, 1).status_code == 403
    missing = api_correct(coordinator, row, 1, reason="")
    assert missing.status_code == 400 and "reason" in missing.json()
    assert api_correct(coordinator, row, 0).status_code == 412
    done = api_correct(coordinator, row, 1)
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "planlegging" and done["ETag"] == '"2"'
    assert history(org_bergen)[-1].source == Source.API


def test_the_api_correction_is_scoped(make_user, coordinator, org_tromso):
    row = wrong_jump(make_user("coord_nat"), org_tromso)
    assert api_correct(coordinator, row, 1).status_code == 404


def test_the_api_history_links_corrections(contact, coordinator, org_bergen):
    wrong_jump(contact, org_bergen)
    correct(coordinator, org_bergen)
    wrong, fix = history(org_bergen)
    rows = api_client_for(coordinator).get(reverse("statuschange-list")).json()["results"]
    by_id = {r["id"]: r for r in rows}
    assert by_id[wrong.pk]["corrected_by"] == fix.pk and by_id[wrong.pk]["corrects"] is None
    assert by_id[fix.pk]["corrects"] == wrong.pk and by_id[fix.pk]["corrected_by"] is None
    assert by_id[fix.pk]["kind"] == "korreksjon" and by_id[wrong.pk]["kind"] == "endring"
    detail = api_client_for(coordinator).get(reverse("statuschange-detail", args=[wrong.pk]))
    assert detail.json()["corrected_by"] == fix.pk


def test_the_schema_documents_corrections_and_the_jump_confirmation(coordinator):
    schema = api_client_for(coordinator).get(reverse("api-schema"), {"format": "json"}).json()
    components = schema["components"]["schemas"]
    history_fields = components["StatusChange"]["properties"]
    assert {"kind", "corrects", "corrected_by"} <= set(history_fields)
    assert history_fields["corrected_by"].get("description")

    def request_fields(name):  # COMPONENT_SPLIT_REQUEST names request bodies …Request
        return set(components[f"{name}Request"]["properties"])

    assert "confirm_jump" in request_fields("PatchedStatusChangeInput")
    assert "confirm_jump" in request_fields("RolloutStatusCreate")
    assert "confirm_jump" not in request_fields("StatusBulk")
    assert {"status", "reason", "effective_date"} <= request_fields("StatusCorrection")
    assert "post" in schema["paths"]["/api/v1/statuses/{id}/correct/"]


# --- a change that skips steps ---------------------------------------------------------


def test_skipped_steps_is_defined_on_the_road_only():
    assert skipped_steps(Status.NOT_STARTED, Status.IN_USE) == [
        Status.PLANNING,
        Status.TECHNICALLY_READY,
        Status.TRIAL,
    ]
    assert skipped_steps(Status.PLANNING, Status.TRIAL) == [Status.TECHNICALLY_READY]
    assert skipped_steps(Status.NOT_STARTED, Status.PLANNING) == []
    assert skipped_steps(Status.TRIAL, Status.TECHNICALLY_READY) == []  # a step back
    assert skipped_steps(Status.BLOCKED, Status.IN_USE) == []
    assert skipped_steps(Status.NOT_STARTED, Status.NOT_RELEVANT) == []


def jump(user, organisation, **kw):
    return services.status_change(
        user=user, organisation=organisation, solution=kj(), to_status=Status.IN_USE, **kw
    )


def test_the_service_refuses_an_unconfirmed_jump(contact, org_bergen):
    with pytest.raises(ValidationError) as exc:
        jump(contact, org_bergen, confirm_jump=False, effective_date=WRONG_DAY)
    assert set(exc.value.message_dict) == {"confirm_jump"}
    message = exc.value.message_dict["confirm_jump"][0]
    for status in (Status.NOT_STARTED, Status.IN_USE, Status.PLANNING, Status.TRIAL):
        assert str(status.label) in message
    assert not StatusChange.objects.exists()
    assert jump(contact, org_bergen, confirm_jump=True, effective_date=WRONG_DAY).status == "i_bruk"


def test_one_step_needs_no_confirmation(contact, org_bergen):
    row = services.status_change(
        user=contact,
        organisation=org_bergen,
        solution=kj(),
        to_status=Status.PLANNING,
        confirm_jump=False,
    )
    assert row.status == Status.PLANNING


def test_callers_that_ask_no_one_are_not_refused(make_user, org_bergen):
    """Imports and tasks (confirm_jump None) go on as before."""
    assert jump(make_user("coord_nat"), org_bergen).status == Status.IN_USE


def test_the_status_form_asks_to_confirm_a_jump_and_its_date(contact, org_bergen):
    form = {"to_status": "i_bruk", "reason": "Startet i uke 40", "version": "0"}
    first = client_for(contact).post(status_url(org_bergen), form)
    assert first.status_code == 200
    assert first.context["form"].errors["confirm_jump"]
    page = first.content.decode()
    assert 'name="confirm_jump"' in page and "Startet i uke 40" in page  # kept as typed
    assert not StatusChange.objects.exists()
    no_date = client_for(contact).post(status_url(org_bergen), {**form, "confirm_jump": "on"})
    assert no_date.status_code == 200 and no_date.context["form"].errors["effective_date"]
    assert "checked" in no_date.content.decode().split('name="confirm_jump"')[1][:40]
    done = client_for(contact).post(
        status_url(org_bergen),
        {**form, "confirm_jump": "on", "effective_date": WRONG_DAY.isoformat()},
    )
    assert done.status_code == 302
    (change,) = history(org_bergen)
    assert (change.to_status, change.effective_date) == (Status.IN_USE, WRONG_DAY)


def test_the_status_form_does_not_ask_for_one_step(contact, org_bergen):
    page = client_for(contact).get(status_url(org_bergen)).content.decode()
    assert 'name="confirm_jump"' not in page
    response = client_for(contact).post(
        status_url(org_bergen), {"to_status": "planlegging", "version": "0"}
    )
    assert response.status_code == 302


def test_the_api_requires_confirm_jump(contact, coordinator, org_bergen):
    client = api_client_for(contact)
    body = {"organisation": org_bergen.orgnr, "solution": "kjernejournal", "status": "i_bruk"}
    refused = client.post(reverse("rolloutstatus-list"), body, format="json")
    assert refused.status_code == 400 and "confirm_jump" in refused.json()
    created = client.post(
        reverse("rolloutstatus-list"), {**body, "confirm_jump": True}, format="json"
    )
    assert created.status_code == 201, created.content
    row = RolloutStatus.objects.get(organisation=org_bergen)
    correct(coordinator, org_bergen, to_status=Status.NOT_STARTED)
    row.refresh_from_db()
    patch = client.patch(
        reverse("rolloutstatus-detail", args=[row.pk]),
        {"status": "i_utproving"},
        format="json",
        HTTP_IF_MATCH=f'"{row.version}"',
    )
    assert patch.status_code == 400 and "confirm_jump" in patch.json()
    confirmed = client.patch(
        reverse("rolloutstatus-detail", args=[row.pk]),
        {"status": "i_utproving", "confirm_jump": True},
        format="json",
        HTTP_IF_MATCH=f'"{row.version}"',
    )
    assert confirmed.status_code == 200, confirmed.content
