"""Status reports: the HTML preview (exactly what the files hold) and the exports. Small
reports (an area, a municipality) are sent at once; the national report is made by a
Celery job whose progress the page shows, with a download link when it is done."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from actors import exports, scoping
from actors.choices import Role
from actors.forms import save_or_message
from actors.models import Job

from . import coverage, report_files, reports, services
from .choices import Level

# Reports made by a job rather than in the request (the rest are small enough to stream).
QUEUED_KINDS = {reports.NATIONAL}
KIND_OF_PREFIX = {
    "nation": reports.NATIONAL,
    "area": reports.AREA,
    "municipality": reports.MUNICIPALITY,
}


def _choices(user, options: list[coverage.ScopeRef]) -> dict:
    """The reports the user may ask for (among the places of coverage.scope_options):
    national (sees all), areas, municipalities."""
    scope = scoping.scope_for(user)
    return {
        "national": scope.sees_all,
        "areas": [o for o in options if o.level == Level.AREA]
        if scope.role != Role.MUNICIPALITY_CONTACT
        else [],
        "municipalities": [o for o in options if o.level == Level.MUNICIPALITY],
    }


def _default(user, choices: dict) -> tuple[str, str | None]:
    if choices["national"]:
        return reports.NATIONAL, None
    if choices["areas"]:
        return reports.AREA, choices["areas"][0].key
    if choices["municipalities"]:
        return reports.MUNICIPALITY, choices["municipalities"][0].key
    raise PermissionDenied(_("Your user has no role."))


def _since(raw: str | None) -> datetime.date:
    try:
        since = datetime.date.fromisoformat(raw) if raw else reports.default_since()
    except ValueError as exc:
        raise Http404(_("Give the date as YYYY-MM-DD.")) from exc
    return min(since, timezone.localdate())


def _request(user, data) -> tuple[str, coverage.ScopeRef, datetime.date, dict]:
    """The report asked for (kind, place, since) and the choices offered (the user's places
    read once)."""
    options = coverage.scope_options(user)
    choices = _choices(user, options)
    kind, key = _default(user, choices)
    if data.get("scope"):
        key = data["scope"]
        kind = data.get("kind") or KIND_OF_PREFIX.get(key.split(":")[0], "")
    place = reports.report_place(user, kind, key, options)
    if place is None:
        raise Http404(_("No such report within your reach."))
    return kind, place, _since(data.get("since")), choices


@login_required
@require_safe
def report_preview(request):
    kind, place, since, choices = _request(request.user, request.GET)
    report = reports.build(request.user, kind, place, since)
    job = None
    if request.GET.get("job", "").isdigit():
        job = (
            Job.objects.visible_to(request.user)
            .filter(pk=request.GET["job"], kind=Job.Kind.REPORT_EXPORT)
            .first()
        )
    return render(
        request,
        "benefits/report_preview.html",
        {
            "report": report,
            "kind": kind,
            "since": since,
            "choices": choices,
            "formats": report_files.FORMATS,
            "queued": kind in QUEUED_KINDS,
            "job": job,
        },
    )


@login_required
@require_POST
def report_export(request):
    """A file of the report: streamed at once when small, else made by a job."""
    kind, place, since, _choices_offered = _request(request.user, request.POST)
    fmt = request.POST.get("format")
    if fmt not in report_files.FORMATS:
        raise Http404(_("Choose xlsx, csv or pdf."))
    if kind in QUEUED_KINDS:
        ok, job = save_or_message(
            request,
            lambda: services.report_export_request(
                user=request.user, kind=kind, key=place.key, since=since, fmt=fmt
            ),
        )
        query = {"kind": kind, "scope": place.key, "since": since.isoformat()}
        if ok:
            query["job"] = job.pk
        return redirect(f"{reverse('benefits:report_preview')}?{urlencode(query)}")
    report = reports.build(request.user, kind, place, since)
    return exports.attachment(
        report_files.render(report, fmt),
        report_files.CONTENT_TYPES[fmt],
        report.filename(report_files.EXTENSIONS[fmt]),
    )
