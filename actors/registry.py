"""The registry as it was (issue 15): write an organisation's version when its type,
municipality, health-trust area or active flag changes, and read every organisation's
state on a past day. The one place for that rule; see OrganisationVersion."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import Organisation, OrganisationVersion

TRACKED = ("type_id", "municipality_id", "health_trust_id", "is_active")


@dataclass(frozen=True)
class State:
    type_id: int
    municipality_id: int
    health_trust_id: int
    is_active: bool

    @classmethod
    def of(cls, row) -> State:
        return cls(*(getattr(row, name) for name in TRACKED))


def record_versions(
    organisations: Iterable[Organisation], *, valid_from: datetime.date | None = None
) -> int:
    """Write a version for each organisation whose tracked values differ from its latest
    version (or that has none), valid from `valid_from` (default today). Call it in the
    transaction that saved the organisations. Returns how many were written."""
    organisations = [o for o in organisations if o.pk]
    if not organisations:
        return 0
    day = valid_from or timezone.localdate()
    latest: dict[int, State] = {}
    for version in OrganisationVersion.objects.filter(
        organisation_id__in=[o.pk for o in organisations]
    ).order_by("organisation_id", "valid_from", "id"):
        latest[version.organisation_id] = State.of(version)
    rows = [
        OrganisationVersion(organisation_id=o.pk, valid_from=day, **_values(State.of(o)))
        for o in organisations
        if latest.get(o.pk) != State.of(o)
    ]
    OrganisationVersion.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _values(state: State) -> dict:
    return dict(
        zip(
            TRACKED,
            (state.type_id, state.municipality_id, state.health_trust_id, state.is_active),
            strict=True,
        )
    )


# --- reading the registry on a day ------------------------------------------------------


class Timelines:
    """Organisations' versions read once, to answer their state on any day in memory.
    An organisation's state on a day is its latest version from that day or before; before
    its first version, the first one; without any version (written before the registry
    kept history, or outside the services), its current values."""

    def __init__(self, organisation_ids: Iterable[int] | None = None):
        versions = OrganisationVersion.objects.order_by("organisation_id", "valid_from", "id")
        unversioned = Organisation.objects.exclude(
            pk__in=OrganisationVersion.objects.values("organisation_id")
        )
        if organisation_ids is not None:
            ids = list(organisation_ids)
            versions = versions.filter(organisation_id__in=ids)
            unversioned = unversioned.filter(pk__in=ids)
        self.versions: dict[int, list[tuple[datetime.date, State]]] = {}
        for organisation_id, valid_from, *values in versions.values_list(
            "organisation_id", "valid_from", *TRACKED
        ):
            self.versions.setdefault(organisation_id, []).append((valid_from, State(*values)))
        if organisation_ids is None or len(self.versions) < len(set(ids)):
            for pk, *values in unversioned.values_list("pk", *TRACKED):
                self.versions[pk] = [(datetime.date.min, State(*values))]

    def __iter__(self):
        return iter(self.versions)

    def state_on(self, organisation_id: int, day: datetime.date) -> State:
        versions = self.versions[organisation_id]
        state = versions[0][1]
        for valid_from, version in versions:
            if valid_from > day:
                break
            state = version
        return state

    def states_on(self, day: datetime.date) -> dict[int, State]:
        return {pk: self.state_on(pk, day) for pk in self.versions}


def states_on(
    day: datetime.date, organisation_ids: Iterable[int] | None = None
) -> dict[int, State]:
    """{organisation id: State} on `day` for the given organisations (default: all), in two
    queries."""
    return Timelines(organisation_ids).states_on(day)


def changed_after_query(day: datetime.date):
    """The ids of the organisations that changed after `day` (see `changed_after`), as a
    subquery to exclude them in the database."""
    earlier = OrganisationVersion.objects.filter(
        Q(valid_from__lt=OuterRef("valid_from"))
        | Q(valid_from=OuterRef("valid_from"), id__lt=OuterRef("id")),
        organisation_id=OuterRef("organisation_id"),
    )
    return (
        OrganisationVersion.objects.filter(valid_from__gt=day)
        .filter(Exists(earlier))
        .values("organisation_id")
    )


def changed_after(day: datetime.date) -> set[int]:
    """Organisations whose type, municipality, area or active flag changed after `day`:
    those with a version after that day that is not their first (one query). The others
    stood on every day from `day` on as they stand today."""
    return set(changed_after_query(day).values_list("organisation_id", flat=True))


def organisations_on(
    day: datetime.date | None,
    organisations=None,
    *,
    municipality_ids: Iterable[int] | None = None,
    health_trust_ids: Iterable[int] | None = None,
    type_ids: Iterable[int] | None = None,
    active: bool | None = None,
):
    """The organisations among `organisations` (default: all; e.g. those visible to a user)
    that on `day` were in one of the municipalities / areas, of one of the types and with
    the active flag given, as the registry stood that day: one rule for every as-of read
    that selects organisations by place or type. `day` None (or today and later): today's
    registry. A queryset; two or three queries to build when the registry changed since."""
    base = Organisation.objects.all() if organisations is None else organisations
    wanted = {
        "municipality_id": None if municipality_ids is None else set(municipality_ids),
        "health_trust_id": None if health_trust_ids is None else set(health_trust_ids),
        "type_id": None if type_ids is None else set(type_ids),
    }
    lookups = {f"{name}__in": ids for name, ids in wanted.items() if ids is not None}
    if active is not None:
        lookups["is_active"] = active
    today = base.filter(**lookups)
    if day is None or day >= timezone.localdate():
        return today
    changed = changed_after(day)
    if not changed:
        return today
    then = {
        pk
        for pk, state in states_on(day, changed).items()
        if (active is None or state.is_active == active)
        and all(ids is None or getattr(state, name) in ids for name, ids in wanted.items())
    }
    return base.filter(Q(pk__in=today.exclude(pk__in=changed).values("pk")) | Q(pk__in=then))
