"""The registry as it was (issue 15): write an organisation's version when its type,
municipality, health-trust area or active flag changes, and read every organisation's
state on a past day. The one place for that rule; see OrganisationVersion."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

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
