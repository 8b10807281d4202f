"""How fast and in how much memory the registry import is.

Without --csv (issue 16): builds a synthetic Enhetsregisteret download of sub-units in the
register's JSON format (mostly industries we do not track, as in the real file), reads it
as the import does (no writes) and prints the numbers.

With --csv ROWS (issue 17: 50 000 rows, new or updates, at most 30 s and 300 MB): builds a
registry CSV of ROWS new organisations (--mode new) or of changes to ROWS existing ones
(--mode update: every name, every tenth type, every 25th municipality), imports it as a
national coordinator in a transaction that is rolled back (the database is left as it was,
history included), and prints `import: <seconds> s` and the process's peak memory. Run it
in a process of its own to measure the peak (actors.benchmarking.run_measured)."""

import gc
import gzip
import json
import resource
import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from stdnum.no import orgnr as stdnum_orgnr

from actors.choices import Role
from actors.imports import import_organisations
from actors.models import IndustryCode, Municipality, Organisation, OrganisationType, User
from actors.register_import import Limits, read_register

OTHER_CODES = ["56.101", "62.010", "41.200", "47.111", "68.209", "70.220", "43.220", "96.021"]


def synthetic_extract(units: int, *, compress: bool) -> bytes:
    tracked = list(IndustryCode.objects.values_list("code", flat=True))
    numbers = list(Municipality.objects.current().values_list("number", flat=True))
    records = []
    for i in range(units):
        code = tracked[i % len(tracked)] if i % 20 == 0 else OTHER_CODES[i % len(OTHER_CODES)]
        records.append(
            {
                "organisasjonsnummer": f"{800000000 + i}",
                "navn": f"SYNTETISK UNDERENHET {i} AS",
                "organisasjonsform": {"kode": "BEDR", "beskrivelse": "Underenhet"},
                "naeringskode1": {"kode": code, "beskrivelse": "Syntetisk næring"},
                "antallAnsatte": i % 40,
                "overordnetEnhet": "930000000",
                "oppstartsdato": "2015-03-01",
                "beliggenhetsadresse": {
                    "land": "Norge",
                    "landkode": "NO",
                    "postnummer": "5003",
                    "poststed": "BERGEN",
                    "adresse": [f"Syntetisk gate {i}", "Bakgården"],
                    "kommune": "BERGEN",
                    "kommunenummer": numbers[i % len(numbers)],
                },
                "_links": {
                    "self": {"href": f"https://data.brreg.no/enhetsregisteret/api/underenheter/{i}"}
                },
            }
        )
    raw = json.dumps(records, ensure_ascii=False, indent=1).encode()
    return gzip.compress(raw) if compress else raw


USERNAME = "benchmark-register-import"


def _single_area_numbers() -> list[str]:
    """Today's municipality numbers with one health-trust area (no helseforetak needed)."""
    return list(
        Municipality.objects.current()
        .exclude(catchments__share__lt=1)
        .order_by("number")
        .values_list("number", flat=True)
    )


def registry_csv(rows: int, mode: str) -> bytes:
    """A registry CSV of `rows` new organisations, or of changes to `rows` existing ones."""
    numbers = _single_area_numbers()
    types = list(OrganisationType.objects.order_by("code").values_list("code", flat=True))
    lines = ["organisasjonsnummer;navn;type;kommunenummer"]
    if mode == "new":
        candidate = 800_000_000
        taken = set(Organisation.objects.filter(orgnr__gte="8").values_list("orgnr", flat=True))
        for i in range(rows):
            candidate += 1
            while not stdnum_orgnr.is_valid(str(candidate)) or str(candidate) in taken:
                candidate += 1
            lines.append(
                f"{candidate};Syntetisk virksomhet {i};{types[i % len(types)]};"
                f"{numbers[i % len(numbers)]}"
            )
    else:
        existing = (
            Organisation.objects.filter(municipality__number__in=numbers, is_active=True)
            .order_by("pk")
            .values_list("orgnr", "name", "type__code", "municipality__number")[:rows]
        )
        for i, (orgnr, name, type_code, number) in enumerate(existing.iterator()):
            if i % 10 == 0:
                type_code = types[(types.index(type_code) + 1) % len(types)]
            if i % 25 == 0:
                number = numbers[(numbers.index(number) + 1) % len(numbers)]
            lines.append(f"{orgnr};{name} (endret);{type_code};{number}")
        if len(lines) - 1 < rows:
            raise CommandError(f"Only {len(lines) - 1} organisations to update.")
    return ("\n".join(lines) + "\n").encode()


class _RollBack(Exception):
    pass


class Command(BaseCommand):
    help = "Read a synthetic Enhetsregisteret extract as the import does; print time and memory."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=60000)
        parser.add_argument("--gzip", action="store_true", help="Compress the file first.")
        parser.add_argument(
            "--csv", type=int, default=0, metavar="ROWS", help="Import a registry CSV instead."
        )
        parser.add_argument("--mode", choices=("new", "update"), default="new")
        parser.add_argument("--dry-run", action="store_true", help="Check only (--csv).")

    def handle(self, *args, units: int, gzip: bool, **options):
        if options["csv"]:
            return self.registry(options["csv"], options["mode"], options["dry_run"])
        raw = synthetic_extract(units, compress=gzip)
        gc.collect()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        started = time.perf_counter()
        read = read_register(raw, Limits())
        seconds = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"file: {len(raw) / 1e6:.1f} MB{' (gzip)' if gzip else ''}, {read.units} units, "
            f"{len(read.rows)} of tracked types\n"
            f"read in {seconds:.2f} s ({read.units / seconds:,.0f} units/s)\n"
            f"peak memory while reading (tracemalloc, beyond the file itself): "
            f"{peak / 1e6:.1f} MB\n"
            f"process peak RSS: {rss_after:.0f} MB (before reading: {rss_before:.0f} MB)"
        )

    def registry(self, rows: int, mode: str, dry_run: bool) -> None:
        try:
            with transaction.atomic():
                user = User.objects.create(
                    username=USERNAME, role=Role.COORDINATOR, national_scope=True
                )
                raw = registry_csv(rows, mode)
                gc.collect()
                rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                started = time.perf_counter()
                report = import_organisations(raw=raw, user=user, dry_run=dry_run)
                seconds = time.perf_counter() - started
                rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                raise _RollBack
        except _RollBack:
            pass
        if report.errors:
            raise CommandError(f"The generated file was refused: {report.errors[:3]}")
        self.stdout.write(
            f"{rows} rows ({mode}{', dry run' if dry_run else ''}), {len(raw) / 1e6:.1f} MB: "
            f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged "
            f"(rolled back)\n"
            f"import: {seconds:.2f} s\n"
            f"process peak RSS: {rss_after:.0f} MB (before the import: {rss_before:.0f} MB)"
        )
