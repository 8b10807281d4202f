import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actors.models import Notification
from rollout import services
from rollout.choices import ReportStatus, Source, Status
from rollout.models import ReadinessReport, RolloutStatus, Solution, StatusChange
from tests.conftest import client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def sol(code):
    return Solution.objects.get(code=code)


def test_status_form_conflict_keeps_input_and_shows_the_newer_status(contact, org_bergen):
    url = reverse("rollout:status_change", args=[org_bergen.pk, "kjernejournal"])
    form = {"to_status": "blokkert", "reason": "Mangler opplæring", "version": "0"}
    # A colleague saves first.
    services.status_change(
        user=contact,
        organisation=org_bergen,
        solution=sol("kjernejournal"),
        to_status=Status.PLANNING,
        expected_version=0,
    )
    response = client_for(contact).post(url, form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mangler opplæring" in page
    assert response.context["conflict"].status == Status.PLANNING
    assert RolloutStatus.objects.get(organisation=org_bergen).status == Status.PLANNING
    form["version"] = str(response.context["form"].data["version"])
    assert client_for(contact).post(url, form).status_code == 302
    assert RolloutStatus.objects.get(organisation=org_bergen).status == Status.BLOCKED


def test_status_form_shows_rule_errors_on_the_field(contact, org_bergen):
    url = reverse("rollout:status_change", args=[org_bergen.pk, "dokumentdeling"])
    response = client_for(contact).post(url, {"to_status": "i_utproving", "version": "0"})
    assert response.status_code == 200
    assert "Kjernejournal" in " ".join(response.context["form"].errors["to_status"])
    assert not StatusChange.objects.exists()


def test_bulk_change_from_the_list(coordinator):
    orgs = OrganisationFactory.create_batch(3, municipality__number="4601")
    url = reverse("rollout:status_list") + "?solution=kjernejournal"
    response = client_for(coordinator).post(
        url,
        {
            "solution": "kjernejournal",
            "organisations": [o.pk for o in orgs[:2]],
            "to_status": "teknisk_klar",
            "effective_date": "2025-01-02",
        },
    )
    assert response.status_code == 302
    changed = StatusChange.objects.filter(to_status="teknisk_klar", source=Source.UI)
    assert sorted(changed.values_list("organisation_id", flat=True)) == sorted(
        o.pk for o in orgs[:2]
    )
    listed = client_for(coordinator).get(url + "&status=teknisk_klar").context["page"]
    assert {o.pk for o in listed} == {o.pk for o in orgs[:2]}
    not_started = client_for(coordinator).get(url + "&status=ikke_startet").context["page"]
    assert {o.pk for o in not_started} == {orgs[2].pk}


def test_bulk_refusal_lists_the_organisations_and_saves_nothing(coordinator):
    ok, stuck = OrganisationFactory.create_batch(2, municipality__number="4601")
    services.status_change(
        user=coordinator, organisation=stuck, solution=sol("kjernejournal"), to_status=Status.IN_USE
    )
    response = client_for(coordinator).post(
        reverse("rollout:status_list") + "?solution=kjernejournal",
        {
            "solution": "kjernejournal",
            "organisations": [ok.pk, stuck.pk],
            "to_status": "planlegging",
        },
    )
    assert response.status_code == 200
    assert [o for o, _m in response.context["result"].errors] == [stuck]
    assert stuck.name in response.content.decode()
    assert StatusChange.objects.count() == 1


def _csv(*rows):
    return SimpleUploadedFile(
        "s.csv",
        ("organisasjonsnummer;losning;status;dato;begrunnelse\n" + "\n".join(rows)).encode(),
    )


def test_status_import_applies_rows_in_order_or_nothing(coordinator):
    a, b = OrganisationFactory.create_batch(2, municipality__number="4601")
    client = client_for(coordinator)
    url = reverse("rollout:status_import")
    bad = _csv(
        f"{a.orgnr};kjernejournal;planlegging;2021-02-01;",
        f"{a.orgnr};kjernejournal;I bruk;2021-06-01;",
        f"{b.orgnr};kjernejournal;blokkert;2021-06-01;",
    )
    report = client.post(url, {"file": bad}).context["report"]
    assert [(e.line, e.column) for e in report.errors] == [(4, "begrunnelse")]
    assert not StatusChange.objects.exists()
    good = _csv(
        f"{a.orgnr};kjernejournal;planlegging;2021-02-01;",
        f"{a.orgnr};kjernejournal;I bruk;01.06.2021;",
        f"{b.orgnr};KJERNEJOURNAL;blokkert;2021-06-01;Venter på EPJ",
    )
    report = client.post(url, {"file": good}).context["report"]
    assert report.ok and report.written and report.updated == 3
    assert list(
        StatusChange.objects.filter(organisation=a)
        .order_by("id")
        .values_list("to_status", "effective_date", "source")
    ) == [
        ("planlegging", datetime.date(2021, 2, 1), "import"),
        ("i_bruk", datetime.date(2021, 6, 1), "import"),
    ]


def test_status_import_dry_run_writes_nothing(coordinator):
    a = OrganisationFactory(municipality__number="4601")
    response = client_for(coordinator).post(
        reverse("rollout:status_import"),
        {"file": _csv(f"{a.orgnr};kjernejournal;planlegging;;"), "dry_run": "on"},
    )
    assert response.context["report"].ok and not StatusChange.objects.exists()


def test_matrix_query_count_does_not_grow(directorate, make_user, django_assert_max_num_queries):
    client = client_for(directorate)
    coordinator = make_user("coord_nat")
    OrganisationFactory.create_batch(2)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("rollout:matrix"))
    for org in OrganisationFactory.create_batch(30):
        services.status_change(
            user=coordinator,
            organisation=org,
            solution=sol("kjernejournal"),
            to_status=Status.PLANNING,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("rollout:matrix"))
    kj = next(r for r in response.context["rows"] if r.solution.code == "kjernejournal")
    gp = next(c for c in kj.cells if c and c.type.code == "fastlegekontor")
    assert (gp.total, gp.counts["planlegging"], gp.counts["ikke_startet"]) == (32, 30, 2)


