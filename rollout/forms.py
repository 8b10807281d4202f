from django import forms
from django.utils.translation import gettext_lazy as _

from actors.forms import DateInput, VersionedForm
from actors.forms import ReviewForm as BaseReviewForm
from actors.models import Municipality

from .choices import Answer, Status
from .models import AreaRollout, Solution
from .selectors import history_first_day
from .services import AREA_FIELDS, today


class AsOfField(forms.DateField):
    """A day in the past whose statuses the history can answer: not in the future, not
    before the history begins. Used by the status list page and the statuses API (the
    same messages in both); empty means today's statuses."""

    widget = DateInput
    default_error_messages = {
        "invalid": _("Enter the date as YYYY-MM-DD, for example 2025-06-01."),
    }

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        now = today()
        if value > now:
            raise forms.ValidationError(
                _("%(day)s is in the future; choose today (%(today)s) or an earlier date."),
                code="future",
                params={"day": value.isoformat(), "today": now.isoformat()},
            )
        first = history_first_day()
        if first is None:
            raise forms.ValidationError(
                _("There is no status history yet; leave the date out."), code="no_history"
            )
        if value < first:
            raise forms.ValidationError(
                _("The status history begins on %(first)s; choose that day or later."),
                code="before_history",
                params={"first": first.isoformat()},
            )


class StatusChangeForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    effective_date = forms.DateField(
        label=_("Date"), required=False, widget=DateInput, help_text=_("Empty means today.")
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for blocked, not relevant and stopped."),
    )
    override_reason = forms.CharField(
        label=_("Override an unmet prerequisite (coordinators only)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only if a prerequisite is unmet and the change must still go through: why."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Shown when the service refuses a change that skips steps (choices.skipped_steps).
    confirm_jump = forms.BooleanField(
        label=_(
            "I confirm that the status went straight to the new one, skipping the steps "
            "between, on the date given."
        ),
        required=False,
    )

    def __init__(self, *args, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(v, label) for v, label in Status.choices if allowed is None or v in allowed]
        self.fields["to_status"].choices = [("", _("– choose –")), *choices]

    def clean(self):
        data = super().clean()
        if data.get("confirm_jump") and not data.get("effective_date"):
            self.add_error("effective_date", _("Give the date the status went to the new one."))
        return data


class StatusCorrectionForm(forms.Form):
    """A coordinator's correction of a wrong status (rollout.corrections.status_correct)."""

    to_status = forms.ChoiceField(label=_("Correct status"), choices=Status.choices)
    effective_date = forms.DateField(
        label=_("Holds from"),
        required=False,
        widget=DateInput,
        help_text=_("The date of the wrong entry, or later. Empty means the wrong entry's date."),
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required. Kept in the history with the correction."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [("", _("– choose –")), *Status.choices]


class IdListField(forms.TypedMultipleChoiceField):
    """Organisation ids; which ones the user may change is the service's (scoped) decision."""

    def valid_value(self, value) -> bool:
        return str(value).isdigit()


class BulkStatusForm(StatusChangeForm):
    """The same fields for many organisations at once (selected in the list)."""

    organisations = IdListField(coerce=int, required=True)
    solution = forms.ModelChoiceField(
        queryset=Solution.objects.all(), to_field_name="code", widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisations"].error_messages["required"] = _(
            "Tick at least one organisation in the list."
        )


class BulkPreviewForm(BulkStatusForm):
    """A bulk change to preview (rollout.bulk_views): the ticked organisations, or with
    `everything` all that the list's filter (`filter`, its query string) matches."""

    everything = forms.BooleanField(required=False)
    filter = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisations"].required = False

    def clean(self):
        data = super().clean()
        if not data.get("everything") and not data.get("organisations"):
            self.add_error(
                "organisations",
                _(
                    "Tick at least one organisation in the list, or choose all that match "
                    "the filter."
                ),
            )
        return data


class AreaRolloutForm(VersionedForm):
    class Meta:
        model = AreaRollout
        fields = list(AREA_FIELDS)
        widgets = {
            "planned_start": DateInput,
            "actual_start": DateInput,
            "decision_date": DateInput,
            "decision_note": forms.Textarea(attrs={"rows": 3}),
        }


class ReportCreateForm(forms.Form):
    solution = forms.ModelChoiceField(queryset=Solution.objects.all(), label=_("Solution"))
    municipality = forms.ModelChoiceField(
        queryset=Municipality.objects.none(), label=_("Municipality")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        municipalities = Municipality.objects.editable_by(user).current()
        self.fields["municipality"].queryset = municipalities
        if municipalities.count() == 1:
            self.fields["municipality"].initial = municipalities.first()


class ReportAnswersForm(forms.Form):
    """The answer, expected date and comment of the rows posted: a group's page, or only
    the answers changed when saved in the background. Field names carry the answer's id;
    rows answered from a status have no fields, and a field not sent keeps its value."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    PARTS = {"answer": "answer", "comment": "comment", "date": "expected_date"}

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = [
            r
            for r in rows
            if r.asked and any(f"a{r.id}_{part}" in self.data for part in self.PARTS)
        ]
        for r in self.rows:
            self.fields[f"a{r.id}_answer"] = forms.ChoiceField(
                choices=[("", "–"), *Answer.choices], required=False
            )
            self.fields[f"a{r.id}_comment"] = forms.CharField(required=False, max_length=500)
            self.fields[f"a{r.id}_date"] = forms.DateField(required=False, widget=DateInput)

    def values(self) -> dict[int, dict]:
        """{answer id: the values sent for it}, for services.report_save_answers."""
        return {
            r.id: {
                key: self.cleaned_data[f"a{r.id}_{part}"]
                for part, key in self.PARTS.items()
                if f"a{r.id}_{part}" in self.data
            }
            for r in self.rows
        }


class ReviewForm(BaseReviewForm):
    comment_label = _("Comment to the municipality")
