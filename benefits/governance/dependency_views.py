"""Pages of benefits.governance (dependencies and reminders): the dependency register, a
dependency with what waits for it, its form (national coordinators, admins), and the
user's reminders (what is due now, what was sent)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from actors import scoping
from actors.forms import DateInput, save_to_form
from actors.models import HealthTrust, ReminderSent
from rollout.models import Dependency, Solution

from . import dependencies as svc


def _require_role(user) -> None:
    if not scoping.scope_for(user).role:
        raise PermissionDenied(_("Your user has no role yet; ask an administrator."))


class DependencyForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    solutions = forms.ModelMultipleChoiceField(
        queryset=Solution.objects.all(),
        label=gettext_lazy("Solutions waiting for it"),
        widget=forms.CheckboxSelectMultiple,
    )
    health_trusts = forms.ModelMultipleChoiceField(
        queryset=HealthTrust.objects.order_by("name"),
        required=False,
        label=gettext_lazy("Areas"),
        help_text=gettext_lazy("Empty: every area."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    class Meta:
        model = Dependency
        fields = list(svc.DEPENDENCY_FIELDS)
        widgets = {
            "expected_date": DateInput,
            "delivered_date": DateInput,
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version if self.instance.pk else 0
            if self.instance.pk:
                self.initial["solutions"] = list(self.instance.solutions.all())
                self.initial["health_trusts"] = list(self.instance.health_trusts.all())

    def validate_unique(self):
        # The service saves; a duplicate name is reported from its full_clean.
        pass


@login_required
@require_safe
def dependency_list(request):
    _require_role(request.user)
    return render(
        request,
        "benefits/governance/dependency_list.html",
        {
            "dependencies": svc.dependencies_visible(request.user),
            "can_edit": svc.can_edit_dependencies(request.user),
        },
    )


@login_required
@require_safe
def dependency_detail(request, pk):
    _require_role(request.user)
    dependency = get_object_or_404(svc.dependencies_visible(request.user), pk=pk)
    return render(
        request,
        "benefits/governance/dependency_detail.html",
        {"dependency": dependency, "can_edit": svc.can_edit_dependencies(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def dependency_edit(request, pk=None):
    if not svc.can_edit_dependencies(request.user):
        raise PermissionDenied(_("Only national coordinators record dependencies."))
    dependency = get_object_or_404(Dependency, pk=pk) if pk else None
    form = DependencyForm(request.POST or None, instance=dependency)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, saved = save_to_form(
            form,
            lambda: svc.dependency_save(
                user=request.user,
                dependency_id=pk,
                expected_version=data["version"],
                fields={f: data[f] for f in svc.DEPENDENCY_FIELDS},
                solutions=list(data["solutions"]),
                health_trusts=list(data["health_trusts"]),
            ),
        )
        if ok:
            messages.success(request, _("Dependency saved."))
            return redirect("governance:dependency_detail", saved.pk)
    return render(
        request,
        "benefits/governance/dependency_form.html",
        {"form": form, "dependency": dependency},
    )


@login_required
@require_safe
def reminder_list(request):
    """What is due for the user now, and the reminders sent to them."""
    _require_role(request.user)
    due = svc.reminders_due(request.user)
    sent = ReminderSent.objects.filter(user=request.user)[:50]
    return render(
        request,
        "benefits/governance/reminder_list.html",
        {
            "due": [(svc.kind_label(k), items) for k, items in due.items()],
            "sent": [(r, svc.kind_label(r.kind)) for r in sent],
            "interval": svc.interval_days(),
        },
    )
