"""Large uploads run as a Job (issue 17): the page queues them and returns at once, the job
reports progress and ends with the report the synchronous import shows (errors included,
nothing written), a dry run is confirmed from the job page, and only the uploader (and
admins) see the job. Also the bulk write path (COPY on PostgreSQL) at a few hundred rows."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actors import import_jobs, imports
from actors.imports import import_organisations
from actors.models import (
    Job,
    Organisation,
    OrganisationChange,
    OrganisationVersion,
)
from rollout.models import RolloutStatus, Solution
from tests.conftest import ROLE_USERS, client_for
from tests.factories import OrganisationFactory, UserFactory, valid_orgnr

pytestmark = pytest.mark.django_db

HEADER = "organisasjonsnummer;navn;type;kommunenummer\n"


def imports_jobs():
    return Job.objects.filter(kind__in=[Job.Kind.ORGANISATION_IMPORT, Job.Kind.STATUS_IMPORT])


def registry_file(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(import_jobs, "BACKGROUND_ABOVE_BYTES", 10)


@pytest.fixture
def importer(make_user):
    return make_user("coord_nat")


def upload(client, url, raw: bytes, capture, **data):
    """POST the file; the job's task is sent on commit, which the test runs after."""
    with capture(execute=False) as callbacks:
        response = client.post(url, {"file": SimpleUploadedFile("stor.csv", raw), **data})
    return response, callbacks


def run_queued(callbacks) -> None:
    for callback in callbacks:
        callback()


ROWS = [f"{valid_orgnr(8100 + n)};Storfil legesenter {n};fastlegekontor;4601" for n in range(12)]


def test_a_large_upload_becomes_a_job_that_imports_in_the_background(
    importer, small_threshold, django_capture_on_commit_callbacks
):
    existing = OrganisationFactory(orgnr=valid_orgnr(8100), name="Gammelt navn")
    client = client_for(importer)
    response, callbacks = upload(
        client,
        reverse("actors:organisation_import"),
        registry_file(*ROWS),
        django_capture_on_commit_callbacks,
    )
    job = Job.objects.get(kind=Job.Kind.ORGANISATION_IMPORT)
    assert response.status_code == 302
    assert response["Location"] == reverse("actors:import_job", args=[job.pk])
    # The request only queued it: nothing imported yet, the file kept for the worker.
    assert (job.state, job.created_by, job.params["dry_run"]) == ("queued", importer, False)
    assert not Organisation.objects.filter(name__startswith="Storfil").exists()
    assert default_storage.exists(job.params["file"])
    page = client.get(response["Location"])
    assert b"<progress" in page.content and b"hx-get" in page.content

    run_queued(callbacks)
    job.refresh_from_db()
    assert job.state == Job.State.DONE
    assert job.done == job.total == 2 * len(ROWS)  # every row checked, then written
    assert Organisation.objects.filter(name__startswith="Storfil").count() == len(ROWS)
    existing.refresh_from_db()
    assert existing.name == "Storfil legesenter 0"
    report = job.result["report"]
    assert (report["created"], report["updated"], report["written"]) == (11, 1, True)
    assert not default_storage.exists(job.params["file"])  # not kept after a real import
    page = client.get(reverse("actors:import_job", args=[job.pk]), headers={"HX-Request": "1"})
    text = page.content.decode()
    assert "hx-get" not in text  # finished: no more polling
    assert "Storfil legesenter 5" in text and "Gammelt navn" in text  # the row report


def test_the_job_keeps_the_report_the_page_shows(
    importer, small_threshold, django_capture_on_commit_callbacks
):
    raw = registry_file(*ROWS[:3], f"{valid_orgnr(8200)};Gammel kommune;sykehjem;3001")
    synchronous = import_organisations(raw=raw, user=importer, dry_run=True).as_dict()
    response, callbacks = upload(
        client_for(importer),
        reverse("actors:organisation_import"),
        raw,
        django_capture_on_commit_callbacks,
        dry_run="on",
    )
    run_queued(callbacks)
    job = imports_jobs().get()
    assert job.result["report"] == synchronous
    assert any("3101" in n["message"] for n in synchronous["notices"])  # mapped number


