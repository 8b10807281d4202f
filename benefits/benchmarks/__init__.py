"""The sections of `manage.py benchmark` (`make benchmark`), one module each.

Each section module has `run(context: Context) -> list[Result]`: it measures on the
registry the command built (`--scale` times the synthetic demo registry, PostgreSQL) and
returns one `actors.benchmarking.Result` per line of the table, each with its goal from
issue 17. A section must leave the registry as it found it (work in a transaction it rolls
back, or on copies it deletes), so the three runs measure the same data.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TextIO

SECTIONS = ("coverage", "api", "pages", "areas", "reports", "imports")


@dataclass
class Context:
    today: datetime.date
    repeat: int  # timed requests per URL, after one warm-up
    stdout: TextIO  # progress lines; results are returned, not printed
    verbose: bool = False
