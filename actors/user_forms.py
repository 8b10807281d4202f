"""Forms of the user administration (actors/user_views.py).

The forms offer only what the signed-in person may grant (access.reach_of), but accept
any role, area or municipality that exists: what is allowed is decided once, by
access.check(), whose refusal lands on the field to fix, so a crafted request gets the
same answer as any other path. The access forms carry the version of the access they were
read from (access.access_etag) in `version`: a save over someone else's newer change is
refused (VersionConflict) with what was typed kept."""

from __future__ import annotations

from itertools import groupby

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import access
from .choices import Role
from .models import HealthTrust, Municipality, User

NO_ROLE = "none"  # the role filter's value for people waiting for access


def waiting_q() -> Q:
    """People who signed in and wait for access: no role (superusers have all)."""
    return Q(role="", is_superuser=False, is_active=True)


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search name or e-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), required=False)
    inactive = forms.BooleanField(label=_("Only inactive"), required=False)

    def __init__(self, *args, reach: access.Reach, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("All roles"))]
        choices += [(value, label) for value, label in Role.choices if value in reach.roles]
        if reach.manages_all_users:
            choices.append((NO_ROLE, _("Waiting for access (no role)")))
        self.fields["role"].choices = choices

    def filter(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if q := data["q"].strip():
            for word in q.split():
                qs = qs.filter(
                    Q(first_name__icontains=word)
                    | Q(last_name__icontains=word)
                    | Q(username__icontains=word)
                    | Q(email__icontains=word)
                )
        if data["role"] == NO_ROLE:
            qs = qs.filter(waiting_q())
        elif data["role"]:
            qs = qs.filter(role=data["role"])
        if data["inactive"]:
            qs = qs.filter(access.inactive_q())
        return qs


class AccessForm(forms.Form):
    """Role, national scope, areas and municipalities; `reason` for the log."""

    role = forms.ChoiceField(label=_("Role"))
    national_scope = forms.BooleanField(
        label=_("National scope: follows the whole country"), required=False
    )
    health_trusts = forms.ModelMultipleChoiceField(
        label=_("Health-trust areas"),
        queryset=HealthTrust.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For coordinators without national scope."),
    )
    municipalities = forms.ModelMultipleChoiceField(
        label=_("Municipalities"),
        queryset=Municipality.objects.all(),
        required=False,
        help_text=_("For municipality contacts: the municipalities they report for."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional; shown with the change in the user's access log."),
    )
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.reach = access.reach_of(actor)
        # Any role is accepted (access.check says which the actor may give); offered
        # are the actor's.
        self.fields["role"].choices = [("", "—"), *Role.choices]
        self.fields["role"].widget.choices = [
            ("", "—"),
            *((v, label) for v, label in Role.choices if v in self.reach.roles),
        ]
        offered = Municipality.objects.current().select_related("county")
        if self.reach.municipality_ids is not None:
            offered = offered.filter(pk__in=self.reach.municipality_ids)
        self.offered_municipalities = list(offered.order_by("county__name", "name"))

    @property
    def shows_national_scope(self) -> bool:
        return self.reach.national_scope

    @property
    def shows_health_trusts(self) -> bool:
        return self.reach.trust_ids is None

    def municipality_groups(self) -> list[dict]:
        """The offered municipalities by county, each ticked as the form's value says."""
        chosen = {str(v) for v in (self["municipalities"].value() or [])}
        groups = []
        for county, rows in groupby(self.offered_municipalities, key=lambda m: m.county):
            items = [{"m": m, "checked": str(m.pk) in chosen} for m in rows]
            groups.append(
                {
                    "county": county,
                    "items": items,
                    "checked": sum(i["checked"] for i in items),
                }
            )
        return groups

    def wanted(self) -> access.Access:
        data = self.cleaned_data
        return access.Access(
            role=data["role"],
            national_scope=data["national_scope"],
            trust_ids=frozenset(t.pk for t in data["health_trusts"]),
            municipality_ids=frozenset(m.pk for m in data["municipalities"]),
        )

    @staticmethod
    def initial_for(user, reach: access.Reach) -> dict:
        """The form's starting values: the user's access as far as the actor reaches (a
        coordinator for areas sees and changes only their own municipalities)."""
        current = access.Access.of(user)
        municipalities = [pk for pk in current.municipality_ids if reach.covers_municipality(pk)]
        return {
            "role": current.role,
            "national_scope": current.national_scope,
            "health_trusts": list(current.trust_ids),
            "municipalities": municipalities,
            "version": current.etag,
        }


class InviteForm(AccessForm):
    email = forms.EmailField(label=_("E-mail address"))
    name = forms.CharField(label=_("Name"), max_length=150, required=False)

    field_order = ["email", "name", "role", "national_scope", "health_trusts", "municipalities"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["reason"]
        del self.fields["version"]
        if self.reach.roles == {Role.MUNICIPALITY_CONTACT} and not self.is_bound:
            self.initial["role"] = Role.MUNICIPALITY_CONTACT


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional; shown in the user's access log."),
    )
    version = forms.CharField(widget=forms.HiddenInput, required=False)


class AcceptForm(forms.Form):
    """A local account for the person invited: the e-mail address is the invitation's."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("Letters, digits and @ . + - _ only; you sign in with it."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        if not self.is_bound:
            first, _sep, last = invitation.name.strip().rpartition(" ")
            self.initial.update(
                username=invitation.email.split("@")[0].lower(),
                first_name=first or last,
                last_name=last if first else "",
            )

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken: choose another."))
        return username

    def clean(self):
        data = super().clean()
        if User.objects.filter(email__iexact=self.invitation.email, is_active=True).exists():
            raise ValidationError(
                _(
                    "There is already an account with the e-mail address %(email)s: log in "
                    "with it and open the link again."
                )
                % {"email": self.invitation.email}
            )
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("The two passwords differ: type the same twice."))
        elif one:
            try:
                password_validation.validate_password(one, self.unsaved_user())
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def unsaved_user(self) -> User:
        data = self.cleaned_data
        return User(
            username=data.get("username", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            email=self.invitation.email,
        )