def test_a_dry_run_job_is_confirmed_from_its_page(
    importer, small_threshold, django_capture_on_commit_callbacks
):
    client = client_for(importer)
    response, callbacks = upload(
        client,
        reverse("actors:organisation_import"),
        registry_file(*ROWS),
        django_capture_on_commit_callbacks,
        dry_run="on",
    )
    run_queued(callbacks)
    check = imports_jobs().get()
    assert check.result["report"]["dry_run"] and check.result["report"]["created"] == 12
    assert not Organisation.objects.filter(name__startswith="Storfil").exists()
    page = client.get(response["Location"]).content.decode()
    confirm_url = reverse("actors:import_job_confirm", args=[check.pk])
    assert confirm_url in page

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(confirm_url)
    real = imports_jobs().exclude(pk=check.pk).get()
    assert confirmed["Location"] == reverse("actors:import_job", args=[real.pk])
    assert (real.state, real.params["confirms"], real.params["dry_run"]) == (
        "done",
        check.pk,
        False,
    )
    assert Organisation.objects.filter(name__startswith="Storfil").count() == 12
    # Confirmed once: the button is gone and a second confirmation is refused.
    assert confirm_url not in client.get(response["Location"]).content.decode()
    client.post(confirm_url)
    assert imports_jobs().count() == 2


def test_a_job_with_an_error_writes_nothing_and_says_what_to_fix(
    importer, small_threshold, django_capture_on_commit_callbacks
):
    client = client_for(importer)
    rows = [*ROWS, f"{valid_orgnr(8300)};Feil type;ukjent;4601"]
    response, callbacks = upload(
        client,
        reverse("actors:organisation_import"),
        registry_file(*rows),
        django_capture_on_commit_callbacks,
    )
    run_queued(callbacks)
    job = imports_jobs().get()
    report = job.result["report"]
    assert job.state == Job.State.DONE and not report["written"]
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(14, "type")]
    assert not Organisation.objects.filter(name__startswith="Storfil").exists()
    page = client.get(response["Location"]).content.decode()
    assert "ukjent" in page
    assert reverse("actors:import_job_confirm", args=[job.pk]) not in page


def test_an_unreadable_file_fails_the_job_with_the_reason(
    importer, small_threshold, django_capture_on_commit_callbacks
):
    response, callbacks = upload(
        client_for(importer),
        reverse("actors:organisation_import"),
        b"organisasjonsnummer;navn\n1;2\n",
        django_capture_on_commit_callbacks,
    )
    run_queued(callbacks)
    job = imports_jobs().get()
    assert job.state == Job.State.FAILED
    assert "kommunenummer" in job.message  # the missing column, as the page would say


def test_progress_is_reported_as_rows_are_checked_and_written(importer, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 5)
    seen = []
    import_organisations(
        raw=registry_file(*ROWS), user=importer, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[0] == (5, 24) and seen[-1] == (24, 24)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)