def test_municipality_grid_query_count_does_not_grow(contact, django_assert_max_num_queries):
    client = client_for(contact)
    url = reverse("actors:municipality_detail", args=["4601"])
    OrganisationFactory.create_batch(2, municipality__number="4601")
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for org in OrganisationFactory.create_batch(20, municipality__number="4601"):
        services.status_change(
            user=contact, organisation=org, solution=sol("kjernejournal"), to_status=Status.PLANNING
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    groups = response.context["groups"]  # a page of each type, with its statuses
    assert sum(len(g["page"]) for g in groups) == 22
    assert all(len(o.cells) == len(g["columns"]) for g in groups for o in g["page"])


def test_readiness_report_round_trip(contact, coordinator, org_bergen):
    client = client_for(contact)
    response = client.post(
        reverse("rollout:report_create"),
        {"solution": sol("kritisk-informasjon").pk, "municipality": org_bergen.municipality_id},
    )
    report = ReadinessReport.objects.get()
    assert response.status_code == 302
    answers = list(report.answers.all())
    url = reverse("rollout:report_detail", args=[report.pk])
    typed = {"version": report.version}
    for a in answers:
        typed[f"a{a.pk}_answer"] = "ikke_klar"
        typed[f"a{a.pk}_comment"] = "Opplæring høsten"
    # Submit refused (no expected dates) but the draft and what was typed are kept.
    response = client.post(url, {**typed, "submit": "1"})
    assert response.status_code == 200
    assert "Opplæring høsten" in response.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert report.answers.filter(comment="Opplæring høsten").count() == len(answers)
    for a in answers:
        typed[f"a{a.pk}_date"] = "2027-03-01"
    typed["version"] = report.version
    assert client.post(url, {**typed, "submit": "1"}).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert Notification.objects.filter(user=coordinator, link=url).exists()
    review = client_for(coordinator).post(
        reverse("rollout:report_review", args=[report.pk]),
        {"decision": "return", "comment": "Mangler dato for EPJ", "version": report.version},
    )
    assert review.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    assert Notification.objects.filter(user=contact, text__contains="Mangler dato for EPJ").exists()


def test_approved_readiness_feeds_the_area_verdict(contact, coordinator, org_bergen):
    from actors.models import HealthTrust
    from rollout import selectors

    pll = sol("pll")
    trust = HealthTrust.objects.get(code="helse-bergen")
    before = selectors.area_readiness(pll, trust, coordinator)
    assert (before.total, before.ready) == (1, 0)
    report = services.report_create(
        user=contact, solution=pll, municipality=org_bergen.municipality
    )
    services.report_save_answers(
        user=contact,
        report_id=report.pk,
        expected_version=report.version,
        answers={a.pk: {"answer": "klar"} for a in report.answers.all()},
    )
    report = services.report_submit(user=contact, report_id=report.pk, expected_version=2)
    services.report_review(
        user=coordinator, report_id=report.pk, expected_version=report.version, approve=True
    )
    after = selectors.area_readiness(pll, trust, coordinator)
    assert after.ready == 1
    ready = next(c for c in after.conditions if c.name == "ready")
    agreements = next(c for c in after.conditions if c.name == "agreements")
    assert ready.passed and not agreements.passed and not after.can_start
    page = client_for(coordinator).get(reverse("rollout:area_detail", args=["pll", "helse-bergen"]))
    assert page.status_code == 200 and page.context["readiness"].ready == 1


def test_a_large_municipality_can_save_its_readiness_report(contact):
    OrganisationFactory.create_batch(120, municipality__number="4601")
    report = services.report_create(
        user=contact, solution=sol("pll"), municipality=contact.municipalities.get()
    )
    answers = list(report.answers.all())
    assert len(answers) * 3 > 1000  # more fields than Django's default limit
    data = {"version": report.version}
    for a in answers:
        data[f"a{a.pk}_answer"] = "klar"
    response = client_for(contact).post(reverse("rollout:report_detail", args=[report.pk]), data)
    assert response.status_code == 302
    assert report.answers.filter(answer="klar").count() == len(answers)
