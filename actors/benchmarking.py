"""What every benchmark command measures with, and how it reports against a goal.

A benchmark section returns `Result`s: one line of `make benchmark`'s table, with the samples
it took, its unit and its goal (an upper bound). Pages and endpoints are timed through
Django's test client in the benchmark's own process (server time: URL resolution,
middleware, view, template, serializer and SQL; no network, no gunicorn), the same way for
every line so the lines compare. Numbers, not timed tests: see the README's Benchmark
section.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from actors.models import User


@dataclass
class Result:
    """One measured line: `samples` in `unit`, met when the median is at most `goal`."""

    what: str
    samples: list[float]
    unit: str
    goal: float | None = None
    detail: str = ""  # e.g. "11 queries, 84 KB"
    error: str = ""  # why the line could not be measured

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def met(self) -> bool | None:
        if self.error:
            return False
        if self.goal is None:
            return None
        return self.median <= self.goal

    def line(self) -> str:
        if self.error:
            return f"{self.what}: not measured ({self.error})"
        text = f"{self.what}: {number(self.median)} {self.unit}"
        if len(self.samples) > 1:
            text += f" (median of {len(self.samples)}, {number(min(self.samples))}–"
            text += f"{number(max(self.samples))})"
        if self.detail:
            text += f", {self.detail}"
        if self.goal is not None:
            text += f"  [goal ≤ {number(self.goal)} {self.unit}: "
            text += "met]" if self.met else "NOT met]"
        return text


def number(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


@contextmanager
def client_for(user) -> Iterator[Client]:
    """A test client signed in as `user`, with the test server's host allowed."""
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        client = Client()
        client.force_login(user)
        yield client


def time_get(
    client: Client,
    url: str,
    *,
    what: str | None = None,
    goal_ms: float | None = None,
    repeat: int = 10,
    max_kb: float | None = None,
) -> list[Result]:
    """Median server time of `repeat` GETs of `url` after one warm-up, with the query count
    and the size of the answer; a second line for the size when `max_kb` is given."""
    what = what or f"GET {url}"
    times, queries, sizes = [], [], []
    try:
        for i in range(repeat + 1):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                body = b"".join(response) if response.streaming else response.content
                elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                return [Result(what, [], "ms", goal_ms, error=f"HTTP {response.status_code}")]
            if i:
                times.append(elapsed)
                queries.append(len(captured))
                sizes.append(len(body) / 1024)
    except Exception as exc:  # report a broken page, finish the benchmark
        return [Result(what, [], "ms", goal_ms, error=f"{type(exc).__name__}: {exc}")]
    low, high = min(queries), max(queries)
    count = str(low) if low == high else f"{low}–{high}"
    results = [Result(what, times, "ms", goal_ms, detail=f"{count} queries, {sizes[0]:.0f} KB")]
    if max_kb is not None:
        results.append(Result(f"{what} (size)", [sizes[0]], "KB", max_kb))
    return results


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    returncode: int
    output: str


def run_measured(command: list[str]) -> Measured:
    """Run `command` (e.g. a manage.py command) in its own process: its wall time and its
    peak resident memory (the kernel's maxrss of that process), with its output."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    return Measured(seconds, usage.ru_maxrss / 1024, process.returncode, output)


def benchmark_user(role: str, username: str | None = None, **fields) -> User:
    """A user of `role` for the benchmark to sign in as, without a password (it cannot sign
    in any other way); created or brought back to `role` and `fields`."""
    username = username or f"benchmark-{role}"
    user, _created = User.objects.get_or_create(username=username, defaults={"role": role})
    changed = user.role != role or user.has_usable_password()
    changed |= any(getattr(user, name) != value for name, value in fields.items())
    if changed:
        user.role = role
        for name, value in fields.items():
            setattr(user, name, value)
        user.set_unusable_password()
        user.save()
    return user
