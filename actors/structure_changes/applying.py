"""Applying a checked plan in one transaction, with history for everything it touches."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from .. import registry, services
from ..choices import Source
from ..models import (
    Catchment,
    Municipality,
    MunicipalityVersion,
    Organisation,
    StructureChange,
    User,
)
from ..reference import split_population
from .plan import ALL_PARTS, ONE_DAY, Part, Plan, Split, can_change_structure, providers


def apply(plan: Plan, *, user, choices: dict[int, str] | None = None) -> StructureChange:
    """Write the checked plan in one transaction: versions from the effective day, new
    municipalities for split-off parts (with predecessor and the same catchment), the end
    of merged ones, organisations moved with their history, contacts per `choices`
    ({user pk: number of the part, or "all"}; default: the part that keeps the name), the
    providers' parts, and the record of the operation."""
    if not can_change_structure(user):
        raise PermissionDenied(_("Structure changes are for administrators."))
    if not plan.ok:
        raise ValidationError([f"{e.line}: {e.message}" for e in plan.errors])
    chosen = {**plan.default_choices(), **(choices or {})}
    reason = _("Structure change from %(d)s (%(f)s)") % {
        "d": plan.effective.strftime("%d.%m.%Y"),
        "f": plan.file_name or "–",
    }
    with transaction.atomic():
        _still_as_checked(plan)
        _Applier(plan, user, reason).run(chosen)
        for provider in providers():
            provider.apply(plan, user)
        record = StructureChange.objects.create(
            effective_from=plan.effective,
            file_name=plan.file_name[:200],
            content=plan.content,
            summary="\n".join(plan.lines()),
            details=_details(plan, chosen),
            applied_by=user if getattr(user, "pk", None) else None,
        )
        services.coverage_changed()
    return record


def _still_as_checked(plan: Plan) -> None:
    """Lock the municipalities the plan changes; refuse when the structure changed since
    the plan was checked (another change applied in between)."""
    touched = [c.municipality.pk for c in plan.continuing]
    touched += [m.pk for merge in plan.merges for m in merge.merged]
    list(Municipality.objects.select_for_update().filter(pk__in=touched).values_list("pk"))
    latest = MunicipalityVersion.objects.aggregate(day=Max("valid_from"))["day"]
    if latest and latest >= plan.effective:
        raise ValidationError(
            _("The structure has changed since the check: upload the change list again.")
        )


class _Applier:
    def __init__(self, plan: Plan, user, reason: str):
        self.plan, self.user, self.reason = plan, user, reason
        self.day = plan.effective

    def run(self, chosen: dict[int, str]) -> None:
        for c in self.plan.continuing:
            self._new_version(c.municipality, c.new)
        for split in self.plan.splits:
            for part in split.parts:
                part.municipality = self._create(split.continuing.municipality, part)
            self._contacts(split.contacts, split, chosen)
        for merge in self.plan.merges:
            survivor = merge.continuing.municipality
            for m in merge.merged:
                Municipality.objects.filter(pk=m.pk).update(valid_to=self.day - ONE_DAY)
                MunicipalityVersion.objects.filter(municipality=m, valid_to__isnull=True).update(
                    valid_to=self.day - ONE_DAY
                )
                survivor.predecessors.add(m)
            self._move(merge.organisations, survivor)
            for user in merge.contacts:
                user.municipalities.remove(*merge.merged)
                user.municipalities.add(survivor)

    def _new_version(self, m: Municipality, part: Part) -> None:
        MunicipalityVersion.objects.filter(municipality=m, valid_to__isnull=True).update(
            valid_to=self.day - ONE_DAY
        )
        MunicipalityVersion.objects.create(
            municipality=m,
            valid_from=self.day,
            number=part.number,
            name=part.name,
            county=part.county,
        )
        # A municipality row carries its latest version, as load_reference_data does.
        m.number, m.name, m.county = part.number, part.name, part.county
        m.save(update_fields=["number", "name", "county"])

    def _create(self, predecessor: Municipality, part: Part) -> Municipality:
        """A split-off part: residents estimated by its share (until the next population
        figures), the predecessor's catchment shares."""
        population = round(predecessor.population * part.share)
        m = Municipality.objects.create(
            number=part.number,
            name=part.name,
            county=part.county,
            population=population,
            population_67_plus=round(predecessor.population_67_plus * part.share),
            population_year=predecessor.population_year,
            valid_from=self.day,
        )
        MunicipalityVersion.objects.create(
            municipality=m, valid_from=self.day, number=m.number, name=m.name, county=m.county
        )
        m.predecessors.add(predecessor)
        shares = {c.health_trust_id: c.share for c in predecessor.catchments.all()}
        for trust_id, people in split_population(population, shares).items():
            Catchment.objects.create(
                municipality=m, health_trust_id=trust_id, share=shares[trust_id], population=people
            )
        return m

    def _contacts(self, contacts: list[User], split: Split, chosen: dict[int, str]) -> None:
        parts = {p.number: p.municipality for p in split.all_parts}
        for user in contacts:
            choice = chosen.get(user.pk, split.continuing.new.number)
            if choice != ALL_PARTS and choice not in parts:
                raise ValidationError(
                    _("%(u)s can follow %(parts)s or all of them, not “%(c)s”.")
                    % {"u": user, "parts": ", ".join(parts), "c": choice}
                )
            follows = list(parts.values()) if choice == ALL_PARTS else [parts[choice]]
            user.municipalities.remove(split.continuing.municipality)
            user.municipalities.add(*follows)

    def _move(self, organisations: list[Organisation], to: Municipality) -> None:
        trusts = list(to.health_trusts.all())
        # An organisation without a registry version yet gets one for where it was, from
        # its creation, so the day before the change still finds it there.
        unversioned = [o for o in organisations if not o.registry_versions.exists()]
        for o in unversioned:
            registry.record_versions([o], valid_from=o.created_at.date())
        history = []
        for o in organisations:
            before = services.organisation_state(o)
            o.municipality = to
            if o.health_trust not in trusts:
                o.health_trust = trusts[0]
            o.version += 1
            o.save(update_fields=["municipality", "health_trust", "version", "updated_at"])
            history += services.organisation_diff(before, o)
        services._record(history, user=self.user, source=Source.SYSTEM, reason=self.reason)
        registry.record_versions(organisations, valid_from=self.day)


def _details(plan: Plan, chosen: dict[int, str]) -> dict:
    """What the record keeps to replay the change on shipped reference data (by the
    identity of each municipality, see Municipality.identity_key) and to show it."""
    keys = {}

    def key(m: Municipality) -> str:
        if m.pk not in keys:
            keys[m.pk] = m.versions.order_by("valid_from").first().number
        return keys[m.pk]

    return {
        "versions": [
            {
                "key": key(c.municipality),
                "number": c.new.number,
                "name": c.new.name,
                "county": c.new.county.number,
            }
            for c in plan.continuing
        ],  # fmt: skip
        "created": [
            {"key": p.number, "predecessor": key(s.continuing.municipality)}
            for s in plan.splits
            for p in s.parts
        ],
        "ended": [key(m) for merge in plan.merges for m in merge.merged],
        "merged_into": [
            [key(merge.continuing.municipality), key(m)]
            for merge in plan.merges
            for m in merge.merged
        ],
        "organisations_moved": [o.pk for merge in plan.merges for o in merge.organisations],
        "contacts": {str(pk): choice for pk, choice in chosen.items()},
    }
