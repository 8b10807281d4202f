from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import HealthTrust, Municipality, Organisation, RecordSystem


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
        fields = [
            "name",
            "type",
            "orgnr",
            "her_id",
            "municipality",
            "health_trust",
            "record_system",
            "is_active",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = Municipality.objects.editable_by(user)
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


class OrganisationImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns by header name, in any order: organisasjonsnummer, navn, type, "
            "kommunenummer, and optionally her_id, helseforetak and syntetisk (ja/nei; without "
            "it the flag is kept). Comma, semicolon or tab separated; UTF-8 or Windows-1252 "
            "(as Excel saves it)."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Check only (dry run): show the report without saving anything"),
        required=False,
        initial=True,
    )


def add_service_errors(form, exc) -> None:
    """Put a service's ValidationError on the form: field errors on their fields (the rest
    on the form), so the page shows what to fix and keeps what was typed."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def save_to_form(form, save) -> tuple[bool, object]:
    """Run `save()` (the service call for a valid form) and return (True, its result). A
    version conflict (someone saved in between) or a rule's ValidationError goes onto the
    form instead and (False, None) comes back: the page shows the form again with what
    was typed and what to fix."""
    from django.core.exceptions import ValidationError

    from .concurrency import VersionConflict, show_conflict

    try:
        return True, save()
    except VersionConflict as exc:
        show_conflict(form, exc)
    except ValidationError as exc:
        add_service_errors(form, exc)
    return False, None
