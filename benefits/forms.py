import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from stdnum.no import orgnr as stdnum_orgnr

from actors.forms import DateInput
from actors.forms import ReviewForm as BaseReviewForm
from actors.models import County, HealthTrust, Municipality, Organisation
from actors.structure import population_years
from rollout.models import Solution

from . import services
from .choices import AgreementStatus, MeasurementKind
from .models import Benefit, BenefitReport, IntentAgreement

ORGANISATION_CHOICES_LIMIT = 500


def _pdf_field(label, help_text):
    return forms.FileField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )


def _check_pdf(upload, name: str):
    """The service's rule, asked early so every error shows on the first attempt."""
    if upload:
        try:
            services.validate_pdf(upload, name)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[name]) from exc
    return upload or None


# --- agreements -----------------------------------------------------------------------


def current_municipalities(queryset, named):
    """Today's municipalities of `queryset` to choose from, by name, and those of `named`
    (a saved record's own: a municipality that has since ended stays its choice)."""
    return queryset.filter(
        Q(pk__in=queryset.current().values("pk")) | Q(pk__in=named.values("pk"))
    ).order_by("name")


def _filter_choice(label, queryset, key: str, **kwargs) -> forms.ModelChoiceField:
    """A filter's select: optional, "All" when nothing is chosen, the choice named in the
    URL by its `key` field (a number or a code)."""
    return forms.ModelChoiceField(
        label=label,
        required=False,
        queryset=queryset,
        to_field_name=key,
        empty_label=_("All"),
        **kwargs,
    )


