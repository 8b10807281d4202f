"""The readiness report for many organisations (issue 18, point 1): groups by organisation
type with their progress, the filter, pages, items answered from a status the application
knows, saving in the background, a refused submission marked on its rows in table order,
and the reviewer's summary of what is not ready."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from actors.models import OrganisationType
from rollout import readiness, services
from rollout.choices import Answer, ReportStatus, Status
from rollout.models import ReadinessAnswer, RolloutStatus, Solution
from tests.conftest import client_for
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
# One item for the area; kjernejournal (answered from its status) and EPJ per organisation.
KI = "kritisk-informasjon"
LATER = timezone.localdate() + datetime.timedelta(days=90)


def kind(code):
    return OrganisationType.objects.get(code=code)


def set_status(organisation, code, status):
    RolloutStatus.objects.update_or_create(
        organisation=organisation,
        solution=Solution.objects.get(code=code),
        defaults={"status": status, "effective_date": datetime.date(2024, 1, 1)},
    )


@pytest.fixture
def bergen():
    """Two GP offices and a nursing home in Bergen (the order of names is not that of ids)."""
    return {
        "nordnes": OrganisationFactory(
            municipality__number="4601", type=kind("fastlegekontor"), name="Nordnes legekontor"
        ),
        "sandviken": OrganisationFactory(
            municipality__number="4601", type=kind("sykehjem"), name="Sandviken sykehjem"
        ),
        "fjellsiden": OrganisationFactory(
            municipality__number="4601", type=kind("fastlegekontor"), name="Fjellsiden legesenter"
        ),
    }


def open_report(contact, code=KI):
    return services.report_create(
        user=contact,
        solution=Solution.objects.get(code=code),
        municipality=contact.municipalities.get(),
    )


def row(report, organisation, text_start):
    return ReadinessAnswer.objects.get(
        report=report, organisation=organisation, prerequisite__text__startswith=text_start
    )


def url(report, **query):
    base = reverse("rollout:report_detail", args=[report.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_rows_are_grouped_by_type_with_progress(contact, bergen):
    report = open_report(contact)
    services.report_save_answers(
        user=contact,
        report_id=report.pk,
        expected_version=report.version,
        answers={row(report, bergen["nordnes"], "EPJ").pk: {"answer": Answer.READY}},
    )
    page = client_for(contact).get(url(report))
    groups = {g["group"].key: g["group"] for g in page.context["groups"]}
    assert list(groups) == [readiness.AREA, "fastlegekontor", "sykehjem"]  # the area first
    gps = groups["fastlegekontor"]
    assert (gps.total, gps.answered, gps.ready, gps.organisations) == (4, 1, 1, 2)
    # In a group, organisations by name, each with its items in the checklist's order.
    assert [(r.organisation, r.item[:3]) for r in gps.rows] == [
        ("Fjellsiden legesenter", "Kje"),
        ("Fjellsiden legesenter", "EPJ"),
        ("Nordnes legekontor", "Kje"),
        ("Nordnes legekontor", "EPJ"),
    ]
    html = page.content.decode()
    assert html.count('<details class="group report-group"') == 3
    assert 'id="gruppe-fastlegekontor"' in html and "<progress" in html


def test_every_field_has_a_label_naming_the_organisation_and_the_item(contact, bergen):
    report = open_report(contact)
    html = client_for(contact).get(url(report)).content.decode()
    fields = re.findall(r'<(?:select|input) [^>]*name="a\d+_\w+"[^>]*id="([^"]+)"', html)
    assert len(fields) == 3 * 7  # answer, date, comment of 1 + 2 × 3 rows
    for field_id in fields:
        label = re.search(rf'<label class="sr-only" for="{field_id}">([^<]+)</label>', html)
        assert label, field_id
    epj = row(report, bergen["sandviken"], "EPJ")
    label = re.search(rf'<label class="sr-only" for="f{epj.pk}a">([^<]+)</label>', html).group(1)
    assert "Sandviken sykehjem" in label and "EPJ-systemet støtter API" in label


def test_the_filter_keeps_unanswered_or_not_ready_rows(contact, bergen):
    report = open_report(contact)
    ready = row(report, bergen["nordnes"], "EPJ")
    not_ready = row(report, bergen["sandviken"], "EPJ")
    services.report_save_answers(
        user=contact,
        report_id=report.pk,
        expected_version=report.version,
        answers={
            ready.pk: {"answer": Answer.READY},
            not_ready.pk: {"answer": Answer.NOT_READY, "expected_date": LATER},
        },
    )
    client = client_for(contact)

    def shown(**query):
        page = client.get(url(report, **query))
        return {r.id for g in page.context["groups"] if g["page"] for r in g["page"].rows}

    assert shown() == set(report.answers.values_list("pk", flat=True))
    assert shown(vis="ikke_klare") == {not_ready.pk}
    unanswered = shown(vis="ubesvarte")
    assert ready.pk not in unanswered and not_ready.pk not in unanswered
    assert len(unanswered) == 5


def test_an_item_that_follows_from_a_status_is_answered_from_it_and_not_asked(contact, bergen):
    nordnes = bergen["nordnes"]
    set_status(nordnes, "kjernejournal", Status.IN_USE)
    report = open_report(contact)
    item = row(report, nordnes, "Kjernejournal")
    assert (item.answer, item.from_status) == (Answer.READY, Status.IN_USE)  # stored on opening
    client = client_for(contact)
    html = client.get(url(report)).content.decode()
    assert f'name="a{item.pk}_answer"' not in html  # not asked
    assert 'class="derived"' in html
    # The others are asked, and shown with their status for kjernejournal.
    other = row(report, bergen["fjellsiden"], "Kjernejournal")
    assert f'name="a{other.pk}_answer"' in html
    # What is sent for it is left aside; the submission does not ask for it.
    services.report_save_answers(
        user=contact,
        report_id=report.pk,
        expected_version=report.version,
        answers={item.pk: {"answer": Answer.NOT_READY}},
    )
    item.refresh_from_db()
    assert item.answer == Answer.READY
    problems = services.report_problems(report)
    assert not any(p.startswith("Nordnes legekontor") and "Kjernejournal" in p for p in problems)
    assert any(p.startswith("Fjellsiden legesenter") and "Kjernejournal" in p for p in problems)


def test_a_status_changed_back_asks_the_item_again(contact, bergen):
    nordnes = bergen["nordnes"]
    set_status(nordnes, "kjernejournal", Status.IN_USE)
    report = open_report(contact)
    item = row(report, nordnes, "Kjernejournal")
    set_status(nordnes, "kjernejournal", Status.STOPPED)
    html = client_for(contact).get(url(report)).content.decode()
    assert f'name="a{item.pk}_answer"' in html  # asked again
    problems = services.report_problems(report)
    assert any(p.startswith("Nordnes legekontor") and "Kjernejournal" in p for p in problems)
    # The next save drops the answer that came from the status.
    services.report_save_answers(
        user=contact, report_id=report.pk, expected_version=report.version, answers={}
    )
    item.refresh_from_db()
    assert (item.answer, item.from_status) == ("", "")


def test_an_item_about_a_solution_that_does_not_apply_is_not_relevant(contact):
    # PLL asks whether SFM is established; SFM does not apply to an emergency clinic.
    clinic = OrganisationFactory(municipality__number="4601", type=kind("legevakt"))
    report = open_report(contact, "pll")
    sfm = row(report, clinic, "SFM")
    assert (sfm.answer, sfm.from_status) == (Answer.NOT_RELEVANT, Status.NOT_RELEVANT)


def test_submitted_answers_keep_the_status_they_followed_from(contact, bergen):
    for o in bergen.values():
        set_status(o, "kjernejournal", Status.IN_USE)
    report = open_report(contact)
    report = services.report_save_answers(
        user=contact,
        report_id=report.pk,
        expected_version=report.version,
        answers={a.pk: {"answer": Answer.READY} for a in report.answers.all()},
    )
    report = services.report_submit(
        user=contact, report_id=report.pk, expected_version=report.version
    )
    assert report.status == ReportStatus.SUBMITTED
    set_status(bergen["nordnes"], "kjernejournal", Status.STOPPED)  # after the submission
    item = row(report, bergen["nordnes"], "Kjernejournal")
    assert (item.answer, item.from_status) == (Answer.READY, Status.IN_USE)
    rows = {r.id: r for r in readiness.report_rows(report)}
    assert rows[item.pk].answer == Answer.READY  # as submitted


# --- saving in the background ----------------------------------------------------------


def save_url(report):
    return reverse("rollout:report_answers_save", args=[report.pk])


def test_the_background_save_stores_only_what_is_sent(contact, bergen):
    report = open_report(contact)
    epj = row(report, bergen["sandviken"], "EPJ")
    epj.comment = "Beholdes"
    epj.save()
    response = client_for(contact).post(
        save_url(report), {"version": report.version, f"a{epj.pk}_answer": Answer.READY}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["version"] == report.version + 1 and data["saved"] == 1
    assert data["groups"]["sykehjem"] == {"answered": 1, "ready": 1, "total": 2}
    epj.refresh_from_db()
    assert (epj.answer, epj.comment) == (Answer.READY, "Beholdes")


def test_the_background_save_refuses_a_stale_version(contact, bergen):
    report = open_report(contact)
    epj = row(report, bergen["sandviken"], "EPJ")
    client = client_for(contact)
    first = client.post(save_url(report), {"version": report.version, f"a{epj.pk}_answer": "klar"})
    assert first.status_code == 200
    stale = client.post(
        save_url(report), {"version": report.version, f"a{epj.pk}_answer": "ikke_klar"}
    )
    assert stale.status_code == 409
    assert stale.json()["conflict"] and str(report.version) in stale.json()["error"]
    epj.refresh_from_db()
    assert epj.answer == Answer.READY


def test_the_background_save_is_refused_outside_the_scope(contact, directorate, bergen):
    report = open_report(contact)
    epj = row(report, bergen["sandviken"], "EPJ")
    data = {"version": report.version, f"a{epj.pk}_answer": "klar"}
    other = UserFactory(username="tromso", role="municipality_contact", municipalities=["5501"])
    assert client_for(other).post(save_url(report), data).status_code == 404
    assert (
        client_for(directorate).post(save_url(report), data).status_code == 403
    )  # sees, reads only
    epj.refresh_from_db()
    assert epj.answer == ""


def test_a_group_form_saves_without_javascript(contact, bergen):
    report = open_report(contact)
    epj = row(report, bergen["sandviken"], "EPJ")
    response = client_for(contact).post(
        url(report),
        {
            "version": report.version,
            "gruppe": "sykehjem",
            f"a{epj.pk}_answer": Answer.NOT_READY,
            f"a{epj.pk}_date": LATER.isoformat(),
            f"a{epj.pk}_comment": "Ny versjon til våren",
        },
    )
    assert response.status_code == 302 and response.url.endswith("?gruppe=sykehjem#gruppe-sykehjem")
    epj.refresh_from_db()
    assert (epj.answer, epj.expected_date, epj.comment) == (
        Answer.NOT_READY,
        LATER,
        "Ny versjon til våren",
    )


# --- a refused submission --------------------------------------------------------------


def test_a_refused_submission_lists_and_marks_the_rows_in_table_order(contact, bergen):
    report = open_report(contact)
    epj = row(report, bergen["fjellsiden"], "EPJ")
    services.report_save_answers(
        user=contact,
        report_id=report.pk,
        expected_version=report.version,
        answers={epj.pk: {"answer": Answer.NOT_READY}},  # no date
    )
    report.refresh_from_db()
    response = client_for(contact).post(url(report), {"version": report.version, "submit": "1"})
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    rows = readiness.report_rows(report)
    expected = [readiness.problem_text(r) for r in rows if r.answer != Answer.READY]
    listed = [p["text"] for p in response.context["problems"]]
    assert listed == expected == services.report_problems(report)  # one order everywhere
    assert listed[0].startswith(rows[0].where)  # the area first
    assert "Fjellsiden legesenter" in listed[1] and "Nordnes legekontor" in listed[3]
    html = response.content.decode()
    first = rows[0].id
    assert f'data-first-problem="{first}"' in html
    assert re.search(rf'<tr id="a{first}" class="invalid">', html)
    # The missing date is marked on the date field, with the message next to it.
    assert re.search(rf'name="a{epj.pk}_date" id="f{epj.pk}d" value="" aria-invalid="true"', html)
    assert f'<p class="errorlist" id="e{epj.pk}">' in html


def test_a_refused_submission_opens_the_page_of_the_first_problem(contact):
    gp = kind("fastlegekontor")
    offices = [
        OrganisationFactory(municipality__number="4601", type=gp, name=f"Legekontor {i:03}")
        for i in range(readiness.PAGE_SIZE + 5)
    ]
    report = open_report(contact)
    report = services.report_save_answers(
        user=contact,
        report_id=report.pk,
        expected_version=report.version,
        answers={
            a.pk: {"answer": Answer.READY}
            for a in report.answers.all()
            if a.organisation_id != offices[-1].pk
        },
    )
    response = client_for(contact).post(url(report), {"version": report.version, "submit": "1"})
    opened = {g["group"].key: g["page"] for g in response.context["groups"] if g["page"]}
    assert opened["fastlegekontor"].number == 2
    assert response.context["first_problem"] == row(report, offices[-1], "Kjernejournal").pk


def test_a_large_group_is_paged_and_loaded_on_its_own(contact):
    gp = kind("fastlegekontor")
    for i in range(readiness.PAGE_SIZE + 3):
        OrganisationFactory(municipality__number="4601", type=gp, name=f"Legekontor {i:03}")
    report = open_report(contact)
    client = client_for(contact)
    page = client.get(url(report, gruppe="fastlegekontor", side=2))
    g = next(g for g in page.context["groups"] if g["group"].key == "fastlegekontor")
    assert (g["page"].number, g["page"].pages, g["page"].shown) == (2, 2, readiness.PAGE_SIZE + 3)
    assert {r.organisation for r in g["page"].rows} == {
        "Legekontor 025",
        "Legekontor 026",
        "Legekontor 027",
    }
    part = client.get(url(report, gruppe="fastlegekontor", side=2, **{"del": 1}))
    html = part.content.decode()
    assert "<html" not in html and "Legekontor 026" in html and "Legekontor 000" not in html


# --- the review -------------------------------------------------------------------------


def test_the_review_opens_with_what_is_not_ready_next_to_the_form(contact, coordinator, bergen):
    report = open_report(contact)
    answers = {a.pk: {"answer": Answer.READY} for a in report.answers.all()}
    for o in ("nordnes", "fjellsiden"):
        answers[row(report, bergen[o], "EPJ").pk] = {
            "answer": Answer.NOT_READY,
            "expected_date": LATER,
        }
    report = services.report_save_answers(
        user=contact, report_id=report.pk, expected_version=report.version, answers=answers
    )
    services.report_submit(user=contact, report_id=report.pk, expected_version=report.version)
    page = client_for(coordinator).get(url(report))
    summary = page.context["summary"]
    assert [(s.group.key, s.item[:3], s.not_ready, s.unanswered, s.first) for s in summary] == [
        ("fastlegekontor", "EPJ", 2, 0, LATER)
    ]
    html = page.content.decode()
    top = html.index('class="grid review-top"')
    assert top < html.index('name="decision"') < html.index('id="report-groups"')
    # The contact who submitted sees the summary but no review form.
    own = client_for(contact).get(url(report)).content.decode()
    assert 'class="grid review-top"' in own and 'name="decision"' not in own


def test_a_report_of_450_organisations_stays_light(contact):
    types = list(Solution.objects.get(code=KI).organisation_types.all())
    OrganisationFactory.create_batch(450, municipality__number="4601", type=types[0])
    report = open_report(contact)
    assert report.answers.count() == 1 + 2 * 450
    page = client_for(contact).get(url(report))
    html = page.content.decode()
    assert html.count("<tr id=") <= 1 + 2 * readiness.PAGE_SIZE
    assert len(html) < 150_000
