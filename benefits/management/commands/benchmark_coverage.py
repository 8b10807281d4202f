"""Benchmark of the coverage targets on a registry a multiple of the real size (PostgreSQL).

Builds the registry by copying the synthetic demo registry (`seed_demo --seed 1`) `--scale`
times over with SQL (`INSERT … SELECT`): each copy of an organisation gets a new valid
organisation number, a name ending in " (kopi N)", and its rollout statuses and history with
every date moved by a few days to weeks (the same for all of that copy's rows, so its changes
keep their order; never past today). A registry that is already large enough is reused.

Then it measures and prints: recomputing every active target for today (three runs), a
back-fill of `--days` daily snapshots, and the server time and query count of the target
dashboard and one target page (Django's test client, as a directorate user), against the
aims. Numbers, not a timed test: see the README's Benchmark section.
"""

from __future__ import annotations

import datetime
import random
import re
import statistics
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max, Min
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from actors import demo
from actors.choices import Role
from actors.models import Job, Organisation, User, search_text
from benefits.benchmarks import coverage as coverage_benchmark
from benefits.choices import Level
from benefits.coverage import Structure, compute, independent_count
from benefits.management.commands.seed_demo import (
    refresh_planner_statistics,
    structure_of_today_loaded,
)
from benefits.models import CoverageSnapshot, CoverageTarget
from benefits.services import coverage_job_run
from rollout.models import RolloutStatus, StatusChange

SEED = 1
COPY_NAME = re.compile(r" \(kopi (\d+)\)$")
MAX_SCALE = 100  # HER-ids of copies are offset by copy number × HER_ID_STEP (integer column)
HER_ID_STEP = 1_000_000
MAX_SHIFT_DAYS = 28  # a copy's dates move by −28 … +28 days (never 0, never past today)
RECOMPUTE_RUNS = 3
RECOMPUTE_AIM_S = 3.0
PAGE_AIM_MS = 200.0
DETAIL_TARGETS = ("kjernejournal-plo", "pll-prioriterte-aktorer")
BENCHMARK_USER = "benchmark-direktorat"


def shift_days(organisation_id: int, copy: int) -> int:
    """How far the dates of one copy of an organisation move: deterministic, a few days to
    a few weeks either way, never zero."""
    span = 2 * MAX_SHIFT_DAYS + 1
    shift = (organisation_id * 37 + copy * 101) % span - MAX_SHIFT_DAYS
    return shift or copy % MAX_SHIFT_DAYS + 1


