"""The pages of an import run as a job (actors.import_jobs): queueing a large upload from
an import page, the job's page with its progress and, when done, its report, and the
confirmation of a dry run."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from . import import_jobs
from .forms import save_or_message
from .models import Job

# The import page each kind of job came from (URL names; rollout's page by name only).
IMPORT_PAGES = {
    Job.Kind.ORGANISATION_IMPORT: ("actors:organisation_import", _("Import organisations")),
    Job.Kind.STATUS_IMPORT: ("rollout:status_import", _("Import rollout statuses from CSV")),
}


def queued(request, form, kind: str):
    """For an import page: a redirect to the job page when the valid form's upload is too
    large for the web request (queued as a job), else None (import it at once)."""
    upload = form.cleaned_data["file"]
    if not import_jobs.in_background(upload):
        return None
    job = import_jobs.request(user=request.user, kind=kind, upload=upload, params=form.job_params())
    return redirect("actors:import_job", job.pk)


def _job(request, pk: int) -> Job:
    return get_object_or_404(
        Job.objects.visible_to(request.user).filter(kind__in=IMPORT_PAGES), pk=pk
    )


@login_required
@require_safe
def import_job(request, pk: int):
    """The job's page; htmx polls its progress fragment until the job is finished, which
    then shows the report (and, for a dry run without errors, the button to import)."""
    job = _job(request, pk)
    url_name, title = IMPORT_PAGES[job.kind]
    context = {
        "job": job,
        "report": job.result.get("report"),
        "can_confirm": import_jobs.can_confirm(job, request.user),
        "page_title": title,
        "back_url": reverse(url_name),
    }
    if request.headers.get("HX-Request"):
        return render(request, "actors/_import_job.html", context)
    return render(request, "actors/import_job.html", context)


@login_required
@require_POST
def import_job_confirm(request, pk: int):
    """Import the file a dry-run job checked, as a new job; its page follows."""
    job = _job(request, pk)
    done, confirmed = save_or_message(
        request, lambda: import_jobs.confirm(user=request.user, job=job)
    )
    return redirect("actors:import_job", confirmed.pk if done else job.pk)
