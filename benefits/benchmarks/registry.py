"""The registry `manage.py benchmark` measures on: the synthetic demo registry
(`seed_demo --seed 1`) copied `scale` times over with SQL (`INSERT … SELECT`), and the check
of today's figures against independent counts.

Each copy of an organisation gets a new valid organisation number, a name ending in
" (kopi N)", and its rollout statuses and history with every date moved by a few days to
weeks (the same for all of that copy's rows, so its changes keep their order; never past
today). A registry that is already large enough is reused.
"""

from __future__ import annotations

import datetime
import random
import re
import time
from collections.abc import Callable

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Max, Min

from actors import demo
from actors.models import Organisation, search_text
from benefits.choices import Level
from benefits.coverage import independent_count
from benefits.management.commands.seed_demo import (
    refresh_planner_statistics,
    structure_of_today_loaded,
)
from benefits.models import CoverageSnapshot, CoverageTarget
from rollout.models import RolloutStatus, StatusChange

from . import coverage

SEED = 1
COPY_NAME = re.compile(r" \(kopi (\d+)\)$")
MAX_SCALE = 100  # HER-ids of copies are offset by copy number × HER_ID_STEP (integer column)
HER_ID_STEP = 1_000_000
MAX_SHIFT_DAYS = 28  # a copy's dates move by −28 … +28 days (never 0, never past today)

Write = Callable[[str], None]


def shift_days(organisation_id: int, copy: int) -> int:
    """How far the dates of one copy of an organisation move: deterministic, a few days to
    a few weeks either way, never zero."""
    span = 2 * MAX_SHIFT_DAYS + 1
    shift = (organisation_id * 37 + copy * 101) % span - MAX_SHIFT_DAYS
    return shift or copy % MAX_SHIFT_DAYS + 1


def build(scale: int, today: datetime.date, write: Write, stdout=None) -> None:
    """Makes the registry `scale` times the synthetic demo registry (seeding it first when
    there is none), or says that the one there is large enough."""
    if not 1 <= scale <= MAX_SCALE:
        raise CommandError(f"--scale must be between 1 and {MAX_SCALE}.")
    if not structure_of_today_loaded():
        raise CommandError("Load the reference data first: manage.py load_reference_data")
    if not Organisation.objects.filter(is_synthetic=True).exists():
        write(f"No synthetic registry: running seed_demo --seed {SEED} …")
        call_command("seed_demo", seed=SEED, stdout=stdout)
    originals, present = [], set()
    synthetic = Organisation.objects.filter(is_synthetic=True).values_list("pk", "name", "her_id")
    for pk, name, her_id in synthetic:
        match = COPY_NAME.search(name)
        if match:
            present.add(int(match[1]))
        else:
            originals.append((pk, name, her_id))
    originals.sort()
    missing = [n for n in range(1, scale) if n not in present]
    if not missing:
        note = f" (it holds {1 + max(present)}×)" if present and max(present) >= scale else ""
        write(
            f"Reusing the registry: {len(synthetic)} synthetic organisations ≥ {scale} × "
            f"{len(originals)}{note}."
        )
        return
    write(
        f"Copying {len(originals)} synthetic organisations {len(missing)} times, with their "
        "rollout statuses and history …"
    )
    start = time.perf_counter()
    organisations, statuses, changes = _copy(originals, missing, today)
    refresh_planner_statistics()
    write(
        f"  {organisations} organisations, {statuses} status rows and {changes} history "
        f"rows added in {time.perf_counter() - start:.1f} s (ANALYZE included)."
    )


