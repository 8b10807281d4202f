"""How fast the status CSV import is (issue 17: 5 000 rows in at most 5 s). Builds a file
from the organisations already in this database (one row per organisation and solution that
applies to it, each a permitted change from its current status, every tenth row unchanged),
imports it as a national coordinator, as a dry run and as a real run, and prints the time of
each and its peak Python memory (tracemalloc, measured in a second run, as it slows the
first). The real runs are rolled back, so the database is left as it was."""

import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from actors.choices import Role
from actors.models import Organisation, User
from rollout.choices import NEEDS_PREREQUISITES, TRANSITIONS, Status
from rollout.imports import import_statuses
from rollout.models import RolloutStatus, Solution

USERNAME = "benchmark-status-import"


def synthetic_file(rows: int) -> bytes:
    current = {
        (o, s): status
        for o, s, status in RolloutStatus.objects.values_list(
            "organisation_id", "solution_id", "status"
        )
    }
    solutions = list(Solution.objects.prefetch_related("organisation_types").order_by("code"))
    lines = ["organisasjonsnummer,losning,status,begrunnelse"]
    organisations = Organisation.objects.exclude(orgnr=None).exclude(orgnr="").order_by("pk")
    for organisation in organisations.values("pk", "orgnr", "type_id").iterator():
        for solution in solutions:
            if len(lines) > rows:
                return "\n".join(lines).encode() + b"\n"
            if organisation["type_id"] not in {t.pk for t in solution.organisation_types.all()}:
                continue
            now = current.get((organisation["pk"], solution.pk), Status.NOT_STARTED)
            choices = sorted(TRANSITIONS[now] - NEEDS_PREREQUISITES)
            to = now if len(lines) % 10 == 0 or not choices else choices[0]
            lines.append(f"{organisation['orgnr']},{solution.code},{to},Benchmark")
    raise CommandError(
        f"Only {len(lines) - 1} rows can be made from this database's organisations."
    )


class _RollBack(Exception):
    pass


class Command(BaseCommand):
    help = "Import a generated status CSV (dry run, then a rolled-back real run); print times."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=5000)
        parser.add_argument(
            "--real-only",
            action="store_true",
            help="Only the (rolled-back) real run, without the second, traced run.",
        )

    def handle(self, *args, rows, real_only=False, **options):
        with transaction.atomic():  # the benchmark's user too is rolled back
            user = User.objects.create(
                username=USERNAME, role=Role.COORDINATOR, national_scope=True
            )
            raw = synthetic_file(rows)
            self.stdout.write(f"{rows} rows, {len(raw) / 1e3:.0f} kB")
            for dry_run in (False,) if real_only else (True, False):
                report, elapsed = self.run_once(raw, user, dry_run)
                if real_only:
                    self.stdout.write(f"real run: {elapsed:.2f} s, {report.updated} changed")
                    continue
                tracemalloc.start()
                self.run_once(raw, user, dry_run)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                if report.errors:
                    raise CommandError(f"The generated file was refused: {report.errors[0]}")
                self.stdout.write(
                    f"{'dry run' if dry_run else 'real run'}: {elapsed:.2f} s, "
                    f"{report.updated} changed, {report.unchanged} unchanged, "
                    f"peak {peak / 2**20:.0f} MB (tracemalloc, a second run)"
                )
            transaction.set_rollback(True)

    def run_once(self, raw, user, dry_run):
        started = time.perf_counter()
        try:
            with transaction.atomic():
                report = import_statuses(raw=raw, user=user, dry_run=dry_run)
                elapsed = time.perf_counter() - started
                raise _RollBack
        except _RollBack:
            pass
        return report, elapsed
