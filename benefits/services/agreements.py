"""Writes for intention agreements: who may change one, and saving it with its parties,
its documents and the record of what changed."""

from __future__ import annotations

import os
from functools import cached_property

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from actors import scoping
from actors.choices import Role
from actors.concurrency import check_version
from actors.models import Municipality

from ..choices import AgreementStatus
from ..models import AGREEMENT_TERMS, AgreementChange, AgreementDocument, IntentAgreement
from .uploads import validate_pdf

AGREEMENT_FIELDS = (
    "title",
    "programme",
    "status",
    "sent_date",
    "signed_date",
    "ended_date",
    "clause_benefits",
    "clause_financing",
    "clause_risk_sharing",
    "contact_person",
    "contact_email",
    "notes",
)
AGREEMENT_EDITORS = {Role.COORDINATOR, Role.ADMIN}


def _check_agreement(agreement: IntentAgreement, parties: int) -> None:
    errors = {}
    if parties == 0:
        errors["municipalities"] = _("Name at least one municipality or organisation as a party.")
    needed = {
        AgreementStatus.SENT: "sent_date",
        AgreementStatus.SIGNED: "signed_date",
        AgreementStatus.ENDED: "ended_date",
    }.get(agreement.status)
    if needed and not getattr(agreement, needed):
        errors[needed] = _("Give the date the agreement was %(s)s.") % {
            "s": agreement.get_status_display().lower()
        }
    if (
        agreement.signed_date
        and agreement.sent_date
        and agreement.signed_date < agreement.sent_date
    ):
        errors["signed_date"] = _("An agreement cannot be signed before it was sent.")
    if errors:
        raise ValidationError(errors)


class AgreementReach:
    """Which parties of agreements a user may change, read once (one request: one query
    for the municipalities in reach, none for organisations, which carry their own area)
    and then judged for each agreement from parties already loaded, so a list of
    agreements costs no query per row. The one rule for agreement_edit_refusal, the
    parties agreement_save accepts and the API's `edit_refusal`."""

    def __init__(self, user):
        self.user = user
        self.scope = scoping.scope_for(user)

    @property
    def maintains_agreements(self) -> bool:
        return self.scope.role in AGREEMENT_EDITORS and self.scope.can_edit

    @cached_property
    def _municipality_ids(self) -> frozenset[int]:
        return frozenset(Municipality.objects.editable_by(self.user).values_list("pk", flat=True))

    def outside(self, municipalities, organisations) -> dict[str, list[str]]:
        """The named parties the user may not edit, by field ("municipalities",
        "organisations"), with their names; empty when every one is in reach."""
        outside = {}
        for field, parties, in_reach in (
            ("municipalities", municipalities, lambda m: m.pk in self._municipality_ids),
            ("organisations", organisations, self.scope.may_edit_organisation),
        ):
            names = sorted(party.name for party in parties if not in_reach(party))
            if names:
                outside[field] = names
        return outside

    def refusal(self, municipalities, organisations) -> str | None:
        """Why the user may not change an agreement between these parties, or None when
        they may. An agreement is changed only by someone who may change every party to
        it: a coordinator whose areas hold all its municipalities and organisations, a
        national coordinator or an administrator (so nobody drops, closes or rewrites an
        agreement for a party outside their reach)."""
        if not self.maintains_agreements:
            return _("Only rollout coordinators maintain intention agreements.")
        outside = self.outside(municipalities, organisations)
        if outside:
            return _(
                "This agreement has parties outside your area of responsibility (%(p)s); only "
                "a national coordinator can change it."
            ) % {"p": ", ".join(name for names in outside.values() for name in names)}
        return None


def agreement_edit_refusal(user, agreement: IntentAgreement) -> str | None:
    """Why the user may not change this agreement, or None when they may (the rule:
    AgreementReach.refusal). The service enforces it; pages and the API show it."""
    return AgreementReach(user).refusal(
        agreement.municipalities.all(), agreement.organisations.all()
    )


