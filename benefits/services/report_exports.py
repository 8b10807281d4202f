"""Status report files: queued for a user, built and stored by a job, deleted after their
time."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from actors.models import Job
from rollout.services import today as rollout_today

from .. import jobs
from .coverage_jobs import job_progress, param_date


def report_export_request(*, user, kind: str, key: str | None, since, fmt: str) -> Job:
    """Queue a status report file for the user (large reports; small ones are streamed
    directly by the views). The file is the user's alone and kept for a limited time."""
    from .. import report_files, reports

    place = reports.report_place(user, kind, key)
    if place is None:
        raise PermissionDenied(_("That report is not within your reach."))
    if fmt not in report_files.FORMATS:
        raise ValidationError({"format": _("Choose xlsx, csv or pdf.")})
    since = param_date({"since": since}, "since", reports.default_since())
    if since > rollout_today():
        raise ValidationError({"since": _("The date cannot be in the future.")})
    job = Job.objects.create(
        kind=Job.Kind.REPORT_EXPORT,
        params={"kind": kind, "scope": place.key, "since": since.isoformat(), "format": fmt},
        created_by=user,
    )
    return jobs.enqueue(job)


def report_path(job: Job, filename: str) -> str:
    return f"reports/{job.pk}/{filename}"


def report_job_run(job: Job) -> Job:
    """Build and render a queued report as its owner sees it, and store the file."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from .. import report_files, reports

    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, started_at=timezone.now(), finished_at=None, done=0, message=""
    )
    job.refresh_from_db()
    try:
        user, params = job.created_by, job.params
        place = reports.report_place(user, params["kind"], params["scope"])
        if place is None:  # the user's reach changed since it was asked for
            raise PermissionDenied(_("That report is no longer within your reach."))

        def progress(done: int, total: int) -> None:
            job_progress(job, done=done, total=total + 1)  # + rendering the file

        report = reports.build(
            user, params["kind"], place, datetime.date.fromisoformat(params["since"]), progress
        )
        fmt = params["format"]
        filename = report.filename(report_files.EXTENSIONS[fmt])
        path = default_storage.save(
            report_path(job, filename), ContentFile(report_files.render(report, fmt))
        )
        expires = timezone.now() + datetime.timedelta(hours=settings.REPORT_FILE_HOURS)
        job.result = {
            "file": path,
            "filename": filename,
            "content_type": report_files.CONTENT_TYPES[fmt],
            "expires": expires.isoformat(),
        }
        job.done, job.state, job.finished_at = job.total, Job.State.DONE, timezone.now()
        job.message = _("%(f)s is ready until %(t)s.") % {
            "f": filename,
            "t": timezone.localtime(expires).strftime("%d.%m.%Y %H:%M"),
        }
        job.save(update_fields=["result", "done", "state", "finished_at", "message"])
    except Exception as exc:
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED, finished_at=timezone.now(), message=str(exc)[:500]
        )
        raise
    return job


def report_files_purge(now=None) -> int:
    """Delete report files past their time; the job rows stay, saying the file is gone."""
    from django.core.files.storage import default_storage

    now = now or timezone.now()
    purged = 0
    for job in Job.objects.filter(kind=Job.Kind.REPORT_EXPORT, state=Job.State.DONE):
        path, expires = job.result.get("file"), job.result.get("expires")
        if not path or not expires or datetime.datetime.fromisoformat(expires) > now:
            continue
        default_storage.delete(path)
        job.result = {**job.result, "file": None}
        job.message = _("The file was deleted after %(h)s hours.") % {
            "h": settings.REPORT_FILE_HOURS
        }
        job.save(update_fields=["result", "message"])
        purged += 1
    return purged
