"""Forms of the actors app, and what every app's forms share: the date input, the
versioned-record form, the review form, and the helpers that run a service call for a
form (`save_to_form`) or a button (`save_or_message`) and show what it refused."""

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from .concurrency import VersionConflict, show_conflict
from .models import HealthTrust, Municipality, Organisation, OrganisationType, RecordSystem
from .register_import import Limits
from .services import EDITABLE_ORGANISATION_FIELDS


class DateInput(forms.DateInput):
    """The browser's date picker, whose value is always YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class VersionedForm(forms.ModelForm):
    """A form for a versioned record (actors.concurrency): the hidden `version` carries
    the version the user started from, so a save over a newer change is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version


class ReviewForm(forms.Form):
    """Approve or return a submitted report (actors.review). Subclasses say whom the
    comment is for (`comment_label`) and, when they like, what it needs."""

    comment_label = None
    comment_help_text = ""

    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("return", _("Return for correction"))],
        widget=forms.RadioSelect,
        label=_("Decision"),
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].label = self.comment_label
        self.fields["comment"].help_text = self.comment_help_text

    def verdict(self) -> dict:
        """The checked review as the workflow's `review` takes it (ReviewWorkflow.review)."""
        return {
            "expected_version": self.cleaned_data["version"],
            "approve": self.cleaned_data["decision"] == "approve",
            "comment": self.cleaned_data["comment"],
        }


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Wrong username or password. Both are case-sensitive; after five failed attempts "
            "the account is locked for an hour."
        ),
    }


class OrganisationForm(forms.ModelForm):
    """Create or change an organisation. `version` carries the version the user started
    from, so a save over someone else's newer change is refused instead of overwriting it."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional; shown with the change in the organisation's history."),
    )

    class Meta:
        model = Organisation
        fields = list(EDITABLE_ORGANISATION_FIELDS)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = Municipality.objects.editable_by(user).current()
        self.fields["health_trust"].queryset = HealthTrust.objects.visible_to(user)
        self.fields["health_trust"].required = False
        self.fields["health_trust"].empty_label = _("(derive from the municipality)")
        self.fields["record_system"].queryset = RecordSystem.objects.select_related("vendor")
        self.fields["orgnr"].help_text = _("Nine digits, e.g. 974 760 673.")
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version

    def validate_unique(self):
        """Left to the service, which answers a number taken outside the user's reach as
        unknown instead of “already exists”."""

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ImportForm(forms.Form):
    """A file and the dry-run switch: every import page (the file's help text is the
    page's own)."""

    file = forms.FileField(label=_("File"))
    dry_run = forms.BooleanField(
        label=_("Check only (dry run): show the report without saving anything"),
        required=False,
        initial=True,
    )

    def job_params(self) -> dict:
        """The choices made, for an import run as a job (actors.import_jobs)."""
        return {"dry_run": self.cleaned_data["dry_run"]}


class OrganisationImportForm(ImportForm):
    source = forms.CharField(
        label=_("Source"),
        required=False,
        max_length=100,
        help_text=_("Stored with every change, e.g. “Enhetsregisteret 2026-11-30”."),
    )
    municipalities = forms.CharField(
        label=_("Only these municipalities"),
        required=False,
        help_text=_("Enhetsregisteret: municipality numbers separated by commas; empty: all."),
    )
    types = forms.MultipleChoiceField(
        label=_("Only these types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Enhetsregisteret: none ticked means all types with an industry code."),
    )
    full = forms.BooleanField(
        label=_(
            "Full extract: deactivate organisations of these types in these municipalities "
            "that the file no longer lists"
        ),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "One of: our registry CSV (columns organisasjonsnummer, navn, type, "
            "kommunenummer, and optionally her_id, helseforetak and syntetisk); an "
            "Enhetsregisteret download of sub-units (underenheter, JSON – gzip or not – or "
            "CSV), whose types follow from the industry codes; or a HER-id list from "
            "Adresseregisteret (organisation number and HER-id). CSV: comma, semicolon or tab; "
            "UTF-8, UTF-16 or Windows-1252."
        )
        self.fields["types"].choices = [
            (t.code, t.name)
            for t in OrganisationType.objects.filter(industry_codes__isnull=False).distinct()
        ]

    def limits(self) -> Limits:
        numbers = self.cleaned_data["municipalities"].replace(";", ",").split(",")
        return Limits([n.strip() for n in numbers if n.strip()], self.cleaned_data["types"])

    def job_params(self) -> dict:
        limits = self.limits()
        return {
            **super().job_params(),
            "source": self.cleaned_data["source"],
            "full": self.cleaned_data["full"],
            "municipalities": limits.municipalities,
            "types": list(limits.types),
        }


def add_service_errors(form, exc) -> None:
    """Put a service's ValidationError on the form: field errors on their fields (the rest
    on the form), so the page shows what to fix and keeps what was typed."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def save_to_form(form, save, *, refused=(), not_found=()) -> tuple[bool, object]:
    """Run `save()` (the service call for a valid form) and return (True, its result).
    When the service refuses, the refusal goes onto the form and (False, the exception)
    comes back, so the page shows the form again with what was typed and what to fix:
    a version conflict (someone saved in between; the page may show `exc.current`), a
    rule's ValidationError (on the fields it names), or one of the `refused` exceptions
    (e.g. PermissionDenied: its text above the form). One of `not_found` (the record is
    gone, or out of the user's reach) answers 404."""
    try:
        return True, save()
    except VersionConflict as exc:
        show_conflict(form, exc)
        return False, exc
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False, exc
    except refused as exc:
        form.add_error(None, str(exc))
        return False, exc
    except not_found as exc:
        raise Http404 from exc


def refusal_text(exc) -> str:
    """What a service refused, in one line: a ValidationError's messages, or the text of
    a version conflict or a PermissionDenied."""
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def save_or_message(request, save, *, refused=()) -> tuple[bool, object]:
    """`save_to_form` for a button without a form: run `save()` and return (True, its
    result); a version conflict, a rule's ValidationError or one of the `refused`
    exceptions becomes an error message for the next page, and (False, the exception)
    comes back."""
    try:
        return True, save()
    except (VersionConflict, ValidationError, *refused) as exc:
        messages.error(request, refusal_text(exc))
        return False, exc