def agreement_save(
    *,
    user,
    agreement_id: int | None,
    expected_version: int | None,
    fields: dict,
    municipalities,
    organisations,
    solutions,
    document=None,
) -> IntentAgreement:
    """Create or change an agreement; record who changed what. Every party, before and
    after the change, must be within the user's reach (see agreement_edit_refusal). A new
    document becomes the current version; the one it replaces is kept as an earlier one."""
    reach = AgreementReach(user)
    if not reach.maintains_agreements:
        raise PermissionDenied(_("Only rollout coordinators maintain intention agreements."))
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        if agreement_id is None:
            agreement, before = IntentAgreement(), None
        else:
            agreement = (
                IntentAgreement.objects.editable_by(user).select_for_update().get(pk=agreement_id)
            )
            refusal = reach.refusal(agreement.municipalities.all(), agreement.organisations.all())
            if refusal:
                raise PermissionDenied(refusal)
            check_version(agreement, expected_version)
            before = _snapshot(agreement)
        validate_pdf(document, "document")
        for name, value in fields.items():
            setattr(agreement, name, value)
        municipalities = list(municipalities)
        organisations = list(organisations)
        _check_agreement(agreement, len(municipalities) + len(organisations))
        outside = reach.outside(municipalities, organisations)
        if outside:
            raise ValidationError(
                {
                    field: _(
                        "You can only name parties within your area of responsibility; "
                        "outside it: %(p)s."
                    )
                    % {"p": ", ".join(names)}
                    for field, names in outside.items()
                }
            )
        agreement.version = (agreement.version or 0) + (1 if before else 0)
        agreement.full_clean()
        agreement.save()
        agreement.municipalities.set(municipalities)
        agreement.organisations.set(organisations)
        agreement.solutions.set(list(solutions))
        if not IntentAgreement.objects.editable_by(user).filter(pk=agreement.pk).exists():
            raise ValidationError(
                {"municipalities": _("The parties must include someone in your areas.")}
            )
        after = _snapshot(agreement)
        changed = [k for k in after if before is None or before.get(k) != after[k]]
        if document is not None:
            _document_replace(agreement, document, user)
            changed.append("document")
        AgreementChange.objects.create(
            agreement=agreement,
            changed_by=user if getattr(user, "pk", None) else None,
            summary=(
                _("Created")
                if before is None
                else _("Changed: %(f)s") % {"f": ", ".join(changed) or "–"}
            ),
            details={} if before is None else _terms_delta(before, after),
        )
    return agreement


def _document_replace(agreement: IntentAgreement, upload, user) -> AgreementDocument:
    """The upload becomes the agreement's current document; the current one, if any, is
    kept as an earlier version (its file stays, listed and downloadable). Stored only once
    everything else is accepted, so a refused save leaves no file."""
    now = timezone.now()
    agreement.documents.filter(superseded_at__isnull=True).update(superseded_at=now)
    return AgreementDocument.objects.create(
        agreement=agreement,
        file=upload,
        file_name=os.path.basename(upload.name)[:200],
        size=upload.size,
        uploaded_by=user if getattr(user, "pk", None) else None,
        uploaded_at=now,
    )


def _snapshot(agreement: IntentAgreement) -> dict:
    data = {name: getattr(agreement, name) for name in AGREEMENT_FIELDS}
    if agreement.pk:
        for term in AGREEMENT_TERMS:
            data[term] = sorted(getattr(agreement, term).values_list("pk", flat=True))
    return data


def _terms_delta(before: dict, after: dict) -> dict:
    """The parties and solutions added and removed between two snapshots, by term (the
    record that lets coverage on a past day be replayed)."""
    delta = {}
    for term in AGREEMENT_TERMS:
        added = sorted(set(after[term]) - set(before[term]))
        removed = sorted(set(before[term]) - set(after[term]))
        if added or removed:
            delta[term] = {"added": added, "removed": removed}
    return delta
