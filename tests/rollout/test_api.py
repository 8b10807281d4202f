import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from actors.models import Notification, OrganisationType
from actors.scoping import SYSTEM_USER
from rollout import services
from rollout.choices import ReportStatus, Source, Status
from rollout.models import AreaRollout, PhaseChange, RolloutStatus, Solution, StatusChange
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def solution(code):
    return Solution.objects.get(code=code)


def set_status(organisation, code, to_status, **kwargs):
    """Setup through the service, as the system (no API, no scope limits)."""
    return services.status_change(
        user=SYSTEM_USER,
        organisation=organisation,
        solution=solution(code),
        to_status=to_status,
        **kwargs,
    )


def status_url(row):
    return reverse("rolloutstatus-detail", args=[row.pk])


# --- statuses: scope and concurrency ----------------------------------------------------


def test_contact_sees_only_statuses_in_their_municipality(contact, org_bergen, org_tromso):
    bergen = set_status(org_bergen, "kjernejournal", Status.PLANNING)
    tromso = set_status(org_tromso, "kjernejournal", Status.PLANNING)
    client = api_client_for(contact)

    data = client.get(reverse("rolloutstatus-list")).json()
    assert [r["orgnr"] for r in data["results"]] == [org_bergen.orgnr]
    row = data["results"][0]
    assert row["solution"] == "kjernejournal" and row["status"] == Status.PLANNING
    assert row["organisation"] == org_bergen.pk and row["version"] == 1

    assert client.get(status_url(bergen)).status_code == 200
    assert client.get(status_url(tromso)).status_code == 404
    patch = client.patch(
        status_url(tromso),
        {"status": Status.TECHNICALLY_READY},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert patch.status_code == 404
    assert RolloutStatus.objects.get(pk=tromso.pk).status == Status.PLANNING


def test_status_filters(make_user, org_bergen, org_tromso):
    set_status(org_bergen, "kjernejournal", Status.PLANNING)
    set_status(org_bergen, "sfm", Status.PLANNING)
    set_status(org_tromso, "kjernejournal", Status.IN_USE)
    client = api_client_for(make_user("coord_nat"))
    url = reverse("rolloutstatus-list")
    assert client.get(url).json()["count"] == 3
    assert client.get(url, {"solution": "kjernejournal"}).json()["count"] == 2
    assert client.get(url, {"status": Status.IN_USE}).json()["count"] == 1
    assert client.get(url, {"orgnr": org_bergen.orgnr}).json()["count"] == 2
    assert client.get(url, {"health_trust": "unn"}).json()["count"] == 1
    since = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    assert client.get(url, {"changed_since": since.isoformat()}).json()["count"] == 0


def test_status_etag_if_match_flow(contact, org_bergen):
    row = set_status(org_bergen, "kjernejournal", Status.PLANNING)
    client = api_client_for(contact)
    url = status_url(row)
    assert client.get(url)["ETag"] == '"1"'

    missing = client.patch(url, {"status": Status.TECHNICALLY_READY}, format="json")
    assert missing.status_code == 428

    ok = client.patch(
        url,
        {"status": Status.TECHNICALLY_READY},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] == '"2"'
    assert ok.json()["status"] == Status.TECHNICALLY_READY and ok.json()["version"] == 2

    stale = client.patch(url, {"status": Status.TRIAL}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert RolloutStatus.objects.get(pk=row.pk).status == Status.TECHNICALLY_READY

    change = StatusChange.objects.filter(organisation=org_bergen).order_by("-id").first()
    assert change.source == Source.API and change.changed_by == contact
    assert change.to_status == Status.TECHNICALLY_READY


def test_refused_change_answers_400_keyed_by_api_field(contact, org_bergen):
    row = set_status(org_bergen, "kjernejournal", Status.PLANNING)
    response = api_client_for(contact).patch(
        status_url(row), {"status": Status.BLOCKED}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 400
    assert "reason" in response.json()  # a reason is required for "blocked"
    unknown = api_client_for(contact).patch(
        status_url(row), {"status": "ukjent"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert unknown.status_code == 400 and "status" in unknown.json()


# --- statuses: create, prerequisites and override -------------------------------------


def create_status(client, organisation, code, to_status, **extra):
    return client.post(
        reverse("rolloutstatus-list"),
        {"organisation": organisation.orgnr, "solution": code, "status": to_status, **extra},
        format="json",
    )


def test_create_first_status_then_conflict(contact, org_bergen):
    client = api_client_for(contact)
    created = create_status(client, org_bergen, "kjernejournal", Status.PLANNING)
    assert created.status_code == 201, created.content
    assert created["ETag"] == '"1"'
    assert created.json()["orgnr"] == org_bergen.orgnr

    again = create_status(client, org_bergen, "kjernejournal", Status.TECHNICALLY_READY)
    assert again.status_code == 409
    assert f"/statuses/{created.json()['id']}/" in again.json()["detail"]
    assert RolloutStatus.objects.get(organisation=org_bergen).status == Status.PLANNING


def test_create_outside_scope_or_for_wrong_type_is_refused(contact, org_bergen, org_tromso):
    client = api_client_for(contact)
    outside = create_status(client, org_tromso, "kjernejournal", Status.PLANNING)
    assert outside.status_code == 400 and "organisation" in outside.json()
    pharmacy = OrganisationFactory(
        municipality__number="4601", type=OrganisationType.objects.get(code="apotek")
    )
    wrong_type = create_status(client, pharmacy, "dokumentdeling", Status.PLANNING)
    assert wrong_type.status_code == 400
    assert not RolloutStatus.objects.exists()


def test_prerequisite_refused_then_coordinator_overrides(contact, coordinator, org_bergen):
    # Dokumentdeling needs kjernejournal in use at the GP office.
    refused = create_status(api_client_for(contact), org_bergen, "dokumentdeling", Status.TRIAL)
    assert refused.status_code == 400
    assert any("Kjernejournal" in m for m in refused.json()["status"])

    not_allowed = create_status(
        api_client_for(contact),
        org_bergen,
        "dokumentdeling",
        Status.TRIAL,
        override_reason="Vi prøver likevel",
    )
    assert not_allowed.status_code == 400 and "override_reason" in not_allowed.json()
    assert not RolloutStatus.objects.filter(solution__code="dokumentdeling").exists()

    overridden = create_status(
        api_client_for(coordinator),
        org_bergen,
        "dokumentdeling",
        Status.TRIAL,
        override_reason="Pilot avtalt med Norsk helsenett",
        confirm_jump=True,  # not started → in trial skips two steps
    )
    assert overridden.status_code == 201, overridden.content
    change = StatusChange.objects.get(solution__code="dokumentdeling")
    assert change.prerequisite_override == "Pilot avtalt med Norsk helsenett"
    assert change.source == Source.API and change.changed_by == coordinator


def test_prerequisite_met_needs_no_override(contact, org_bergen):
    set_status(org_bergen, "kjernejournal", Status.IN_USE)
    response = create_status(
        api_client_for(contact), org_bergen, "dokumentdeling", Status.TRIAL, confirm_jump=True
    )
    assert response.status_code == 201, response.content
    assert StatusChange.objects.get(solution__code="dokumentdeling").prerequisite_override == ""


# --- bulk -----------------------------------------------------------------------------


def bulk(client, organisations, to_status, **extra):
    return client.post(
        reverse("rolloutstatus-bulk"),
        {
            "solution": "kjernejournal",
            "organisations": [o.orgnr for o in organisations],
            "status": to_status,
            **extra,
        },
        format="json",
    )


def test_bulk_is_all_or_nothing(contact):
    orgs = [OrganisationFactory(municipality__number="4601") for _ in range(3)]
    in_use = set_status(orgs[2], "kjernejournal", Status.IN_USE)
    history = StatusChange.objects.count()
    client = api_client_for(contact)

    # In use cannot go back to planning: one refusal keeps every change out.
    refused = bulk(client, orgs, Status.PLANNING)
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert [e["orgnr"] for e in errors] == [orgs[2].orgnr]
    assert errors[0]["name"] == orgs[2].name and errors[0]["message"]
    assert RolloutStatus.objects.count() == 1
    assert RolloutStatus.objects.get(pk=in_use.pk).version == 1
    assert StatusChange.objects.count() == history

    dry = bulk(client, orgs[:2], Status.PLANNING, dry_run=True)
    assert dry.json() == {"changed": 2, "unchanged": 0, "dry_run": True}
    assert StatusChange.objects.count() == history

    done = bulk(client, orgs[:2], Status.PLANNING)
    assert done.status_code == 200
    assert done.json() == {"changed": 2, "unchanged": 0, "dry_run": False}
    assert StatusChange.objects.count() == history + 2
    assert set(StatusChange.objects.filter(to_status=Status.PLANNING).values_list("source")) == {
        (Source.API,)
    }
    again = bulk(client, orgs[:2], Status.PLANNING)
    assert again.json() == {"changed": 0, "unchanged": 2, "dry_run": False}


def test_bulk_with_unknown_or_out_of_scope_orgnr_writes_nothing(contact, org_bergen, org_tromso):
    response = bulk(api_client_for(contact), [org_bergen, org_tromso], Status.PLANNING)
    assert response.status_code == 400
    assert response.json()["unknown"] == [org_tromso.orgnr]
    assert org_tromso.orgnr in response.json()["organisations"][0]
    assert not StatusChange.objects.exists()


# --- history feed ---------------------------------------------------------------------


def test_history_feed_is_scoped_with_cursor_pagination(contact, org_bergen, org_tromso):
    set_status(org_bergen, "kjernejournal", Status.PLANNING)
    set_status(org_bergen, "kjernejournal", Status.TECHNICALLY_READY)
    set_status(org_bergen, "kjernejournal", Status.IN_USE)
    set_status(org_bergen, "sfm", Status.PLANNING)
    set_status(org_bergen, "sfm", Status.BLOCKED, reason="Venter på leverandør")
    set_status(org_tromso, "kjernejournal", Status.PLANNING)
    client = api_client_for(contact)

    seen, url, params = [], reverse("statuschange-list"), {"page_size": 2}
    while url:
        page = client.get(url, params).json()
        assert "count" not in page and len(page["results"]) <= 2
        seen.extend(page["results"])
        url, params = page["next"], None
    expected = StatusChange.objects.filter(organisation=org_bergen).order_by("-changed_at", "-id")
    assert [r["id"] for r in seen] == list(expected.values_list("id", flat=True))
    assert {r["orgnr"] for r in seen} == {org_bergen.orgnr}

    blocked = seen[0]
    assert blocked["from_status"] == Status.PLANNING and blocked["to_status"] == Status.BLOCKED
    assert blocked["reason"] == "Venter på leverandør" and blocked["solution"] == "sfm"
    assert blocked["source"] == Source.UI and blocked["changed_by"] is None
    assert blocked["prerequisite_override"] == ""

    only_sfm = client.get(reverse("statuschange-list"), {"solution": "sfm"}).json()
    assert len(only_sfm["results"]) == 2
    assert "cursor=" in page["previous"]  # the last page links back


# --- readiness reports ----------------------------------------------------------------


def report_url(report_id, name="detail"):
    return reverse(f"readinessreport-{name}", args=[report_id])


def test_readiness_report_flow(contact, coordinator, org_bergen):
    client = api_client_for(contact)
    created = client.post(
        reverse("readinessreport-list"),
        {"solution": "dokumentdeling", "municipality": "4601"},
        format="json",
    )
    assert created.status_code == 201, created.content
    report = created.json()
    assert created["ETag"] == '"1"'
    assert report["status"] == ReportStatus.DRAFT and report["municipality"] == "4601"
    answers = report["answers"]
    # Two items about each organisation (one GP office here) and one about the area.
    assert len(answers) == 3
    area = next(a for a in answers if a["scope"] == "area")
    assert area["organisation"] is None and area["organisation_name"] is None
    own = [a for a in answers if a["organisation"] == org_bergen.pk]
    assert len(own) == 2 and own[0]["organisation_name"] == org_bergen.name

    url = report_url(report["id"])
    assert client.patch(url, {"answers": []}, format="json").status_code == 428
    saved = client.patch(
        url,
        {"answers": [{"id": own[0]["id"], "answer": "klar", "comment": "OK"}]},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert saved.status_code == 200, saved.content
    assert saved["ETag"] == '"2"'

    incomplete = client.post(report_url(report["id"], "submit"), HTTP_IF_MATCH='"2"')
    assert incomplete.status_code == 400
    assert len(incomplete.json()["detail"]) == 2  # two answers missing

    saved = client.patch(
        url,
        {
            "answers": [
                {"id": own[0]["id"], "answer": "klar"},  # comment left out: kept
                {"id": own[1]["id"], "answer": "ikke_klar", "expected_date": "2030-01-31"},
                {"id": area["id"], "answer": "ikke_relevant"},
            ]
        },
        format="json",
        HTTP_IF_MATCH='"2"',
    )
    assert saved.status_code == 200, saved.content
    by_id = {a["id"]: a for a in saved.json()["answers"]}
    assert by_id[own[0]["id"]]["comment"] == "OK"
    assert by_id[own[1]["id"]]["expected_date"] == "2030-01-31"

    stale = client.post(report_url(report["id"], "submit"), HTTP_IF_MATCH='"2"')
    assert stale.status_code == 412
    submitted = client.post(report_url(report["id"], "submit"), HTTP_IF_MATCH='"3"')
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == ReportStatus.SUBMITTED
    assert submitted.json()["submitted_by"] == "contact"
    assert Notification.objects.filter(user=coordinator).exists()

    by_contact = client.post(
        report_url(report["id"], "review"), {"approve": True}, format="json", HTTP_IF_MATCH='"4"'
    )
    assert by_contact.status_code == 403

    approved = api_client_for(coordinator).post(
        report_url(report["id"], "review"),
        {"approve": True, "comment": "Bra"},
        format="json",
        HTTP_IF_MATCH='"4"',
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == ReportStatus.APPROVED
    assert approved.json()["reviewed_by"] == "coord_area"
    assert Notification.objects.filter(user=contact, text__contains="Dokumentdeling").exists()

    changed = client.patch(
        url, {"answers": [{"id": area["id"], "answer": "klar"}]}, format="json", HTTP_IF_MATCH='"5"'
    )
    assert changed.status_code == 400  # an approved report is closed


def test_readiness_reports_are_scoped(contact, make_user):
    tromso = api_client_for(make_user("coord_nat")).post(
        reverse("readinessreport-list"),
        {"solution": "pll", "municipality": "5501"},
        format="json",
    )
    assert tromso.status_code == 201
    client = api_client_for(contact)
    assert client.get(reverse("readinessreport-list")).json()["count"] == 0
    assert client.get(report_url(tromso.json()["id"])).status_code == 404
    assert (
        client.post(report_url(tromso.json()["id"], "submit"), HTTP_IF_MATCH='"1"').status_code
        == 404
    )
    outside = client.post(
        reverse("readinessreport-list"), {"solution": "pll", "municipality": "5501"}, format="json"
    )
    assert outside.status_code == 400 and "municipality" in outside.json()


# --- solutions and areas --------------------------------------------------------------


def test_solutions_and_national_phase(make_user, coordinator):
    client = api_client_for(make_user("coord_nat"))
    data = client.get(reverse("solution-list")).json()
    codes = [s["code"] for s in data["results"]]
    assert codes[:2] == ["kjernejournal", "sfm"] and len(codes) == 7
    dokumentdeling = next(s for s in data["results"] if s["code"] == "dokumentdeling")
    assert dokumentdeling["requires"] == ["kjernejournal"]
    assert "fastlegekontor" in dokumentdeling["organisation_types"]

    pll = solution("pll")
    url = reverse("solution-detail", args=[pll.pk])
    assert client.get(url)["ETag"] == f'"{pll.version}"'
    body = {"national_phase": "nasjonal_bredding", "note": "Vedtak i programstyret"}
    assert client.patch(url, body, format="json").status_code == 428
    area_coordinator = api_client_for(coordinator).patch(
        url, body, format="json", HTTP_IF_MATCH=f'"{pll.version}"'
    )
    assert area_coordinator.status_code == 403
    changed = client.patch(url, body, format="json", HTTP_IF_MATCH=f'"{pll.version}"')
    assert changed.status_code == 200, changed.content
    assert changed.json()["national_phase"] == "nasjonal_bredding"
    assert changed["ETag"] == f'"{pll.version + 1}"'

    history = client.get(reverse("solution-phase-history", args=[pll.pk])).json()
    assert history["results"][0]["to_phase"] == "nasjonal_bredding"
    assert history["results"][0]["health_trust"] is None
    assert history["results"][0]["changed_by"] == "coord_nat"


def test_area_rollouts(coordinator, contact, org_bergen):
    client = api_client_for(coordinator)
    body = {"solution": "pll", "health_trust": "helse-bergen", "planned_start": "2026-03-01"}
    created = client.post(reverse("arearollout-list"), body, format="json")
    assert created.status_code == 201, created.content
    assert created["ETag"] == '"1"' and created.json()["phase"] == "planlegging"
    assert client.post(reverse("arearollout-list"), body, format="json").status_code == 409
    outside = client.post(
        reverse("arearollout-list"), {**body, "health_trust": "unn"}, format="json"
    )
    assert outside.status_code == 400
    not_area_wise = client.post(
        reverse("arearollout-list"), {**body, "solution": "sfm"}, format="json"
    )
    assert not_area_wise.status_code == 400

    area_id = created.json()["id"]
    url = reverse("arearollout-detail", args=[area_id])
    detail = api_client_for(contact).get(url)
    assert detail.status_code == 200
    readiness = detail.json()["readiness"]
    assert readiness["total"] == 1 and readiness["ready"] == 0 and not readiness["can_start"]
    assert [c["name"] for c in readiness["conditions"]] == [
        "ready",
        "agreements",
        "vendors",
        "together",
        "dependencies",
    ]
    listed = client.get(reverse("arearollout-list"), {"solution": "pll"}).json()
    assert "readiness" not in listed["results"][0]
    assert client.get(reverse("arearollout-list"), {"health_trust": "unn"}).json()["count"] == 0

    start = {"phase": "begrenset_bredding"}
    no_decision = client.patch(url, start, format="json", HTTP_IF_MATCH='"1"')
    assert no_decision.status_code == 400 and "decision_date" in no_decision.json()
    by_contact = api_client_for(contact).patch(
        url, {**start, "decision_date": "2026-02-01"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert by_contact.status_code == 403
    started = client.patch(
        url, {**start, "decision_date": "2026-02-01"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert started.status_code == 200, started.content
    assert started["ETag"] == '"2"'
    assert AreaRollout.objects.get(pk=area_id).phase == "begrenset_bredding"
    assert PhaseChange.objects.filter(health_trust__code="helse-bergen").count() == 2


# --- roles ----------------------------------------------------------------------------


def test_directorate_reads_but_cannot_write(directorate, org_bergen):
    row = set_status(org_bergen, "kjernejournal", Status.PLANNING)
    client = api_client_for(directorate)
    assert client.get(status_url(row)).status_code == 200
    assert client.get(reverse("statuschange-list")).status_code == 200
    writes = [
        client.patch(status_url(row), {"status": Status.TRIAL}, format="json", HTTP_IF_MATCH='"1"'),
        create_status(client, org_bergen, "sfm", Status.PLANNING),
        bulk(client, [org_bergen], Status.TECHNICALLY_READY),
        client.post(
            reverse("readinessreport-list"),
            {"solution": "pll", "municipality": "4601"},
            format="json",
        ),
        client.post(
            reverse("arearollout-list"),
            {"solution": "pll", "health_trust": "helse-bergen"},
            format="json",
        ),
        client.patch(
            reverse("solution-detail", args=[solution("pll").pk]),
            {"national_phase": "planlegging"},
            format="json",
            HTTP_IF_MATCH='"1"',
        ),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert StatusChange.objects.count() == 1


def test_anonymous_and_roleless_users(make_user, org_bergen):
    row = set_status(org_bergen, "kjernejournal", Status.PLANNING)
    assert api_client_for(None).get(reverse("rolloutstatus-list")).status_code == 401
    norole = api_client_for(make_user("norole"))
    assert norole.get(reverse("rolloutstatus-list")).json()["count"] == 0
    assert norole.get(status_url(row)).status_code == 404
    assert norole.get(reverse("solution-list")).json()["count"] == 0


# --- schema ---------------------------------------------------------------------------


def test_openapi_schema_is_valid_without_warnings(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    schema = path.read_text()
    for route in ["statuses/bulk/", "status-history/", "readiness-reports/{id}/review/"]:
        assert f"/api/v1/{route}" in schema
