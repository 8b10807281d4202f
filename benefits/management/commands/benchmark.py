"""`make benchmark`: every goal of issue 17 measured at 10× on PostgreSQL, side by side.

Builds (or reuses) the registry `--scale` times the synthetic demo registry, then runs each
section of `benefits.benchmarks` (`--runs` times, 3 by default) and prints one table: each
line's median over the runs, the range of the runs' medians, its goal and whether every run
met it. `--check` also compares today's national figure of each target with an independent
count. Numbers, not a timed test: see the README's Benchmark section.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from actors.benchmarking import Result, number
from benefits.benchmarks import SECTIONS, Context, registry


def machine() -> str:
    """What the numbers were measured on: CPU model and count, memory, PostgreSQL."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    version = connection.pg_version
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, "
        f"PostgreSQL {version // 10000}.{version % 10000}"
    )


class Command(BaseCommand):
    help = (
        "Measure every performance goal (coverage recompute and back-fill, API lists, HTML "
        "lists, area pages, reports, imports) on a registry --scale times the synthetic demo "
        "registry, --runs times, and print each against its goal. PostgreSQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=10, help="Registry size as a multiple of seed_demo's."
        )
        parser.add_argument("--runs", type=int, default=3, help="Runs of every section.")
        parser.add_argument(
            "--repeat",
            type=int,
            default=5,
            help="Timed requests per URL in a run (after a warm-up).",
        )
        parser.add_argument(
            "--only",
            action="append",
            choices=SECTIONS,
            help="Run only this section (repeatable).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Also compare each target's national figure today with an independent count.",
        )
        parser.add_argument(
            "--strict", action="store_true", help="Exit with an error when a goal is not met."
        )

    def handle(self, *args, scale, runs, repeat, only, check, strict, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "The benchmark needs PostgreSQL (it measures the production database): set "
                "DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/innforing_bench."
            )
        if runs < 1 or repeat < 1:
            raise CommandError("--runs and --repeat must be at least 1.")
        today = timezone.localdate()
        self.stdout.write(f"Benchmark, {today}, scale {scale}×: {machine()}.")
        registry.build(scale, today, self.stdout.write, stdout=self.stdout)
        self.stdout.write(registry.size())

        # Sign-ins (axes) and the deliberate 404s of lists shorter than the pages asked
        # for would drown the progress lines; errors still show.
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)
        try:
            context = Context(today, repeat, self.stdout, options["verbosity"] >= 2)
            sections = [name for name in SECTIONS if not only or name in only]
            measured: dict[str, list[Result]] = {}  # line -> its result in each run
            order: list[tuple[str, str]] = []  # (section, line) in the order first measured
            for run in range(1, runs + 1):
                for name in sections:
                    self.stdout.write(f"Run {run}/{runs}: {name} …")
                    start = time.perf_counter()
                    for result in self._section(name, context):
                        if result.what not in measured:
                            measured[result.what] = []
                            order.append((name, result.what))
                        measured[result.what].append(result)
                        if context.verbose:
                            self.stdout.write(f"  {result.line()}")
                    self.stdout.write(f"  ({time.perf_counter() - start:.0f} s)")
        finally:
            logging.disable(previous)  # logging as the caller had it (tests call this too)
        missed = self._table(order, measured, runs)
        if check and not registry.check(today, self.stdout.write):
            raise CommandError("The computed figures differ from the independent count.")
        if strict and missed:
            raise CommandError(f"{missed} goal(s) not met.")

    def _section(self, name: str, context: Context) -> list[Result]:
        try:
            module = importlib.import_module(f"benefits.benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"benefits.benchmarks.{name}":
                raise
            return [Result(f"{name}", [], "", error="section not written yet")]
        return module.run(context)

    def _table(self, order, measured, runs: int) -> int:
        """Prints the results; returns how many goals were missed in at least one run."""
        self.stdout.write("")
        self.stdout.write(
            f"Results ({runs} run{'s' if runs > 1 else ''}: median of the runs' "
            "medians, range of the runs' medians)"
        )
        missed = 0
        current = None
        for section, what in order:
            if section != current:
                self.stdout.write(f"\n[{section}]")
                current = section
            results = measured[what]
            failed = [r for r in results if r.error]
            if failed:
                self.stdout.write(f"  {what}: not measured ({failed[0].error})")
                missed += 1
                continue
            medians = [r.median for r in results]
            first = results[0]
            value = statistics.median(medians)
            text = f"  {what}: {number(value)} {first.unit}"
            if len(medians) > 1:
                text += f" ({number(min(medians))}–{number(max(medians))})"
            if first.detail:
                text += f"; {results[-1].detail}"
            if first.goal is not None:
                met = all(r.met for r in results)
                missed += not met
                verdict = self.style.SUCCESS("met") if met else self.style.ERROR("NOT met")
                text += f"  goal ≤ {number(first.goal)} {first.unit}: {verdict}"
            self.stdout.write(text)
        self.stdout.write("")
        if missed:
            self.stdout.write(self.style.ERROR(f"{missed} goal(s) not met in every run."))
        else:
            self.stdout.write(self.style.SUCCESS("Every goal met in every run."))
        return missed
