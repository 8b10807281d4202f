"""The structure-change page (issue 15): upload a change list and the day it takes effect,
see the dry run (what moves; which part each contact follows), confirm to apply; and the
list of changes applied. Administrators only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import structure_changes
from .forms import DateInput, save_or_message
from .models import StructureChange

CHANGES_SHOWN = 50


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Change list (CSV)"),
        help_text=gettext_lazy(
            "The columns of SSB's change lists: «old_kommunenummer», «old_navn», "
            "«new_kommunenummer», «new_navn», «change» («renumbered», «renamed», «split», "
            "«merged», «boundary_adjustment»); for a split also «andel», the share of the "
            "residents each part gets."
        ),
    )
    effective = forms.DateField(
        label=gettext_lazy("Takes effect"),
        required=False,
        widget=DateInput,
        help_text=gettext_lazy("Leave empty when the file has a change_occurred column."),
    )


class ConfirmForm(forms.Form):
    """The checked file again (it is checked once more before it is applied) and, for each
    contact of a split municipality, the part the contact follows."""

    content = forms.CharField(strip=False, widget=forms.Textarea(attrs={"hidden": True}))
    file_name = forms.CharField(required=False, widget=forms.HiddenInput)
    effective = forms.DateField(widget=forms.HiddenInput)

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact_fields = []
        for split in plan.splits if plan else []:
            choices = [(p.number, f"{p.number} {p.name}") for p in split.all_parts]
            choices.append((structure_changes.ALL_PARTS, _("All parts")))
            for user in split.contacts:
                name = f"contact_{user.pk}"
                self.fields[name] = forms.ChoiceField(
                    label=user.get_full_name() or user.username,
                    choices=choices,
                    initial=split.continuing.new.number,
                )
                self.contact_fields.append((split, self[name]))

    def choices(self) -> dict[int, str]:
        return {
            int(name.removeprefix("contact_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("contact_")
        }


def _guard(user) -> None:
    if not structure_changes.can_change_structure(user):
        raise PermissionDenied(_("Structure changes are for administrators."))


def _page(request, form, plan=None, status=200):
    return render(
        request,
        "actors/structure_change_list.html",
        {
            "form": form,
            "plan": plan,
            "applied": StructureChange.objects.select_related("applied_by")[:CHANGES_SHOWN],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def structure_change_list(request):
    """The upload form and the changes applied; a valid upload answers with the dry run."""
    _guard(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return _page(request, form)
    upload = form.cleaned_data["file"]
    plan = structure_changes.read_plan(
        upload.read(), effective=form.cleaned_data["effective"], file_name=upload.name
    )
    if not plan.ok:
        return _page(request, form, plan)
    confirm = ConfirmForm(
        plan=plan,
        initial={"content": plan.content, "file_name": plan.file_name, "effective": plan.effective},
    )
    return _dry_run(request, plan, confirm)


def _dry_run(request, plan, confirm):
    return render(
        request, "actors/structure_change_dryrun.html", {"plan": plan, "confirm": confirm}
    )


@login_required
@require_POST
def structure_change_apply(request):
    """Check the file again and apply it with the contacts' choices."""
    _guard(request.user)
    bare = ConfirmForm(request.POST)
    if not bare.is_valid():
        return redirect("actors:structure_changes")
    data = bare.cleaned_data
    plan = structure_changes.read_plan(
        data["content"], effective=data["effective"], file_name=data["file_name"]
    )
    if not plan.ok:  # the structure changed since the dry run
        return _page(request, UploadForm(), plan)
    confirm = ConfirmForm(request.POST, plan=plan)
    if not confirm.is_valid():
        return _dry_run(request, plan, confirm)
    done, record = save_or_message(
        request,
        lambda: structure_changes.apply(plan, user=request.user, choices=confirm.choices()),
    )
    if done:
        messages.success(
            request,
            _("The structure change from %(d)s is applied.")
            % {"d": record.effective_from.strftime("%d.%m.%Y")},
        )
    return redirect("actors:structure_changes")