class AgreementFilterForm(forms.Form):
    """The agreement list's filter controls (choices within the user's reach). The filtering
    itself is `IntentAgreementFilterSet`'s, the same as the API's and the export's, which
    take these parameters by the same names."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *AgreementStatus.choices]
    )
    county = _filter_choice(_("County"), County.objects.none(), "number")
    health_trust = _filter_choice(_("Health-trust area"), HealthTrust.objects.none(), "code")
    solution = _filter_choice(
        _("Solution"),
        Solution.objects.all(),
        "code",
        help_text=_("Agreements for the whole programme count for every solution."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = County.objects.visible_to(user).current()
        self.fields["health_trust"].queryset = HealthTrust.objects.visible_to(user)


class MunicipalityMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.number})"


class AgreementForm(forms.ModelForm):
    """The agreement's own fields, its parties, solutions and the signed document.
    Saving is `services.agreement_save`; the form only reads and checks what was typed."""

    municipalities = MunicipalityMultipleChoiceField(
        label=_("Municipalities (parties)"),
        queryset=Municipality.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Hold Ctrl (Cmd on a Mac) to choose more than one."),
    )
    organisations = forms.CharField(
        label=_("Organisations (parties)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Organisation numbers separated by commas, e.g. 974 760 673, 983 974 899. "
            "Leave empty when only municipalities are parties."
        ),
    )
    solutions = forms.ModelMultipleChoiceField(
        label=_("Solutions"),
        queryset=Solution.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked means the whole programme."),
    )
    document = _pdf_field(
        _("Signed document (PDF)"),
        _(
            "PDF only, at most 10 MB. Leave empty to keep the current document; a new one "
            "replaces it, and the current one is kept as an earlier version."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = IntentAgreement
        fields = list(services.AGREEMENT_FIELDS)
        widgets = {
            "sent_date": DateInput,
            "signed_date": DateInput,
            "ended_date": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Parties are chosen within the user's reach: an agreement with a party beyond it
        # is read-only for them (services.agreement_edit_refusal), so none is ever hidden.
        self.fields["municipalities"].queryset = current_municipalities(
            Municipality.objects.editable_by(user),
            self.instance.municipalities.all() if self.instance.pk else Municipality.objects.none(),
        )
        agreement = self.instance
        if not agreement.pk:
            self.fields["document"].help_text = _("PDF only, at most 10 MB.")
        elif not self.is_bound:
            self.initial["version"] = agreement.version
            self.initial["municipalities"] = list(agreement.municipalities.all())
            self.initial["organisations"] = ", ".join(
                agreement.organisations.order_by("name").values_list("orgnr", flat=True)
            )
            self.initial["solutions"] = list(agreement.solutions.all())

    def chosen_municipality_names(self) -> list[str]:
        """The municipalities chosen now, named (a long select hides most of them)."""
        ids = [str(v) for v in self["municipalities"].value() or []]
        ids = [int(v) for v in ids if v.isdigit()]
        return list(
            self.fields["municipalities"].queryset.filter(pk__in=ids).values_list("name", flat=True)
        )

    def chosen_organisation_names(self) -> list[str]:
        numbers = [
            re.sub(r"\s+", "", t) for t in re.split(r"[,;\n]+", self["organisations"].value() or "")
        ]
        return list(
            Organisation.objects.editable_by(self.user)
            .filter(orgnr__in=[n for n in numbers if n])
            .order_by("name")
            .values_list("name", flat=True)
        )

    def clean_organisations(self):
        raw = self.cleaned_data["organisations"]
        numbers, malformed = [], []
        for token in re.split(r"[,;\n]+", raw or ""):
            token = re.sub(r"\s+", "", token)
            if not token:
                continue
            if stdnum_orgnr.is_valid(token):
                numbers.append(stdnum_orgnr.compact(token))
            else:
                malformed.append(token)
        if malformed:
            raise ValidationError(
                _("Not valid organisation numbers: %(n)s.") % {"n": ", ".join(malformed)}
            )
        found = {
            o.orgnr: o
            for o in Organisation.objects.editable_by(self.user).filter(orgnr__in=numbers)
        }
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise ValidationError(
                _("No organisation you can see has the number %(n)s.") % {"n": ", ".join(unknown)}
            )
        return list(dict.fromkeys(found[n] for n in numbers))

    def clean_document(self):
        return _check_pdf(self.cleaned_data.get("document"), "document")

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.AGREEMENT_FIELDS}

    def parties(self) -> tuple[list, list]:
        return list(self.cleaned_data["municipalities"]), self.cleaned_data["organisations"]


# --- benefit reports ------------------------------------------------------------------


class BenefitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.unit})"


class BenefitReportForm(forms.ModelForm):
    """The quick form for a municipality contact: one measurement of one benefit."""

    attachment = _pdf_field(
        _("Attachment (PDF, optional)"),
        _("The measurement report or calculation, if you have one. PDF only, at most 10 MB."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = BenefitReport
        fields = list(services.REPORT_FIELDS)
        field_classes = {"benefit": BenefitChoiceField}
        localized_fields = ["value"]
        widgets = {
            "value": forms.TextInput(attrs={"inputmode": "decimal"}),
            "kind": forms.RadioSelect,
            "period_start": DateInput,
            "period_end": DateInput,
            "evidence": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "kind": _(
                "A baseline is measured before the solution is taken into use; a follow-up "
                "after, with the same method."
            ),
            "method": _("How you measured, e.g. “time registration, 2 weeks, 12 nurses”."),
            "evidence": _("Anything that supports the number: sources, sample, assumptions."),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit"].queryset = Benefit.objects.select_related("goal")
        self.fields["kind"].choices = MeasurementKind.choices
        municipalities = current_municipalities(
            Municipality.objects.editable_by(user),
            Municipality.objects.filter(pk=self.instance.municipality_id),
        )
        self.fields["municipality"].queryset = municipalities
        self.fields["municipality"].help_text = _(
            "The municipality you report for, or that the organisation belongs to."
        )
        # With htmx, choosing a municipality narrows the organisation list to it.
        self.fields["municipality"].widget.attrs.update(
            {
                "hx-get": reverse("benefits:report_organisation_options"),
                "hx-target": "#id_organisation",
                "hx-swap": "outerHTML",
            }
        )
        if not self.instance.pk and not self.is_bound and len(municipalities[:2]) == 1:
            self.initial["municipality"] = municipalities.first()
        organisations = Organisation.objects.editable_by(user)
        field = self.fields["organisation"]
        field.queryset = organisations  # what may be chosen
        field.required = False
        field.help_text = _("Leave empty when the municipality reports as a whole.")
        field.widget.choices = self._organisation_choices(organisations)
        self.fields["value"].help_text = _(
            "In the benefit's unit (shown after its name). A decimal comma is fine."
        )
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version

    def _organisation_choices(self, organisations) -> list:
        """What is offered: grouped by municipality, and only the chosen municipality's
        organisations when one is chosen, so a coordinator's list stays short."""
        chosen = self["municipality"].value()
        if chosen and str(chosen).isdigit():
            organisations = organisations.filter(municipality_id=chosen)
        rows = organisations.select_related("municipality", "type").order_by(
            "municipality__name", "name"
        )[:ORGANISATION_CHOICES_LIMIT]
        groups: dict[str, list] = {}
        for o in rows:
            groups.setdefault(o.municipality.name, []).append((o.pk, f"{o.name} ({o.type.name})"))
        if len(groups) == 1:
            return [("", _("– the municipality as a whole –")), *next(iter(groups.values()))]
        return [("", _("– the municipality as a whole –")), *groups.items()]

    def clean_attachment(self):
        return _check_pdf(self.cleaned_data.get("attachment"), "attachment")

    def clean(self):
        data = super().clean()
        organisation, municipality = data.get("organisation"), data.get("municipality")
        if organisation and municipality and organisation.municipality_id != municipality.pk:
            self.add_error(
                "organisation",
                _("%(o)s is in %(m)s; choose that municipality or leave this empty.")
                % {"o": organisation.name, "m": organisation.municipality.name},
            )
        return data

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.REPORT_FIELDS}


class ReviewForm(BaseReviewForm):
    comment_label = _("Comment to the reporter")
    comment_help_text = _("Required when you return the report: say what must be corrected.")


class CoverageDateForm(forms.Form):
    on = forms.DateField(
        label=_("Signed by"),
        required=False,
        widget=DateInput,
        help_text=_("Empty means today."),
    )
    year = forms.TypedChoiceField(
        label=_("Population year"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Residents on 1 January; empty means the year of the date."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "—")] + [(y, y) for y in population_years()]
