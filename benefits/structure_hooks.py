"""Agreements in a structure change (issue 15): an agreement with a split municipality as a
party keeps the continuing part and adds the new parts; with a merged municipality, the
surviving one replaces it. Ended agreements are left as they were. Registered with
actors.structure_changes in BenefitsConfig.ready; writes through agreement_save, so the
agreement's history records the parties added and removed."""

from __future__ import annotations

from django.utils.translation import gettext as _

from actors import structure_changes

from .choices import AgreementStatus
from .models import IntentAgreement
from .services.agreements import agreement_save


def _changes(plan) -> list[tuple[IntentAgreement, list, list, str]]:
    """(agreement, municipalities removed, municipalities added, what happens) for every
    agreement in force or in preparation with a split or merged municipality as party."""
    added: dict[int, list] = {}
    removed: dict[int, list] = {}
    said: dict[int, str] = {}
    for split in plan.splits:
        m = split.continuing.municipality
        added[m.pk] = split.parts
        said[m.pk] = _("%(m)s is split: keeps %(keep)s and adds %(parts)s") % {
            "m": split.continuing.old.name,
            "keep": f"{split.continuing.new.number} {split.continuing.new.name}",
            "parts": ", ".join(f"{p.number} {p.name}" for p in split.parts),
        }
    for merge in plan.merges:
        survivor = merge.continuing
        for m in merge.merged:
            removed[m.pk] = [m]
            added[m.pk] = [survivor.new]
            said[m.pk] = _("%(m)s is replaced by %(s)s") % {
                "m": merge.olds[m.pk].name,
                "s": f"{survivor.new.number} {survivor.new.name}",
            }
    agreements = (
        IntentAgreement.objects.filter(municipalities__in=list(said))
        .exclude(status=AgreementStatus.ENDED)
        .distinct()
        .prefetch_related("municipalities")
        .order_by("title", "pk")
    )
    result = []
    for agreement in agreements:
        touched = [pk for pk in agreement.municipalities.values_list("pk", flat=True) if pk in said]
        result.append(
            (
                agreement,
                [m for pk in touched for m in removed.get(pk, [])],
                [part for pk in touched for part in added[pk]],
                "; ".join(said[pk] for pk in touched),
            )
        )
    return result


class AgreementParties:
    def describe(self, plan) -> list[structure_changes.Section]:
        rows = [
            [agreement.title, agreement.get_status_display(), text]
            for agreement, _removed, _added, text in _changes(plan)
        ]
        if not rows:
            return []
        return [
            structure_changes.Section(
                title=_("Agreements whose parties change"),
                headers=[_("Agreement"), _("Status"), _("What happens")],
                rows=rows,
                note=_(
                    "A split municipality stays a party and its new parts are added; a merged "
                    "one is replaced by the municipality it merges into. Ended agreements are "
                    "left as they were. Each change is recorded in the agreement's history."
                ),
            )
        ]

    def apply(self, plan, user) -> None:
        for agreement, removed, added, _text in _changes(plan):
            gone = {m.pk for m in removed}
            parties = [m for m in agreement.municipalities.all() if m.pk not in gone]
            parties += [part.municipality for part in added if part.municipality not in parties]
            agreement_save(
                user=user,
                agreement_id=agreement.pk,
                expected_version=agreement.version,
                fields={},
                municipalities=parties,
                organisations=agreement.organisations.all(),
                solutions=agreement.solutions.all(),
            )


PROVIDER = AgreementParties()


def register() -> None:
    structure_changes.register(PROVIDER)
