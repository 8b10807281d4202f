"""Large uploads imported in the background (issue 17): the file is stored privately, a
Job runs the same import as the page (benefits.tasks.run_job), writing its progress, and
keeps the report the page would have shown; a dry run's job can be confirmed, which imports
the same file for real. All or nothing, scope and the row report are the import's own."""

from __future__ import annotations

import datetime
import logging
import threading
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from . import job_queue
from .models import Job
from .tabular import ImportFileError

log = logging.getLogger(__name__)

# An upload larger than this runs as a Job, never in the web request: about 7 000 registry
# rows or 12 000 status rows, a few seconds of work (50 000 registry rows take ~20 s).
BACKGROUND_ABOVE_BYTES = 500_000
# A dry run's file is kept this long for its confirmation, then deleted.
KEEP_CHECKED_FILE_HOURS = 24
# How often a running import writes its progress (seconds), from a thread of its own: the
# import's transaction would hide it until the end.
PROGRESS_EVERY_SECONDS = 1.0


def in_background(upload) -> bool:
    return upload.size > BACKGROUND_ABOVE_BYTES


def request(*, user, kind: str, upload, params: dict) -> Job:
    """Store the upload where the worker reads it and queue its import as `user`."""
    name = get_valid_filename(upload.name or "import.csv")[-80:]
    path = default_storage.save(f"imports/{uuid.uuid4().hex}/{name}", ContentFile(upload.read()))
    return _queue(user, kind, {**params, "file": path, "filename": name})


def _queue(user, kind: str, params: dict) -> Job:
    params = {**params, "language": translation.get_language()}
    job = Job.objects.create(kind=kind, params=params, created_by=user)
    return job_queue.enqueue(job)


def can_confirm(job: Job, user) -> bool:
    """A finished dry run of the user's own, without errors, whose file is still kept."""
    result = job.result.get("report") or {}
    return (
        job.is_import
        and job.created_by_id == user.pk
        and job.state == Job.State.DONE
        and job.params.get("dry_run")
        and result.get("ok")
        and not job.result.get("confirmed_by")
        and default_storage.exists(job.params.get("file", ""))
    )


def confirm(*, user, job: Job) -> Job:
    """Import the file a dry-run job checked, for real, as a new job."""
    if job.created_by_id != user.pk:
        raise PermissionDenied(_("Only the one who uploaded the file can confirm its import."))
    if not can_confirm(job, user):
        raise ValidationError(
            _("This check cannot be confirmed (any more): upload the file again.")
        )
    confirmed = _queue(user, job.kind, {**job.params, "dry_run": False, "confirms": job.pk})
    job.result = {**job.result, "confirmed_by": confirmed.pk}
    job.save(update_fields=["result"])
    return confirmed


class _Progress:
    """Takes (done, total) from the import; writes it to the Job from a thread with its own
    database connection (live) or, in-process, at once."""

    def __init__(self, job: Job, live: bool):
        self.job_id, self.live = job.pk, live
        self.value: tuple[int, int] | None = None
        self.stop = threading.Event()
        self.thread = None
        if live:
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()

    def __call__(self, done: int, total: int) -> None:
        self.value = (done, total)
        if not self.live:
            self._write()

    def _write(self) -> None:
        if self.value is not None:
            done, total = self.value
            Job.objects.filter(pk=self.job_id).update(
                done=done, total=total, heartbeat_at=timezone.now()
            )

    def _loop(self) -> None:
        try:
            while not self.stop.wait(PROGRESS_EVERY_SECONDS):
                self._write()
        except Exception:  # the job itself reports database trouble
            log.exception("progress of import job %s stopped", self.job_id)
        finally:
            connections.close_all()

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)


def run(job: Job, importer) -> Job:
    """Run an import job: `importer(raw, user, params, progress)` returns the ImportReport.
    The job ends done with the report (errors included: nothing was then written) or, when
    the file cannot be read at all, failed with what to fix. Progress is written as it goes
    on PostgreSQL outside a transaction (a worker); otherwise (in-process, tests) at once."""
    connection = connections["default"]
    live = connection.vendor == "postgresql" and not connection.in_atomic_block
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, started_at=timezone.now(), finished_at=None, done=0, message=""
    )
    job.refresh_from_db()
    progress = _Progress(job, live)
    path = job.params.get("file", "")
    try:
        with translation.override(job.params.get("language")):
            with default_storage.open(path, "rb") as handle:
                raw = handle.read()
            report = importer(raw, job.created_by, job.params, progress)
            job.result = {"report": report.as_dict()}
            job.message = summary(report)
    except ImportFileError as exc:
        job.result, job.message = {"file_error": str(exc)}, str(exc)[:500]
        job.state = Job.State.FAILED
    except (PermissionDenied, FileNotFoundError) as exc:
        job.result, job.message = {}, str(exc)[:500] or exc.__class__.__name__
        job.state = Job.State.FAILED
    except Exception as exc:
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED, finished_at=timezone.now(), message=str(exc)[:500]
        )
        raise
    else:
        job.state = Job.State.DONE
    finally:
        progress.close()
    job.finished_at = timezone.now()
    if job.state == Job.State.DONE:
        job.total = progress.value[1] if progress.value else 1
        job.done = job.total
    job.save(update_fields=["result", "message", "state", "finished_at", "done", "total"])
    keep = job.params.get("dry_run") and job.result.get("report", {}).get("ok")
    if not keep:
        default_storage.delete(path)  # kept only for a dry run's confirmation
    purge_checked_files()
    return job


def purge_checked_files(now=None) -> int:
    """Delete the files of dry runs checked more than KEEP_CHECKED_FILE_HOURS ago (they
    can no longer be confirmed); how many were deleted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=KEEP_CHECKED_FILE_HOURS)
    old = Job.objects.filter(
        kind__in=(Job.Kind.ORGANISATION_IMPORT, Job.Kind.STATUS_IMPORT),
        state=Job.State.DONE,
        finished_at__lt=cutoff,
    )
    deleted = 0
    for params in old.values_list("params", flat=True):
        path = params.get("file")
        if path and params.get("dry_run") and default_storage.exists(path):
            default_storage.delete(path)
            deleted += 1
    return deleted


def summary(report) -> str:
    if report.errors:
        return _("%(n)s errors: nothing was saved.") % {"n": len(report.errors)}
    counts = {"c": report.created, "u": report.updated, "n": report.unchanged}
    if report.dry_run:
        return _("Check passed: %(c)s new, %(u)s updated, %(n)s unchanged; nothing saved yet.") % (
            counts
        )
    return _("Saved: %(c)s new, %(u)s updated, %(n)s unchanged.") % counts
