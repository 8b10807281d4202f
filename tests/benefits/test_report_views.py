"""Status report pages, exports, jobs and their files: what each role may ask for, small
reports streamed at once, the national report made by a job whose file only its owner
can fetch for a limited time, and the same through the API."""

import datetime
import io
import zipfile

import pytest
from django.urls import reverse

from actors.models import Job, OrganisationType
from actors.scoping import SYSTEM_USER
from benefits import reports, services
from rollout.models import Solution
from rollout.services import HistoryEntry, status_history_load
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory

D = datetime.date
PREVIEW = reverse("benefits:report_preview")
EXPORT = reverse("benefits:report_export")


@pytest.fixture
def registry(db):
    gp = OrganisationType.objects.get(code="fastlegekontor")
    bergen = OrganisationFactory(municipality__number="4601", type=gp, name="Bergen lege")
    tromso = OrganisationFactory(municipality__number="5501", type=gp, name="Tromsø lege")
    multidose = Solution.objects.get(code="e-multidose")
    status_history_load(
        user=SYSTEM_USER,
        changes=[
            HistoryEntry(bergen.pk, multidose.pk, "i_bruk", D(2025, 3, 1)),
            HistoryEntry(tromso.pk, multidose.pk, "blokkert", D(2025, 4, 1), "Mangler avtale"),
        ],
    )
    job = services.coverage_job_request(
        user=SYSTEM_USER, kind=Job.Kind.COVERAGE_BACKFILL, params={"start": "2025-03-01"}
    )
    services.coverage_job_run(job)
    return {"bergen": bergen, "tromso": tromso}


def test_each_role_gets_its_own_report_by_default(registry, make_user):
    expected = {
        "contact": ("municipality", "Bergen"),
        "coord_area": ("area", "Helse Bergen HF"),
        "coord_nat": ("national", "Hele landet"),
        "directorate": ("national", "Hele landet"),
    }
    for kind, (report_kind, place) in expected.items():
        response = client_for(make_user(kind)).get(PREVIEW)
        assert response.status_code == 200, kind
        assert response.context["kind"] == report_kind
        assert response.context["report"].place.name == place


def test_the_preview_shows_what_the_report_holds(registry, make_user):
    response = client_for(make_user("directorate")).get(PREVIEW, {"since": "2025-01-01"})
    page = response.content.decode()
    report = response.context["report"]
    for table in report.tables:
        assert table.title in page
    assert "Mangler avtale" in page  # the most common blocking reason
    assert page.count("<svg") >= len(report.trends) > 0  # a trend chart per target
    changes = report.table("endringer")
    assert ["e-Multidose", "I bruk", 1] in changes.rows


def test_a_contact_cannot_reach_other_reports(registry, make_user):
    contact = client_for(make_user("contact"))
    assert contact.get(PREVIEW, {"scope": "nation"}).status_code == 404
    assert contact.get(PREVIEW, {"scope": "area:helse-bergen"}).status_code == 404
    assert contact.get(PREVIEW, {"scope": "municipality:5501"}).status_code == 404
    page = contact.get(PREVIEW).content.decode()
    assert "Tromsø lege" not in page and "Bergen" in page
    assert reports.report_place(make_user("contact"), "national", None) is None


def test_a_municipality_report_downloads_at_once(registry, make_user):
    response = client_for(make_user("contact")).post(
        EXPORT, {"scope": "municipality:4601", "format": "csv", "since": "2025-01-01"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "statusrapport-bergen" in response["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert names and all(n.endswith(".csv") for n in names)
    assert not Job.objects.filter(kind=Job.Kind.REPORT_EXPORT).exists()


def test_the_national_report_is_a_job_with_a_file_for_its_owner_only(
    registry, make_user, django_capture_on_commit_callbacks
):
    directorate = client_for(make_user("directorate"))
    with django_capture_on_commit_callbacks(execute=True):
        response = directorate.post(
            EXPORT, {"scope": "nation", "format": "xlsx", "since": "2025-01-01"}
        )
    job = Job.objects.get(kind=Job.Kind.REPORT_EXPORT)
    assert response.status_code == 302 and f"job={job.pk}" in response.url
    assert job.state == Job.State.DONE and job.done == job.total > 1
    page = directorate.get(response.url).content.decode()
    download = reverse("actors:job_download", args=[job.pk])
    assert download in page and "job-download" in page
    file = directorate.get(download)
    assert file.status_code == 200
    assert file["Content-Disposition"].startswith('attachment; filename="statusrapport-')
    assert b"".join(file.streaming_content)[:2] == b"PK"  # an XLSX (zip) package
    # Nobody else fetches it, not even another user who sees everything.
    assert client_for(make_user("coord_nat")).get(download).status_code == 404
    assert client_for(make_user("admin")).get(download).status_code == 404


def test_report_files_are_deleted_after_their_time(registry, make_user, settings):
    job = services.report_export_request(
        user=make_user("directorate"), kind="national", key=None, since=None, fmt="csv"
    )
    services.report_job_run(job)
    job.refresh_from_db()
    assert job.has_file
    assert services.report_files_purge() == 0
    later = datetime.datetime.fromisoformat(job.result["expires"]) + datetime.timedelta(minutes=1)
    assert services.report_files_purge(now=later) == 1
    job.refresh_from_db()
    assert not job.has_file and job.message
    download = reverse("actors:job_download", args=[job.pk])
    assert client_for(job.created_by).get(download).status_code == 404
    api = api_client_for(job.created_by).get(reverse("job-download", args=[job.pk]))
    assert api.status_code == 410


def test_the_api_makes_a_report_and_hands_it_over(
    registry, make_user, django_capture_on_commit_callbacks
):
    client = api_client_for(make_user("directorate"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("report-list"), {"kind": "national", "format": "pdf"}, format="json"
        )
    assert response.status_code == 202
    job = client.get(response.json()["url"]).json()
    assert job["is_finished"] and job["state"] == "done"
    assert job["download"] == reverse("job-download", args=[job["id"]])
    pdf = client.get(job["download"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    contact = api_client_for(make_user("contact"))
    refused = contact.post(
        reverse("report-list"), {"kind": "national", "format": "pdf"}, format="json"
    )
    assert refused.status_code == 404
    assert contact.get(reverse("job-download", args=[job["id"]])).status_code == 404
    bad = client.post(reverse("report-list"), {"kind": "national", "format": "doc"}, format="json")
    assert bad.status_code == 400 and "format" in bad.json()


def test_a_job_not_finished_yet_answers_409(db, make_user):
    owner = make_user("directorate")
    job = Job.objects.create(kind=Job.Kind.REPORT_EXPORT, created_by=owner)
    response = api_client_for(owner).get(reverse("job-download", args=[job.pk]))
    assert response.status_code == 409


def test_the_report_figures_agree_with_the_dashboard(registry, make_user):
    client = client_for(make_user("directorate"))
    cards = client.get(reverse("benefits:target_dashboard")).context["cards"]
    report = client.get(PREVIEW).context["report"]
    rows = {row[0]: row for row in report.table("resultatmal").rows}
    assert len(rows) == len(cards)
    for card in cards:
        status = card["status"]
        row = rows[status.target.name]
        assert row[1:3] == list(status.latest[1:]) and row[3] == status.ratio
        forecast = status.forecast
        assert row[6] == (forecast.projected or forecast.message)  # a date, or why none
        assert row[7] == forecast.verdict_label
