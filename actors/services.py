"""Every write to actors goes through these functions (views, API, commands, tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import scoping
from .concurrency import check_version
from .models import (
    Catchment,
    County,
    HealthTrust,
    Municipality,
    Organisation,
    RegionalHealthAuthority,
)
from .reference import ReferenceData

EDITABLE_ORGANISATION_FIELDS = (
    "name",
    "type",
    "orgnr",
    "her_id",
    "municipality",
    "health_trust",
    "record_system",
    "is_active",
)


# --- reference data -------------------------------------------------------------------


@dataclass
class SyncResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, what: str, action: str) -> None:
        self.counts.setdefault(what, {"created": 0, "updated": 0, "deleted": 0})[action] += 1

    @property
    def changed(self) -> bool:
        return any(sum(c.values()) for c in self.counts.values())

    def summary(self) -> str:
        parts = []
        for what, c in self.counts.items():
            done = ", ".join(f"{n} {action}" for action, n in c.items() if n)
            if done:
                parts.append(f"{what}: {done}")
        return "; ".join(parts) or "nothing changed"


def _sync(model, key: str, wanted: dict, result: SyncResult, label: str) -> dict:
    """Create or update `model` rows keyed by `key` to match `wanted` {key: {field: value}}."""
    existing = {getattr(obj, key): obj for obj in model.objects.all()}
    for k, values in wanted.items():
        obj = existing.get(k)
        if obj is None:
            obj = model(**{key: k}, **values)
            obj.full_clean()
            obj.save()
            existing[k] = obj
            result.add(label, "created")
        elif any(getattr(obj, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(obj, f, v)
            obj.full_clean()
            obj.save()
            result.add(label, "updated")
    return existing


@transaction.atomic
def reference_data_load(*, data: ReferenceData) -> SyncResult:
    result = SyncResult()
    rhas = _sync(
        RegionalHealthAuthority,
        "code",
        {code: {"name": name} for code, name in data.regional_health_authorities.items()},
        result,
        "regional health authorities",
    )
    trusts = _sync(
        HealthTrust,
        "code",
        {
            code: {
                "name": t["name"],
                "short_name": t["short_name"],
                "regional_health_authority": rhas[t["rha_code"]],
            }
            for code, t in data.health_trusts.items()
        },
        result,
        "health trusts",
    )
    counties = _sync(
        County,
        "number",
        {number: {"name": name} for number, name in data.counties.items()},
        result,
        "counties",
    )
    municipalities = _sync(
        Municipality,
        "number",
        {
            number: {
                "name": m["name"],
                "county": counties[m["county"]],
                "population": m["population"],
                "population_67_plus": m["population_67_plus"],
            }
            for number, m in data.municipalities.items()
        },
        result,
        "municipalities",
    )
    existing = {(c.municipality_id, c.health_trust_id): c for c in Catchment.objects.all()}
    wanted = set()
    for row in data.catchments:
        m, t = municipalities[row["municipality"]], trusts[row["health_trust"]]
        wanted.add((m.pk, t.pk))
        current = existing.get((m.pk, t.pk))
        if current is None:
            Catchment.objects.create(municipality=m, health_trust=t, population=row["population"])
            result.add("catchment shares", "created")
        elif current.population != row["population"]:
            current.population = row["population"]
            current.save(update_fields=["population"])
            result.add("catchment shares", "updated")
    for pair, catchment in existing.items():
        if pair not in wanted:
            catchment.delete()
            result.add("catchment shares", "deleted")
    return result


# --- organisations --------------------------------------------------------------------


def coverage_changed(since=None) -> None:
    """Organisations or statuses changed: coverage targets are recomputed soon (debounced),
    today's figures and, for statuses dated in the past, every stored day `since` then."""
    from benefits.services import coverage_recompute_soon

    coverage_recompute_soon(since)


def _ensure_editable(user, organisation: Organisation) -> None:
    """Re-check, inside the writing transaction, that the result is still in the user's reach."""
    if not Organisation.objects.editable_by(user).filter(pk=organisation.pk).exists():
        raise ValidationError(
            {
                "municipality": _(
                    "You can only place organisations in the municipalities and areas you "
                    "are responsible for."
                )
            }
        )


def organisation_create(*, user, **fields) -> Organisation:
    if not scoping.scope_for(user).can_edit:
        raise PermissionDenied(_("Your role cannot create organisations."))
    unknown = set(fields) - set(EDITABLE_ORGANISATION_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        organisation = Organisation(**fields)
        organisation.full_clean()
        organisation.save()
        _ensure_editable(user, organisation)
        coverage_changed()
    return organisation


def organisation_update(
    *, user, organisation_id: int, expected_version: int | None, **changes
) -> Organisation:
    """Change an organisation the user may edit. Raises VersionConflict when someone saved
    it since `expected_version` was read, Organisation.DoesNotExist when out of scope."""
    unknown = set(changes) - set(EDITABLE_ORGANISATION_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        organisation = (
            Organisation.objects.editable_by(user).select_for_update().get(pk=organisation_id)
        )
        check_version(organisation, expected_version)
        moved = (
            "municipality" in changes and changes["municipality"].pk != organisation.municipality_id
        )
        for name, value in changes.items():
            setattr(organisation, name, value)
        if moved and changes.get("health_trust") is None:
            organisation.health_trust = None  # derive it again from the new municipality
        organisation.version += 1
        organisation.full_clean()
        organisation.save()
        _ensure_editable(user, organisation)
        coverage_changed()
    return organisation


def organisations_write_import(
    *, scope: scoping.Scope, new: list[Organisation], changed: list[Organisation]
) -> None:
    """Write the rows of a validated import in one transaction (all or nothing)."""
    now = timezone.now()
    with transaction.atomic():
        Organisation.objects.bulk_create(new, batch_size=500)
        for organisation in changed:
            organisation.version += 1
            organisation.updated_at = now
        Organisation.objects.bulk_update(
            changed,
            [*EDITABLE_ORGANISATION_FIELDS, "search_text", "version", "updated_at", "is_synthetic"],
            batch_size=500,
        )
        orgnrs = [o.orgnr for o in (*new, *changed)]
        reachable = set(
            scope.filter_editable(Organisation.objects.filter(orgnr__in=orgnrs)).values_list(
                "orgnr", flat=True
            )
        )
        if len(reachable) != len(set(orgnrs)):
            raise PermissionDenied(_("The import touches organisations outside your scope."))
        coverage_changed()


def notify(*, users, text: str, link: str = "") -> None:
    """Tell users something: an in-app notification and an e-mail (sent after commit)."""
    from django.core.mail import send_mail

    from .models import Notification

    users = [u for u in users if u.is_active]
    Notification.objects.bulk_create([Notification(user=u, text=text, link=link) for u in users])
    recipients = [u.email for u in users if u.email]
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                subject=text[:78],
                message=f"{text}\n\n{link}",
                from_email=None,
                recipient_list=recipients,
                fail_silently=True,
            )
        )
