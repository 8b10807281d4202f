"""A large registry upload in a real browser (issue 17): the page goes at once to the
job's page, which shows a progress bar while the job waits for the worker and, polled by
htmx, the row report once the worker has run it.

The job is held back from the queue (the hook records it) so the test can look at the page
before the worker runs, then runs it as the worker would (benefits.tasks.run_job)."""

import pytest
from django.core.management import call_command

from actors import import_jobs, job_queue
from actors.models import Job, Municipality, Organisation
from benefits.tasks import run_job
from tests.factories import UserFactory, valid_orgnr

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def importer(db):
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    return UserFactory(username="importor", role="coordinator", national_scope=True)


def test_a_large_upload_shows_progress_and_then_its_report(importer, journey, monkeypatch):
    monkeypatch.setattr(import_jobs, "BACKGROUND_ABOVE_BYTES", 100)
    held = []
    monkeypatch.setattr(job_queue, "_enqueue", lambda job: held.append(job.pk) or job)
    rows = "".join(
        f"{valid_orgnr(8700 + n)};Nettleser legesenter {n};fastlegekontor;4601\n" for n in range(40)
    )
    page = journey.page
    journey.login("importor")
    journey.goto("/virksomheter/import/")
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "stor.csv",
                "mimeType": "text/csv",
                "buffer": ("organisasjonsnummer;navn;type;kommunenummer\n" + rows).encode(),
            }
        ],
    )
    page.uncheck("input[name=dry_run]")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/jobber/*/import/")
    section = page.locator("#import-job")
    assert section.locator("progress").count() == 1
    assert "hx-get" in section.evaluate("e => e.outerHTML")  # polling while not finished
    assert not Organisation.objects.filter(name__startswith="Nettleser").exists()
    journey.shot("21-import-job-queued")

    run_job.apply(args=[held[0]])  # the worker takes it
    page.locator("table.import-new").wait_for(timeout=30_000)  # htmx brings the report
    assert Job.objects.get(pk=held[0]).state == Job.State.DONE
    text = page.locator("#import-job").inner_text()
    assert "Nettleser legesenter 3" in text
    assert Organisation.objects.filter(name__startswith="Nettleser").count() == 40
    assert page.locator("#import-job progress").get_attribute("value") == "1.0"
    journey.shot("22-import-job-done")
