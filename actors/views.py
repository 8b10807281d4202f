import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Sum, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from . import exports, list_controls, list_export, pages, scoping, selectors, services
from .choices import Role
from .concurrency import VersionConflict
from .filtersets import MunicipalityPageFilterSet, OrganisationFilterSet
from .forms import OrganisationForm, OrganisationImportForm, save_to_form
from .imports import ImportFileError, import_organisations
from .listing import page_of, query_without, quick_selects
from .models import (
    Catchment,
    County,
    HealthTrust,
    Job,
    Municipality,
    Organisation,
    User,
)
from .numbers import resolve_number
from .structure import StructureOn, population_year_for

PAGE_SIZE = 50
TYPE_PAGE_SIZE = 50  # organisations of one type on a municipality's page
OPEN_UP_TO = 15  # a type with no more organisations shows them open on the page
REGISTRY_HISTORY_PAGE = 20


def _type_chart(type_counts) -> dict:
    return {
        "labels": [row["type"].name for row in type_counts],
        "values": [row["count"] for row in type_counts],
        "horizontal": True,
    }


@login_required
def home(request):
    """The start page: what the signed-in user's role needs first."""
    scope = scoping.scope_for(request.user)
    if scope.role == Role.DIRECTORATE:
        # The directorate's first question: will we reach the targets, and where are we behind?
        return redirect("benefits:target_dashboard")
    organisations = Organisation.objects.visible_to(request.user)
    context = {
        "notifications": request.user.notifications.filter(read_at=None)[:10],
        "type_counts": selectors.type_counts(organisations),
        "organisation_total": organisations.filter(is_active=True).count(),
    }
    if scope.role == Role.MUNICIPALITY_CONTACT:
        context["municipalities"] = selectors.municipalities_with_counts(
            Municipality.objects.visible_to(request.user)
        )
    else:
        context["areas"] = selectors.area_rows(request.user)
        municipalities = Municipality.objects.visible_to(request.user)
        context["municipality_count"] = municipalities.count()
        context["population"] = municipalities.aggregate(p=Sum("population"))["p"] or 0
        context["population_year"] = municipalities.aggregate(y=Max("population_year"))["y"]
    context["chart"] = _type_chart(context["type_counts"])
    context.update(pages.contributions("home", request))
    return render(request, "actors/home.html", context)


