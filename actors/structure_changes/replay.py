"""load_reference_data and the structure changes applied since the shipped data: replay
them on the shipped structure so loading it again does not undo them."""

from __future__ import annotations

from ..models import StructureChange
from ..reference import ReferenceData, Version
from .plan import ONE_DAY


def with_applied_changes(data: ReferenceData, stored: ReferenceData | None = None) -> list[str]:
    """Replay the applied structure changes on the shipped structure `data` (in place), so
    load_reference_data keeps them instead of undoing them. A change whose day the shipped
    data already has as a period is taken as shipped and skipped. New municipalities are
    left to the database (only their catchment shares are added, so the loader keeps them);
    with `stored` (the --check), they are taken from it so the comparison sees them.
    Returns what was replayed, one line per change."""
    starts = {v.valid_from for life in data.municipalities.values() for v in life.versions}
    said = []
    for change in StructureChange.objects.order_by("effective_from", "applied_at", "pk"):
        day, details = change.effective_from, change.details
        if day in starts:
            continue
        lives = data.municipalities
        for v in details.get("versions", []):
            life = lives[v["key"]]
            life.versions[-1].valid_to = day - ONE_DAY
            life.versions.append(Version(day, None, v["number"], v["name"], v["county"]))
        for key in details.get("ended", []):
            lives[key].valid_to = day - ONE_DAY
            lives[key].versions[-1].valid_to = day - ONE_DAY
        for survivor, merged in details.get("merged_into", []):
            lives[survivor].predecessors.append(merged)
        for new in details.get("created", []):
            data.catchments[new["key"]] = dict(data.catchments[new["predecessor"]])
            if stored is not None and new["key"] in stored.municipalities:
                lives[new["key"]] = stored.municipalities[new["key"]]
        said.append(str(change))
    return said