def test_small_uploads_stay_in_the_request(importer, django_capture_on_commit_callbacks):
    response, _callbacks = upload(
        client_for(importer),
        reverse("actors:organisation_import"),
        registry_file(*ROWS),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200 and not imports_jobs().exists()
    assert Organisation.objects.filter(name__startswith="Storfil").count() == 12


def status_file(*rows: str) -> bytes:
    return ("organisasjonsnummer,losning,status\n" + "".join(r + "\n" for r in rows)).encode()


def test_a_contacts_status_import_job_touches_only_their_municipality_and_is_theirs(
    make_user, small_threshold, django_capture_on_commit_callbacks
):
    contact = make_user("contact")  # 4601 Bergen
    bergen = OrganisationFactory(municipality__number="4601")
    tromso = OrganisationFactory(municipality__number="5501")
    solution = Solution.objects.get(code="kjernejournal")
    client = client_for(contact)
    response, callbacks = upload(
        client,
        reverse("rollout:status_import"),
        status_file(
            f"{bergen.orgnr},kjernejournal,planlegging", f"{tromso.orgnr},kjernejournal,planlegging"
        ),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    run_queued(callbacks)
    job = Job.objects.get(kind=Job.Kind.STATUS_IMPORT)
    report = job.result["report"]
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(3, "organisasjonsnummer")]
    assert not RolloutStatus.objects.filter(organisation__in=[bergen, tromso]).exists()
    # Theirs alone (and the admins'): another contact or a coordinator does not see it.
    url = reverse("actors:import_job", args=[job.pk])
    assert client.get(url).status_code == 200
    assert client_for(make_user("coord_nat")).get(url).status_code == 404
    other_contact = UserFactory(username="other", **ROLE_USERS["contact"])
    assert client_for(other_contact).get(url).status_code == 404
    assert client_for(make_user("admin")).get(url).status_code == 200
    assert (
        client_for(UserFactory(username="admin2", **ROLE_USERS["admin"]))
        .post(reverse("actors:import_job_confirm", args=[job.pk]))
        .status_code
        == 403
    )

    response, callbacks = upload(
        client,
        reverse("rollout:status_import"),
        status_file(f"{bergen.orgnr},kjernejournal,planlegging"),
        django_capture_on_commit_callbacks,
    )
    run_queued(callbacks)
    job = Job.objects.filter(kind=Job.Kind.STATUS_IMPORT).first()
    assert job.result["report"]["written"] and job.result["report"]["updated"] == 1
    assert RolloutStatus.objects.get(organisation=bergen, solution=solution).status == "planlegging"


def test_bulk_writes_of_a_few_hundred_rows_keep_every_change_on_record(importer):
    """Large enough for the COPY path on PostgreSQL (insert_rows: 100 rows and more)."""
    old = [OrganisationFactory(orgnr=valid_orgnr(8400 + n), name=f"Gammel {n}") for n in range(150)]
    rows = [f"{o.orgnr};Ny {n};sykehjem;{o.municipality.number}" for n, o in enumerate(old)]
    rows += [f"{valid_orgnr(8600 + n)};Helt ny {n};apotek;5501" for n in range(150)]
    report = import_organisations(raw=registry_file(*rows), user=importer)
    assert (report.created, report.updated) == (150, 150)
    changed = Organisation.objects.get(orgnr=old[7].orgnr)
    assert (changed.name, changed.type.code, changed.version) == ("Ny 7", "sykehjem", 2)
    assert changed.search_text.startswith("ny 7 ")
    new = Organisation.objects.get(orgnr=valid_orgnr(8605))
    assert (new.name, new.municipality.number, new.health_trust.code) == (
        "Helt ny 5",
        "5501",
        "unn",
    )
    assert new.search_text == f"helt ny 5 {new.orgnr}"
    history = OrganisationChange.objects.filter(source="import")
    assert history.filter(kind="create").count() == 150
    assert history.filter(kind="change", field="name").count() == 150
    assert history.filter(field="type", organisation=changed).get().new_value == "Sykehjem"
    versions = OrganisationVersion.objects.filter(organisation__in=[changed, new])
    assert sorted(v.type.code for v in versions) == ["apotek", "sykehjem"]


def test_a_checked_file_is_deleted_after_its_time(
    importer, small_threshold, django_capture_on_commit_callbacks
):
    import datetime

    from django.utils import timezone

    _response, callbacks = upload(
        client_for(importer),
        reverse("actors:organisation_import"),
        registry_file(*ROWS),
        django_capture_on_commit_callbacks,
        dry_run="on",
    )
    run_queued(callbacks)
    job = imports_jobs().get()
    assert import_jobs.purge_checked_files() == 0 and default_storage.exists(job.params["file"])
    later = timezone.now() + datetime.timedelta(hours=import_jobs.KEEP_CHECKED_FILE_HOURS + 1)
    assert import_jobs.purge_checked_files(later) == 1
    assert not default_storage.exists(job.params["file"])
    assert not import_jobs.can_confirm(job, importer)