def _copy(originals: list, copies: list[int], today: datetime.date):
    """Copies of the original synthetic organisations, their current statuses and their
    history, in a few INSERT … SELECT statements."""
    used = set(Organisation.objects.values_list("orgnr", flat=True))
    columns: dict[str, list] = {
        k: [] for k in ("src", "copy", "orgnr", "name", "her_id", "search_text", "shift")
    }
    for n in copies:
        numbers = demo._Numbers(random.Random(f"benchmark-coverage-{SEED}-{n}"))
        numbers.used = used  # shared: unique across copies and the existing registry
        suffix = f" (kopi {n})"
        for pk, name, her_id in originals:
            orgnr = numbers.orgnr()
            name = name[: 200 - len(suffix)] + suffix
            her_id = her_id + n * HER_ID_STEP if her_id else None
            columns["src"].append(pk)
            columns["copy"].append(n)
            columns["orgnr"].append(orgnr)
            columns["name"].append(name)
            columns["her_id"].append(her_id)
            columns["search_text"].append(search_text(name, orgnr, her_id))
            columns["shift"].append(shift_days(pk, n))
    quote = connection.ops.quote_name
    organisation = quote(Organisation._meta.db_table)
    status = quote(RolloutStatus._meta.db_table)
    history = quote(StatusChange._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE benchmark_copy (src_id integer NOT NULL, "
            "copy_no integer NOT NULL, orgnr varchar(9) NOT NULL, name varchar(200) NOT NULL, "
            "her_id integer, search_text varchar(300) NOT NULL, shift integer NOT NULL, "
            "new_id integer, PRIMARY KEY (src_id, copy_no)) ON COMMIT DROP"
        )
        cursor.execute(
            "INSERT INTO benchmark_copy (src_id, copy_no, orgnr, name, her_id, search_text, "
            "shift) SELECT * FROM unnest(%s::integer[], %s::integer[], %s::varchar[], "
            "%s::varchar[], %s::integer[], %s::varchar[], %s::integer[])",
            list(columns.values()),
        )
        cursor.execute(
            f"INSERT INTO {organisation} (name, orgnr, her_id, is_active, is_synthetic, "
            "search_text, version, created_at, updated_at, health_trust_id, "
            "municipality_id, type_id, record_system_id) "
            "SELECT c.name, c.orgnr, c.her_id, o.is_active, TRUE, c.search_text, 1, now(), "
            "now(), o.health_trust_id, o.municipality_id, o.type_id, o.record_system_id "
            f"FROM benchmark_copy c JOIN {organisation} o ON o.id = c.src_id "
            "ORDER BY c.copy_no, c.src_id"
        )
        organisations = cursor.rowcount
        cursor.execute(
            f"UPDATE benchmark_copy c SET new_id = o.id FROM {organisation} o "
            "WHERE o.orgnr = c.orgnr"
        )
        cursor.execute("ANALYZE benchmark_copy")
        cursor.execute(
            f"INSERT INTO {status} (status, reason, effective_date, version, updated_at, "
            "organisation_id, updated_by_id, solution_id) "
            "SELECT s.status, s.reason, LEAST(s.effective_date + c.shift, %s::date), "
            "s.version, now(), c.new_id, s.updated_by_id, s.solution_id "
            f"FROM {status} s JOIN benchmark_copy c ON c.src_id = s.organisation_id "
            "ORDER BY c.copy_no, s.id",
            [today],
        )
        statuses = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {history} (from_status, to_status, reason, effective_date, "
            "changed_at, source, kind, prerequisite_override, changed_by_id, "
            "organisation_id, solution_id) "
            "SELECT h.from_status, h.to_status, h.reason, "
            "LEAST(h.effective_date + c.shift, %s::date), h.changed_at, h.source, h.kind, "
            "h.prerequisite_override, h.changed_by_id, c.new_id, h.solution_id "
            f"FROM {history} h JOIN benchmark_copy c ON c.src_id = h.organisation_id "
            "ORDER BY c.copy_no, h.id",
            [today],
        )
        changes = cursor.rowcount
    return organisations, statuses, changes


def size() -> str:
    """What the registry holds, in one line."""
    organisations = Organisation.objects.count()
    active = Organisation.objects.filter(is_active=True).count()
    history = StatusChange.objects.aggregate(
        first=Min("effective_date"), last=Max("effective_date")
    )
    return (
        f"Registry: {organisations} organisations ({active} active), "
        f"{RolloutStatus.objects.count()} status rows, {StatusChange.objects.count()} "
        f"history rows from {history['first']} to {history['last']}; "
        f"{CoverageTarget.objects.filter(is_active=True).count()} active targets."
    )


def check(today: datetime.date, write: Write) -> bool:
    """Today's stored national figure of each active target against an independent count,
    and every level and place against the coverage section's own grouped SQL; True when
    all agree."""
    write("")
    write("Check: today's national snapshot against an independent count")
    ok = True
    for target in CoverageTarget.objects.filter(is_active=True).order_by("code"):
        stored = (
            CoverageSnapshot.objects.filter(
                target=target, day=today, level=Level.NATION, scope_id=0
            )
            .values_list("numerator", "denominator")
            .first()
        )
        expected = independent_count(target)
        same = stored is not None and tuple(stored) == tuple(expected)
        ok &= same
        shown = f"{stored[0]}/{stored[1]}" if stored else "none"
        write(
            f"  {'OK' if same else 'MISMATCH'} {target.code}: snapshot {shown}, "
            f"independent {expected[0]}/{expected[1]}"
        )
    differ = coverage.yardstick(today) ^ coverage.stored(today)
    write(
        f"  {'OK' if not differ else 'MISMATCH'} every level and place of today's snapshots "
        f"against one grouped SQL statement: {len(differ)} figures differ"
        + (f", e.g. {sorted(differ)[:4]}" if differ else "")
    )
    return ok and not differ