@dataclass
class PageTiming:
    url: str
    times_ms: list[float]
    queries: list[int]
    sql_ms: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def query_count(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"


class Command(BaseCommand):
    help = (
        "Benchmark the coverage targets on PostgreSQL: build a registry --scale times the "
        "synthetic demo registry (reused when present), then time a recomputation for today, "
        "a back-fill of --days daily snapshots and the target dashboard."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=10, help="Registry size as a multiple of seed_demo's."
        )
        parser.add_argument(
            "--days", type=int, default=365, help="Daily snapshots to back-fill, ending today."
        )
        parser.add_argument(
            "--repeat", type=int, default=10, help="Timed requests per page (after a warm-up)."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Also compare each target's national figure today with an independent count.",
        )

    def handle(self, *args, scale, days, repeat, check, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "The benchmark needs PostgreSQL (it measures the production database): set "
                "DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/innforing_bench."
            )
        if not 1 <= scale <= MAX_SCALE:
            raise CommandError(f"--scale must be between 1 and {MAX_SCALE}.")
        if days < 1 or repeat < 1:
            raise CommandError("--days and --repeat must be at least 1.")
        self.verbose = options["verbosity"] >= 2
        today = timezone.localdate()
        self.stdout.write(
            f"Coverage benchmark, {today}: PostgreSQL {self._server_version()}, "
            f"scale {scale}×, {days} days, {repeat} requests per page."
        )
        self._build(scale, today)
        self._registry_size()

        recompute = self._recompute(today)
        user = self._user()
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            client = Client()
            client.force_login(user)
            dashboard_before = self._page(client, "benefits:target_dashboard", [], repeat)
            backfill = self._backfill(today, days)
            dashboard = self._page(client, "benefits:target_dashboard", [], repeat)
            details = [
                (code, self._page(client, "benefits:target_detail", [code], repeat))
                for code in self._detail_codes()
            ]
        self._report(recompute, backfill, dashboard_before, dashboard, details)
        if check and not self._check(today):
            raise CommandError("The computed figures differ from the independent count.")

    # --- the registry -----------------------------------------------------------------

    def _build(self, scale: int, today: datetime.date) -> None:
        if not structure_of_today_loaded():
            raise CommandError("Load the reference data first: manage.py load_reference_data")
        if not Organisation.objects.filter(is_synthetic=True).exists():
            self.stdout.write(f"No synthetic registry: running seed_demo --seed {SEED} …")
            call_command("seed_demo", seed=SEED, stdout=self.stdout, stderr=self.stderr)
        originals, present = [], set()
        synthetic = Organisation.objects.filter(is_synthetic=True).values_list(
            "pk", "name", "her_id"
        )
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
            self.stdout.write(
                f"Reusing the registry: {len(synthetic)} synthetic organisations ≥ {scale} × "
                f"{len(originals)}{note}."
            )
            return
        self.stdout.write(
            f"Copying {len(originals)} synthetic organisations {len(missing)} times, with their "
            "rollout statuses and history …"
        )
        start = time.perf_counter()
        organisations, statuses, changes = self._copy(originals, missing, today)
        refresh_planner_statistics()
        self.stdout.write(
            f"  {organisations} organisations, {statuses} status rows and {changes} history "
            f"rows added in {time.perf_counter() - start:.1f} s (ANALYZE included)."
        )

    def _copy(self, originals: list, copies: list[int], today: datetime.date):
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

    def _registry_size(self) -> None:
        organisations = Organisation.objects.count()
        active = Organisation.objects.filter(is_active=True).count()
        history = StatusChange.objects.aggregate(
            first=Min("effective_date"), last=Max("effective_date")
        )
        self.stdout.write(
            f"Registry: {organisations} organisations ({active} active), "
            f"{RolloutStatus.objects.count()} status rows, {StatusChange.objects.count()} "
            f"history rows from {history['first']} to {history['last']}; "
            f"{CoverageTarget.objects.filter(is_active=True).count()} active targets."
        )

    # --- coverage jobs ----------------------------------------------------------------

    def _run_job(self, kind: str, params: dict) -> tuple[float, int]:
        job = Job.objects.create(kind=kind, params=params)
        start = time.perf_counter()
        coverage_job_run(job)
        return time.perf_counter() - start, job.result["snapshots"]

    def _recompute(self, today: datetime.date) -> list[tuple[float, int]]:
        if self.verbose:
            structure = Structure.load()
            for target in CoverageTarget.objects.filter(is_active=True).order_by("code"):
                start = time.perf_counter()
                compute(target, [today], structure)
                self.stdout.write(
                    f"  compute {target.code}: {(time.perf_counter() - start) * 1000:.0f} ms"
                )
        runs = []
        for i in range(RECOMPUTE_RUNS):
            seconds, rows = self._run_job(Job.Kind.COVERAGE_RECOMPUTE, {"day": today.isoformat()})
            self.stdout.write(f"Recompute for today, run {i + 1}: {seconds:.2f} s, {rows} rows")
            runs.append((seconds, rows))
        return runs

    def _backfill(self, today: datetime.date, days: int) -> tuple[float, int]:
        start = today - datetime.timedelta(days=days - 1)
        self.stdout.write(f"Back-filling daily snapshots {start} … {today} …")
        seconds, rows = self._run_job(
            Job.Kind.COVERAGE_BACKFILL,
            {"start": start.isoformat(), "end": today.isoformat(), "every": "day"},
        )
        self.stdout.write(f"Back-fill of {days} days: {seconds:.1f} s, {rows} rows")
        return seconds, rows

    # --- pages ------------------------------------------------------------------------

    def _user(self) -> User:
        user, _created = User.objects.get_or_create(
            username=BENCHMARK_USER, defaults={"role": Role.DIRECTORATE}
        )
        if user.role != Role.DIRECTORATE or user.has_usable_password():
            user.role = Role.DIRECTORATE
            user.set_unusable_password()
            user.save(update_fields=["role", "password"])
        return user

    def _detail_codes(self) -> list[str]:
        """The target pages to time: the largest municipality target and the largest
        organisation target (the longest lists of who is missing)."""
        targets = CoverageTarget.objects.filter(is_active=True)
        return [code for code in DETAIL_TARGETS if targets.filter(code=code).exists()]

    def _page(self, client: Client, name: str, args: list, repeat: int) -> PageTiming | str:
        """Median server time and query count of `repeat` GETs after one warm-up, or why
        the page could not be measured."""
        try:
            url = reverse(name, args=args)
        except NoReverseMatch:
            return "not available (no such URL)"
        timing = PageTiming(url, [], [], [])
        try:
            for i in range(repeat + 1):
                with CaptureQueriesContext(connection) as queries:
                    start = time.perf_counter()
                    response = client.get(url)
                    elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    return f"not available (HTTP {response.status_code} from {url})"
                if i:  # the first request warms up
                    timing.times_ms.append(elapsed)
                    timing.queries.append(len(queries))
                    timing.sql_ms.append(sum(float(q["time"]) for q in queries) * 1000)
        except Exception as exc:  # report a broken page, finish the benchmark
            return f"not available ({type(exc).__name__}: {exc})"
        return timing

    # --- results ----------------------------------------------------------------------

    def _report(self, recompute, backfill, dashboard_before, dashboard, details):
        def verdict(ok: bool) -> str:
            return self.style.SUCCESS("met") if ok else self.style.ERROR("NOT met")

        def page_line(label: str, timing: PageTiming | str | None, aim: bool) -> None:
            if not isinstance(timing, PageTiming):
                self.stdout.write(f"{label}: {timing or 'not available (no active target)'}")
                return
            line = (
                f"{label} {timing.url}: median {timing.median_ms:.0f} ms "
                f"(min {min(timing.times_ms):.0f}, max {max(timing.times_ms):.0f}; "
                f"SQL {statistics.median(timing.sql_ms):.0f} ms), "
                f"{timing.query_count} queries"
            )
            if aim:
                line += (
                    f"  [aim ≤ {PAGE_AIM_MS:.0f} ms: {verdict(timing.median_ms <= PAGE_AIM_MS)}]"
                )
            self.stdout.write(line)

        seconds = statistics.median(s for s, _rows in recompute)
        self.stdout.write("")
        self.stdout.write("Results")
        self.stdout.write(
            f"Recompute all targets for today: median {seconds:.2f} s of "
            f"{', '.join(f'{s:.2f}' for s, _rows in recompute)} s, {recompute[0][1]} rows  "
            f"[aim ≤ {RECOMPUTE_AIM_S:.0f} s: {verdict(seconds <= RECOMPUTE_AIM_S)}]"
        )
        self.stdout.write(f"Back-fill: {backfill[0]:.1f} s, {backfill[1]} rows")
        page_line("Dashboard", dashboard, aim=True)
        for code, detail in details:
            page_line(f"Target page ({code})", detail, aim=True)
        if isinstance(dashboard_before, PageTiming) and isinstance(dashboard, PageTiming):
            same = dashboard_before.queries == dashboard.queries
            self.stdout.write(
                f"Dashboard queries with today's snapshots only: {dashboard_before.query_count}; "
                f"after the back-fill: {dashboard.query_count}  "
                f"[constant: {verdict(same)}]"
            )
        else:
            self.stdout.write(
                "Dashboard queries before/after the back-fill: not available "
                f"({dashboard_before if isinstance(dashboard_before, str) else dashboard})"
            )

    def _check(self, today: datetime.date) -> bool:
        self.stdout.write("")
        self.stdout.write("Check: today's national snapshot against an independent count")
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
            mark = self.style.SUCCESS("OK") if same else self.style.ERROR("MISMATCH")
            shown = f"{stored[0]}/{stored[1]}" if stored else "none"
            self.stdout.write(
                f"  {mark} {target.code}: snapshot {shown}, independent {expected[0]}/{expected[1]}"
            )
        # Every level and place: the benchmark's own grouped SQL over the current statuses.
        differ = coverage_benchmark.yardstick(today) ^ coverage_benchmark.stored(today)
        mark = self.style.SUCCESS("OK") if not differ else self.style.ERROR("MISMATCH")
        self.stdout.write(
            f"  {mark} every level and place of today's snapshots against one grouped SQL "
            f"statement: {len(differ)} figures differ"
            + (f", e.g. {sorted(differ)[:4]}" if differ else "")
        )
        return ok and not differ

    def _server_version(self) -> str:
        version = connection.pg_version  # e.g. 150004
        return f"{version // 10000}.{version % 10000}"
