"""Pages for decision points, the change log and the cut list (styring).

Every user with a role reads them; the directorate, national coordinators and
administrators write (see access.can_govern). No role: 403. Every write goes through
the services of benefits.governance; versioned records carry a hidden `version` field and the
loser of a race sees the newer values with what they typed kept.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from actors import exports, scoping
from actors.forms import DateInput, VersionedForm, save_or_message, save_to_form
from actors.listing import page_of
from actors.models import HealthTrust
from rollout.choices import ChangeKind, CutStatus, DecisionPointStatus
from rollout.models import (
    ChangeLogEntry,
    CutListItem,
    Decision,
    DecisionPoint,
    GovernanceSchedule,
    Solution,
)

from ..exports import export_changelog
from . import access, briefs, changelog, cutlist, decision_points, decisions, whatif

# --- forms ------------------------------------------------------------------------------


class ScheduleForm(VersionedForm):
    class Meta:
        model = GovernanceSchedule
        fields = ["cadence", "first_date"]
        widgets = {"first_date": DateInput}


class PointForm(VersionedForm):
    class Meta:
        model = DecisionPoint
        fields = ["title", "scheduled_for", "summary", "scope_until_next"]
        widgets = {
            "scheduled_for": DateInput,
            "summary": forms.Textarea(attrs={"rows": 3}),
            "scope_until_next": forms.Textarea(attrs={"rows": 3}),
        }


class CloseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    held_on = forms.DateField(label=gettext_lazy("Held"), widget=DateInput)
    summary = forms.CharField(
        label=gettext_lazy("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    scope_until_next = forms.CharField(
        label=gettext_lazy("Scope until the next point"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Written to the change log."),
    )


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = [
            "kind",
            "text",
            "reason",
            "cost_benefit_note",
            "solution",
            "health_trust",
            "effective_date",
        ]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3}),
            "reason": forms.Textarea(attrs={"rows": 2}),
            "cost_benefit_note": forms.Textarea(attrs={"rows": 2}),
            "effective_date": DateInput,
        }
        help_texts = {
            "health_trust": gettext_lazy(
                "For starting or stopping an area: the area's rollout record is updated."
            ),
        }


class ChangeLogForm(forms.ModelForm):
    class Meta:
        model = ChangeLogEntry
        fields = ["kind", "title", "reason", "cost_benefit_note", "subject", "decision_point"]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3}),
            "cost_benefit_note": forms.Textarea(attrs={"rows": 2}),
        }


class CutItemForm(VersionedForm):
    class Meta:
        model = CutListItem
        fields = list(cutlist.CUT_FIELDS)
        widgets = {
            "justification": forms.Textarea(attrs={"rows": 3}),
            "cost_consequence": forms.Textarea(attrs={"rows": 2}),
            "benefit_consequence": forms.Textarea(attrs={"rows": 2}),
        }


class CutDecideForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[(CutStatus.CUT, CutStatus.CUT.label), (CutStatus.KEPT, CutStatus.KEPT.label)],
    )
    decision_point = forms.ModelChoiceField(
        label=gettext_lazy("Decision point"),
        queryset=DecisionPoint.objects.exclude(status=DecisionPointStatus.DECIDED),
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    effective_date = forms.DateField(
        label=gettext_lazy("Takes effect"),
        required=False,
        widget=DateInput,
        help_text=gettext_lazy("Cutting an area stops it from this date; empty means today."),
    )


# --- helpers ----------------------------------------------------------------------------


def _require_read(user) -> None:
    if not access.can_read(user):
        raise PermissionDenied


def _require_govern(user) -> None:
    if not access.can_govern(user):
        raise PermissionDenied


def _form_page(request, form, title: str, back: str, intro: str = ""):
    return render(
        request,
        "benefits/governance/decision_form.html",
        {"form": form, "title": title, "back": back, "intro": intro},
    )


def _dates(value):
    """ISO dates in a stored brief back to dates, for display."""
    if isinstance(value, dict):
        return {k: _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


# --- decision points --------------------------------------------------------------------


@login_required
def decision_point_list(request):
    _require_read(request.user)
    points = DecisionPoint.objects.select_related("decided_by").order_by("-scheduled_for", "-id")
    return render(
        request,
        "benefits/governance/decision_point_list.html",
        {
            "points": points,
            "schedule": decision_points.schedule_for(),
            "can_govern": access.can_govern(request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_schedule(request):
    _require_govern(request.user)
    schedule = decision_points.schedule_for()
    if schedule is None:
        raise Http404
    form = ScheduleForm(request.POST or None, instance=schedule)
    if request.method == "POST" and form.is_valid():
        ok, saved = save_to_form(
            form,
            lambda: decision_points.schedule_save(
                user=request.user,
                schedule=schedule,
                cadence=form.cleaned_data["cadence"],
                first_date=form.cleaned_data["first_date"],
                expected_version=form.cleaned_data["version"],
            ),
        )
        if ok:
            messages.success(request, _("Schedule saved."))
            return redirect("governance:decision_point_list")
    return _form_page(
        request, form, _("Decision-point schedule"), reverse("governance:decision_point_list")
    )


@login_required
@require_POST
def decision_points_generate(request):
    _require_govern(request.user)
    schedule = decision_points.schedule_for()
    if schedule is None:
        raise Http404
    created = decision_points.points_generate(user=request.user, schedule=schedule)
    messages.success(
        request, _("%(n)s decision points added from the schedule.") % {"n": len(created)}
    )
    return redirect("governance:decision_point_list")


@login_required
@require_http_methods(["GET", "POST"])
def decision_point_create(request):
    _require_govern(request.user)
    form = PointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {f: form.cleaned_data[f] for f in PointForm.Meta.fields}
        ok, point = save_to_form(
            form,
            lambda: decision_points.point_save(
                user=request.user, point_id=None, expected_version=None, fields=fields
            ),
        )
        if ok:
            return redirect("governance:decision_point_detail", point.pk)
    return _form_page(
        request, form, _("New decision point"), reverse("governance:decision_point_list")
    )


@login_required
def decision_point_detail(request, pk):
    _require_read(request.user)
    point = get_object_or_404(DecisionPoint.objects.select_related("decided_by"), pk=pk)
    brief = _dates(briefs.brief_for(request.user, point))
    return render(
        request,
        "benefits/governance/decision_point_detail.html",
        {
            "point": point,
            "brief": brief,
            "sees_all": scoping.scope_for(request.user).sees_all,
            "decisions": point.decisions.select_related("solution", "health_trust", "decided_by"),
            "changes": point.changes.select_related("recorded_by"),
            "can_govern": access.can_govern(request.user),
            "is_open": point.status != DecisionPointStatus.DECIDED,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_point_edit(request, pk):
    _require_govern(request.user)
    point = get_object_or_404(DecisionPoint, pk=pk)
    form = PointForm(request.POST or None, instance=point)
    if request.method == "POST" and form.is_valid():
        fields = {f: form.cleaned_data[f] for f in PointForm.Meta.fields}
        ok, saved = save_to_form(
            form,
            lambda: decision_points.point_save(
                user=request.user,
                point_id=point.pk,
                expected_version=form.cleaned_data["version"],
                fields=fields,
            ),
        )
        if ok:
            return redirect("governance:decision_point_detail", point.pk)
    back = reverse("governance:decision_point_detail", args=[point.pk])
    return _form_page(request, form, point.title, back)


@login_required
@require_POST
def decision_brief(request, pk):
    _require_govern(request.user)
    point = get_object_or_404(DecisionPoint, pk=pk)
    ok, _point = save_or_message(
        request, lambda: briefs.brief_generate(user=request.user, point=point)
    )
    if ok:
        messages.success(request, _("Brief prepared from the current data."))
    return redirect("governance:decision_point_detail", point.pk)


@login_required
@require_http_methods(["GET", "POST"])
def decision_create(request, pk):
    _require_govern(request.user)
    point = get_object_or_404(DecisionPoint, pk=pk)
    form = DecisionForm(request.POST or None)
    form.fields["solution"].queryset = Solution.objects.all()
    form.fields["health_trust"].queryset = HealthTrust.objects.all()
    if request.method == "POST" and form.is_valid():
        ok, _decision = save_to_form(
            form,
            lambda: decisions.decision_record(
                user=request.user,
                point=point,
                **{f: form.cleaned_data[f] for f in DecisionForm.Meta.fields},
            ),
            refused=(PermissionDenied,),
        )
        if ok:
            messages.success(request, _("Decision recorded."))
            return redirect("governance:decision_point_detail", point.pk)
    back = reverse("governance:decision_point_detail", args=[point.pk])
    return _form_page(request, form, _("New decision: %(t)s") % {"t": point.title}, back)


@login_required
@require_http_methods(["GET", "POST"])
def decision_point_close(request, pk):
    _require_govern(request.user)
    point = get_object_or_404(DecisionPoint, pk=pk)
    initial = {
        "version": point.version,
        "held_on": point.held_on or min(point.scheduled_for, timezone.localdate()),
        "summary": point.summary,
        "scope_until_next": point.scope_until_next,
    }
    form = CloseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ok, saved = save_to_form(
            form,
            lambda: decision_points.point_close(
                user=request.user,
                point=point,
                held_on=form.cleaned_data["held_on"],
                summary=form.cleaned_data["summary"],
                scope_until_next=form.cleaned_data["scope_until_next"],
                expected_version=form.cleaned_data["version"],
            ),
        )
        if ok:
            messages.success(request, _("The decision point is closed."))
            return redirect("governance:decision_point_detail", point.pk)
    back = reverse("governance:decision_point_detail", args=[point.pk])
    return _form_page(request, form, _("Close %(t)s") % {"t": point.title}, back)


# --- change log -------------------------------------------------------------------------


def changelog_queryset(request):
    qs = ChangeLogEntry.objects.select_related("recorded_by", "decision_point")
    kind = request.GET.get("kind")
    if kind in ChangeKind.values:
        qs = qs.filter(kind=kind)
    return qs


@login_required
def changelog_list(request):
    _require_read(request.user)
    page = page_of(request, changelog_queryset(request), 100)
    return render(
        request,
        "benefits/governance/changelog_list.html",
        {
            "page": page,
            "kinds": ChangeKind.choices,
            "kind": request.GET.get("kind", ""),
            "can_govern": access.can_govern(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def changelog_create(request):
    _require_govern(request.user)
    form = ChangeLogForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, _entry = save_to_form(
            form, lambda: changelog.changelog_entry_create(user=request.user, **form.cleaned_data)
        )
        if ok:
            messages.success(request, _("Change recorded."))
            return redirect("governance:changelog_list")
    return _form_page(
        request,
        form,
        _("Record a change"),
        reverse("governance:changelog_list"),
        _("The change log is append-only: an entry cannot be changed or deleted afterwards."),
    )


@login_required
def changelog_export(request):
    _require_read(request.user)
    fmt = request.GET.get("format", exports.XLSX)
    if fmt not in exports.FORMATS:
        raise Http404
    return export_changelog(changelog_queryset(request), fmt)


# --- cut list ---------------------------------------------------------------------------


@login_required
def cutlist_list(request):
    _require_read(request.user)
    items = CutListItem.objects.select_related(
        "solution", "health_trust", "decision__decision_point"
    )
    return render(
        request,
        "benefits/governance/cutlist_list.html",
        {"items": items, "can_govern": access.can_govern(request.user)},
    )


def _cut_form(request, item):
    form = CutItemForm(request.POST or None, instance=item)
    form.fields["solution"].queryset = Solution.objects.all()
    form.fields["health_trust"].queryset = HealthTrust.objects.all()
    if request.method == "POST" and form.is_valid():
        fields = {f: form.cleaned_data[f] for f in cutlist.CUT_FIELDS}
        ok, saved = save_to_form(
            form,
            lambda: cutlist.cut_item_save(
                user=request.user,
                item_id=item.pk,
                expected_version=form.cleaned_data["version"],
                fields=fields,
            ),
        )
        if ok:
            messages.success(request, _("Cut-list item saved."))
            return redirect("governance:cutlist_list")
    title = item.title if item.pk else _("Propose a cut-list item")
    return _form_page(request, form, title, reverse("governance:cutlist_list"))


@login_required
@require_http_methods(["GET", "POST"])
def cutlist_create(request):
    _require_govern(request.user)
    return _cut_form(request, CutListItem())


@login_required
@require_http_methods(["GET", "POST"])
def cutlist_edit(request, pk):
    _require_govern(request.user)
    item = get_object_or_404(CutListItem, pk=pk, status=CutStatus.PROPOSED)
    return _cut_form(request, item)


@login_required
@require_http_methods(["GET", "POST"])
def cutlist_decide(request, pk):
    _require_govern(request.user)
    item = get_object_or_404(
        CutListItem.objects.select_related("solution", "health_trust"),
        pk=pk,
        status=CutStatus.PROPOSED,
    )
    form = CutDecideForm(request.POST or None, initial={"version": item.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, saved = save_to_form(
            form,
            lambda: cutlist.cut_item_decide(
                user=request.user,
                item=item,
                to_status=data["status"],
                point=data["decision_point"],
                reason=data["reason"],
                effective_date=data["effective_date"],
                expected_version=data["version"],
            ),
        )
        if ok:
            messages.success(request, _("Decision recorded."))
            return redirect("governance:cutlist_list")
    intro = _(
        "Cutting an area of a solution rolled out area by area stops the area: its rollout "
        "record goes back to planning, with history."
    )
    return _form_page(
        request,
        form,
        _("Decide: %(t)s") % {"t": item.title},
        reverse("governance:cutlist_list"),
        intro,
    )


@login_required
def cutlist_what_if(request):
    _require_read(request.user)
    ids = [int(i) for i in request.GET.getlist("item") if i.isdigit()]
    items = whatif.what_if_items(request.user, ids)
    result = whatif.what_if(items)
    all_items = CutListItem.objects.select_related("solution", "health_trust").exclude(
        status=CutStatus.KEPT
    )
    return render(
        request,
        "benefits/governance/cutlist_what_if.html",
        {"result": result, "all_items": all_items, "chosen": {i.pk for i in result.items}},
    )
