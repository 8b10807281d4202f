"""Benchmark section `imports`: the status CSV import of 5 000 generated rows, and the
registry import of 50 000 generated rows as new organisations and as updates of existing
ones, with the peak memory of the process that imports.

Each import runs in a process of its own (`actors.benchmarking.run_measured`: wall time of
the whole process, and its peak resident memory as the kernel counts it) through its
benchmark command, which generates the file from this database, imports it as a national
coordinator and rolls the transaction back: the registry, its append-only history
(OrganisationChange, OrganisationVersion, StatusChange: inserts only, undone by the
rollback, never deleted) and the benchmark's own user are left as found (sequences
advance). The time reported is the import's own (`import: … s` / `real run: … s`, the
call of import_organisations / import_statuses including its writes, before the rollback);
the memory is the whole process's peak (Django, the generated file and the import).
"""

from __future__ import annotations

import re
import sys

from django.conf import settings

from actors.benchmarking import Result, run_measured

from . import Context

STATUS_ROWS = 5_000
STATUS_GOAL_S = 5.0
REGISTRY_ROWS = 50_000
REGISTRY_GOAL_S = 30.0
REGISTRY_GOAL_MB = 300.0


def _n(count: int) -> str:
    return f"{count:,}".replace(",", " ")


def _command(*args: str) -> list[str]:
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), *args]


def _seconds(output: str, label: str) -> float | None:
    found = re.search(rf"^{label}: ([0-9.]+) s", output, re.MULTILINE)
    return float(found.group(1)) if found else None


def _measured(what: str, command: list[str], label: str, goal_s: float, goal_mb=None):
    measured = run_measured(command)
    seconds = _seconds(measured.output, label)
    if measured.returncode or seconds is None:
        error = measured.output.strip().splitlines()[-1:] or [f"exit {measured.returncode}"]
        results = [Result(what, [], "s", goal_s, error=error[0][:200])]
        if goal_mb is not None:
            results.append(Result(f"{what} (peak memory)", [], "MB", goal_mb, error=error[0][:200]))
        return results
    results = [Result(what, [seconds], "s", goal_s, detail=f"process {measured.seconds:.1f} s")]
    if goal_mb is not None:
        results.append(Result(f"{what} (peak memory)", [measured.peak_mb], "MB", goal_mb))
    return results


def run(context: Context) -> list[Result]:
    results = []
    context.stdout.write(f"imports: status CSV, {STATUS_ROWS} rows\n")
    results += _measured(
        f"Status CSV import, {_n(STATUS_ROWS)} rows",
        _command("benchmark_status_import", "--rows", str(STATUS_ROWS), "--real-only"),
        "real run",
        STATUS_GOAL_S,
    )
    for mode, label in (("new", "new organisations"), ("update", "updates of existing ones")):
        context.stdout.write(f"imports: registry, {REGISTRY_ROWS} rows, {mode}\n")
        results += _measured(
            f"Registry import, {_n(REGISTRY_ROWS)} rows as {label}",
            _command("benchmark_register_import", "--csv", str(REGISTRY_ROWS), "--mode", mode),
            "import",
            REGISTRY_GOAL_S,
            REGISTRY_GOAL_MB,
        )
    return results
