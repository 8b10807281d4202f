"""The coverage side of the integrity check (rollout/integrity.py): do the stored snapshots
still say what the history says today?

For each active target, the latest stored day (today, or the latest day before it) is
counted again live with the same computation the recomputation uses (`coverage.compute`
for that one day: two aggregate queries), and every level and place is compared with what
is stored. A difference means a recomputation was lost or failed. On the latest day being
today, the national figure is also counted straight from the current statuses
(`coverage.independent_count`): a difference there is drift between the current statuses
and the history (the history check names the organisations).

Registered in BenefitsConfig.ready(); rollout never imports this module.
"""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actors.models import County, HealthTrust, Municipality, RegionalHealthAuthority
from actors.services import coverage_changed
from rollout import integrity
from rollout.services import today

from .choices import Level
from .models import CoverageSnapshot, CoverageTarget

CHECK = "coverage"
SNAPSHOT, CURRENT = "snapshot", "current"
# At most this many places per target are reported (the count says how many differ).
MAX_PER_TARGET = 20

PLACE_MODELS = {
    Level.REGION: RegionalHealthAuthority,
    Level.AREA: HealthTrust,
    Level.COUNTY: County,
    Level.MUNICIPALITY: Municipality,
}
LEVEL_ORDER = [Level.NATION, Level.REGION, Level.AREA, Level.COUNTY, Level.MUNICIPALITY]


def _place_names(keys) -> dict[tuple[str, int], str]:
    names = {(Level.NATION, 0): str(_("Norway"))}
    for level, model in PLACE_MODELS.items():
        ids = [scope_id for lvl, scope_id in keys if lvl == level]
        if ids:
            names.update(
                ((level, pk), name)
                for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")
            )
    return names


def coverage_findings() -> list[dict]:
    from .coverage import Structure, compute, independent_count

    findings: list[dict] = []
    structure = Structure.load()
    now = today()
    targets = CoverageTarget.objects.filter(is_active=True).select_related("solution")
    for target in targets.prefetch_related("organisation_types"):
        day = target.snapshots.filter(day__lte=now).aggregate(d=Max("day"))["d"]
        if day is None:
            continue  # never computed: nothing stored to disagree with
        live = compute(target, [day], structure)[day]
        stored = {
            (level, scope_id): (num, den)
            for level, scope_id, num, den in CoverageSnapshot.objects.filter(
                target=target, day=day
            ).values_list("level", "scope_id", "numerator", "denominator")
        }
        differ = sorted(
            (k for k in set(live) | set(stored) if live.get(k) != stored.get(k)),
            key=lambda k: (LEVEL_ORDER.index(k[0]) if k[0] in LEVEL_ORDER else 9, k[1]),
        )
        names = _place_names(differ[:MAX_PER_TARGET])
        base = {
            "check": CHECK,
            "key": f"{CHECK}:{target.pk}",
            "target_id": target.pk,
            "target_code": target.code,
            "target": target.name,
            "solution": target.solution.name,
            "day": day.isoformat(),
        }
        for level, scope_id in differ[:MAX_PER_TARGET]:
            findings.append(
                {
                    **base,
                    "kind": SNAPSHOT,
                    "level": level,
                    "scope_id": scope_id,
                    "place": names.get((level, scope_id), str(scope_id)),
                    "stored": list(stored[(level, scope_id)])
                    if (level, scope_id) in stored
                    else None,
                    "live": list(live[(level, scope_id)]) if (level, scope_id) in live else None,
                    "differing_places": len(differ),
                }
            )
        if day == now:
            current = independent_count(target)
            history = live.get((Level.NATION, 0), (0, 0))
            if tuple(current) != tuple(history):
                findings.append(
                    {
                        **base,
                        "kind": CURRENT,
                        "level": Level.NATION,
                        "scope_id": 0,
                        "place": str(_("Norway")),
                        "live": list(history),
                        "current": list(current),
                    }
                )
    return findings


def _pair(values) -> str:
    if values is None:
        return _("nothing")
    return _("%(n)s of %(d)s") % {"n": values[0], "d": values[1]}


def describe_coverage(f: dict) -> str:
    day = datetime.date.fromisoformat(f["day"]).strftime("%d.%m.%Y")
    values = {
        "target": f["target"],
        "place": f["place"],
        "level": Level(f["level"]).label,
        "day": day,
    }
    if f["kind"] == CURRENT:
        return _(
            "%(target)s, %(place)s on %(day)s: the history counts %(history)s, the current "
            "statuses %(current)s. The status history and the current statuses disagree."
        ) % {**values, "history": _pair(f["live"]), "current": _pair(f["current"])}
    return _(
        "%(target)s, %(level)s %(place)s on %(day)s: stored %(stored)s, counted now "
        "%(live)s. A recomputation was lost or failed."
    ) % {**values, "stored": _pair(f["stored"]), "live": _pair(f["live"])}


def repair_coverage(findings: list[dict], *, user, reason: str) -> int:
    """Ask for a recomputation from the earliest day found, by the path status changes
    take (today's figures and every stored day since then). Returns 1 when asked."""
    if not findings:
        return 0
    coverage_changed(since=min(datetime.date.fromisoformat(f["day"]) for f in findings))
    return 1


CHECK_ENTRY = integrity.Check(
    name=CHECK,
    label=gettext_lazy("Stored coverage figures and a live count"),
    find=coverage_findings,
    repair=repair_coverage,
    describe=describe_coverage,
)


def register() -> None:
    integrity.register(CHECK_ENTRY)