@login_required
def municipality_list(request):
    """Today's municipalities, or with `?dato=YYYY-MM-DD` those of that day under that
    day's numbers, names and counties (StructureOn); the county filter offers that day's
    counties. A row links to the municipality's page of today."""
    filterset = MunicipalityPageFilterSet(request.GET, queryset=None, request=request)
    quick_selects(filterset.form).is_valid()
    day = filterset.form.cleaned_data.get("dato") or filterset.form.cleaned_data.get("date")
    municipalities = Municipality.objects.visible_to(request.user)
    if not day:
        municipalities = municipalities.current()
    filterset.queryset = municipalities.select_related("county").order_by("number")
    structure = StructureOn(day)
    rows = list(filterset.qs)
    todays_number = {m.pk: m.number for m in rows}
    if day:
        _as_on(rows, structure)
    page = page_of(request, rows, 100)
    # What the page's rows show beyond the municipality itself: its areas and its number
    # of active organisations, read for those rows only.
    prefetch_related_objects(page.object_list, "health_trusts")
    counts = dict(
        Organisation.objects.filter(municipality__in=page.object_list, is_active=True)
        .values_list("municipality")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for m in page:
        # today's page, also from a row of a past day
        m.url = reverse("actors:municipality_detail", args=[todays_number[m.pk]])
        m.organisation_count = counts.get(m.pk, 0)
    return render(
        request,
        "actors/municipality_list.html",
        {
            "filterset": filterset,
            "day": day,
            "structure_heading": _(
                "Municipal structure on %(day)s: %(m)s municipalities in %(c)s counties"
            )
            % {
                "day": structure.day.strftime("%d.%m.%Y"),
                "m": len(structure),
                "c": len(structure.county_ids),
            },
            "population_year": (
                population_year_for(day) if day else (rows[0].population_year if rows else None)
            ),
            "page": page,
            "query": query_without(request, "page"),
            "today_query": query_without(request, "page", "dato", "date"),
        },
    )


@login_required
def municipality_detail(request, number):
    """Today's number shows the page; an earlier one redirects or offers the choice."""
    municipality = (
        Municipality.objects.visible_to(request.user)
        .select_related("county")
        .filter(number=number)
        .first()
    )
    if municipality is None:
        return _earlier_number(request, number)
    catchments = Catchment.objects.filter(municipality=municipality).select_related("health_trust")
    # Who reports for the municipality, shown to all who see it; those who give access
    # (can_manage_users, from the context) open each one's user page: a coordinator for
    # areas sees the municipalities whose contacts they manage (actors.access).
    contacts = User.objects.filter(
        role=Role.MUNICIPALITY_CONTACT, municipalities=municipality, is_active=True
    ).order_by("last_name", "first_name")
    groups = _type_pages(request, municipality)
    shown = [o for g in groups for o in g["page"].object_list]
    extra = pages.contributions(
        "municipality_detail", request, municipality=municipality, organisations=shown
    )
    _with_cells(groups, extra.get("solutions", []), extra.pop("grid", []))
    return render(
        request,
        "actors/municipality_detail.html",
        {
            "municipality": municipality,
            "catchments": catchments,
            "contacts": contacts,
            "groups": groups,
            "type_page_size": TYPE_PAGE_SIZE,
            **_history(municipality),
            **extra,
            "chart": _type_chart([{"type": g["type"], "count": g["count"]} for g in groups]),
        },
    )


def _type_pages(request, municipality: Municipality) -> list[dict]:
    """A group per organisation type of the municipality: how many, and the page of them
    its own parameter asks for (`?page_<type code>=N`, TYPE_PAGE_SIZE a page), so a large
    municipality's page stays short. Three queries whatever the number of rows."""
    groups = []
    for kind, count in selectors.municipality_types(request.user, municipality):
        param = f"page_{kind.code}"
        # The page of positions; its rows are read below for every type at once.
        page = page_of(request, range(count), TYPE_PAGE_SIZE, param)
        groups.append(
            {
                "type": kind,
                "count": count,
                "page": page,
                "param": param,
                "query": query_without(request, param),
                "anchor": f"#type-{kind.code}",
                "open": count <= OPEN_UP_TO or param in request.GET,
            }
        )
    skip = {g["type"].pk: g["page"].start_index() - 1 for g in groups}
    rows = selectors.municipality_type_rows(request.user, municipality, skip, TYPE_PAGE_SIZE)
    for g in groups:
        g["page"].object_list = rows.get(g["type"].pk, [])
    return groups


def _with_cells(groups: list[dict], columns: list, grid: list[dict]) -> None:
    """Give each shown organisation the cells the apps above contributed for it (`grid`:
    [{organisation, cells}], a cell per column, None where the column does not apply to
    its type), and each group the columns that apply to its type."""
    cells = {row["organisation"].pk: row["cells"] for row in grid}
    for g in groups:
        rows = g["page"].object_list
        first = cells.get(rows[0].pk, []) if rows else []
        keep = [i for i, cell in enumerate(first) if cell is not None]
        g["columns"] = [columns[i] for i in keep]
        for o in rows:
            own = cells.get(o.pk, [])
            o.cells = [own[i] for i in keep if i < len(own)]


def _as_on(rows, structure: StructureOn) -> None:
    """Give each row the number, name and county of the structure's day and the residents
    the day's figures use (population_year_for, counted in the day's municipalities; the
    67+ figure is today's only, so it is left out); sorted by that day's number."""
    counties = County.objects.in_bulk(structure.county_ids)
    year = population_year_for(structure.day)
    residents = structure.population(year) if year else {}
    for m in rows:
        place = structure.places[m.pk]
        m.number, m.name, m.county = place.number, place.name, counties[place.county_id]
        m.population = residents.get(m.pk)
        m.population_67_plus = None
        m.population_year = year
    rows.sort(key=lambda m: m.number)


def _earlier_number(request, number: str):
    """A number the municipality had before (3001 → 3101 Halden) redirects to today's
    page; one that was split (1507) lists the municipalities it became; others are 404.
    The redirect is temporary (302): a number that is ambiguous today may be given a
    meaning by a later change, and browsers keep a permanent redirect for good."""
    visible = Municipality.objects.visible_to(request.user).current()
    resolved = resolve_number(number, visible)
    if resolved.municipality:
        return redirect(resolved.municipality)
    choices = [m for m in resolved.choices if m in visible]
    if not choices:
        raise Http404
    return render(
        request,
        "actors/municipality_choose.html",
        {"number": number, "message": resolved.error, "choices": choices},
    )


def _history(municipality: Municipality) -> dict:
    """What the municipality's page says about its past: earlier numbers and names (with
    the last day of each), and the municipalities it was split from or merged with."""
    versions = list(municipality.versions.select_related("county"))
    earlier = [
        v
        for v in versions
        if v.valid_to and (v.number, v.name) != (municipality.number, municipality.name)
    ]

    def as_it_was(other: Municipality, day: datetime.date) -> str:
        then = other.versions.filter(valid_from__lte=day).order_by("-valid_from").first()
        return f"{then.number} {then.name}" if then else str(other)

    links = []
    start = municipality.valid_from
    for p in municipality.predecessors.all():
        before = start - datetime.timedelta(days=1)
        kind = "split_from" if p.valid_to is None or p.valid_to > before else "merged_from"
        links.append({"kind": kind, "other": p, "name": as_it_was(p, before), "day": start})
    for s in municipality.successors.all():
        kind = "split_off" if municipality.valid_to is None else "merged_into"
        links.append({"kind": kind, "other": s, "name": str(s), "day": s.valid_from})
    return {"earlier": earlier, "links": links}


@login_required
def healthtrust_list(request):
    return render(
        request, "actors/healthtrust_list.html", {"areas": selectors.area_rows(request.user)}
    )


@login_required
def healthtrust_detail(request, code):
    trust = get_object_or_404(
        HealthTrust.objects.visible_to(request.user).select_related("regional_health_authority"),
        code=code,
    )
    catchments = (
        Catchment.objects.filter(health_trust=trust)
        .select_related("municipality__county")
        .order_by("-population")
    )
    organisations = Organisation.objects.visible_to(request.user).filter(health_trust=trust)
    type_counts = selectors.type_counts(organisations)
    return render(
        request,
        "actors/healthtrust_detail.html",
        {
            "trust": trust,
            "catchments": catchments,
            "population": sum(c.population for c in catchments),
            "type_counts": type_counts,
            "chart": _type_chart(type_counts),
        },
    )


ORGANISATION_COLUMNS = (
    list_controls.Col(gettext_lazy("Name"), "name"),
    list_controls.Col(gettext_lazy("Type"), "type"),
    list_controls.Col(gettext_lazy("Organisation number"), "orgnr"),
    list_controls.Col(gettext_lazy("Municipality"), "municipality"),
    list_controls.Col(gettext_lazy("Health-trust area"), "health_trust"),
)


@login_required
def organisation_list(request):
    queryset = Organisation.objects.visible_to(request.user).select_related(
        "type", "municipality__county", "health_trust"
    )
    filterset = OrganisationFilterSet(request.GET, queryset=queryset, request=request)
    quick_selects(filterset.form)
    rows = filterset.qs
    ordering = list_controls.chosen_ordering(filterset)
    if fmt := list_controls.export_format(request):
        fields = [
            *list_export.organisation_fields(),
            list_export.Field(exports.Column(_("County"), width=20), "municipality__county__name"),
            list_export.Field(exports.Column(_("Record system"), width=25), "record_system__name"),
            list_export.Field(exports.Column(_("Active")), "is_active", exports.yes_no),
        ]
        return list_export.queryset_response(fmt, "virksomheter", fields, rows)
    if ordering:
        # By type, municipality or area: a page sorts the rows of its groups only.
        rows = list_controls.in_order(rows, ordering)
    size = list_controls.page_size(request, PAGE_SIZE)
    return render(
        request,
        "actors/organisation_list.html",
        {
            "filterset": filterset,
            "page": page_of(request, rows, size),
            **list_controls.controls(request, ORGANISATION_COLUMNS, ordering, size, "name"),
            "can_create": scoping.scope_for(request.user).can_edit,
            "can_import": scoping.can_import_organisations(request.user),
        },
    )


@login_required
def organisation_detail(request, pk):
    organisation = get_object_or_404(
        Organisation.objects.visible_to(request.user).select_related(
            "type", "municipality__county", "health_trust", "record_system__vendor"
        ),
        pk=pk,
    )
    can_edit = Organisation.objects.editable_by(request.user).filter(pk=pk).exists()
    registry_history = organisation.registry_changes.select_related("changed_by")
    return render(
        request,
        "actors/organisation_detail.html",
        {
            "organisation": organisation,
            "can_edit": can_edit,
            "registry_page": page_of(
                request, registry_history, REGISTRY_HISTORY_PAGE, "registry_page"
            ),
            **pages.contributions("organisation_detail", request, organisation=organisation),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create(request):
    if not scoping.scope_for(request.user).can_edit:
        raise PermissionDenied
    form = OrganisationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        ok, organisation = save_to_form(
            form,
            lambda: services.organisation_create(
                user=request.user, reason=form.cleaned_data["reason"], **form.changes()
            ),
        )
        if ok:
            messages.success(request, _("Organisation created."))
            return redirect(organisation)
    return render(request, "actors/organisation_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def organisation_edit(request, pk):
    organisation = get_object_or_404(Organisation.objects.editable_by(request.user), pk=pk)
    form = OrganisationForm(request.POST or None, instance=organisation, user=request.user)
    conflict = None
    if request.method == "POST" and form.is_valid():
        ok, outcome = save_to_form(
            form,
            lambda: services.organisation_update(
                user=request.user,
                organisation_id=pk,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                **form.changes(),
            ),
            not_found=Organisation.DoesNotExist,
        )
        if ok:
            messages.success(request, _("Changes saved."))
            return redirect(outcome)
        if isinstance(outcome, VersionConflict):
            conflict = _conflict_rows(form, outcome.current)
    return render(
        request,
        "actors/organisation_form.html",
        {"form": form, "organisation": organisation, "conflict": conflict},
    )


def _conflict_rows(form, current) -> list[dict]:
    """Fields where the saved record now differs from what the user typed."""
    current = Organisation.objects.select_related().get(pk=current.pk)
    rows = []
    for name in form.Meta.fields:
        saved = getattr(current, name)
        typed = form.cleaned_data.get(name)
        if saved != typed:
            rows.append({"label": form.fields[name].label, "saved": saved, "typed": typed})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def organisation_import(request):
    if not scoping.can_import_organisations(request.user):
        raise PermissionDenied
    form = OrganisationImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        from .import_views import queued

        if large := queued(request, form, Job.Kind.ORGANISATION_IMPORT):
            return large  # a job, never in the web request
        upload = form.cleaned_data["file"]
        try:
            report = import_organisations(
                raw=upload.read(),
                user=request.user,
                dry_run=form.cleaned_data["dry_run"],
                source=form.cleaned_data["source"],
                full=form.cleaned_data["full"],
                limits=form.limits(),
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            if report.written:
                messages.success(
                    request,
                    _(
                        "Import saved: %(c)s created, %(u)s updated, %(d)s deactivated, "
                        "%(n)s unchanged."
                    )
                    % {
                        "c": report.created,
                        "u": report.updated,
                        "d": len(report.deactivated),
                        "n": report.unchanged,
                    },
                )
    return render(
        request,
        "import_page.html",
        {
            "form": form,
            "report": report,
            "page_title": _("Import organisations"),
            "intro": _(
                "Every row is checked first. If any row has an error, nothing is saved and every "
                "error is listed with its line and column. A row whose organisation number "
                "already exists in your area of responsibility updates that organisation; the "
                "check lists every field that would change. Moving an organisation to another "
                "municipality or area needs a coordinator for both places."
            ),
            "back_url": reverse("actors:organisation_list"),
            "back_label": _("Organisations"),
        },
    )


@login_required
@require_safe
def job_status(request, pk: int):
    """A job's progress as a small fragment; htmx polls it until the job is finished."""
    job = get_object_or_404(Job.objects.visible_to(request.user), pk=pk)
    return render(request, "actors/_job.html", {"job": job})


@login_required
@require_safe
def job_download(request, pk: int):
    """The file a job made, for the user who asked for it only, while it is kept."""
    job = get_object_or_404(Job, pk=pk, created_by=request.user)
    if not job.has_file:
        raise Http404(_("The file is not ready, or it has been deleted."))
    try:
        return exports.job_file(job)
    except FileNotFoundError as exc:
        raise Http404(_("The file has been deleted.")) from exc
