"""How fast and in how much memory an Enhetsregisteret extract is read (issue 16: a 40 MB
file read as a stream, peak memory under 300 MB). Builds a synthetic download of sub-units
in the register's JSON format (mostly industries we do not track, as in the real file),
reads it as the import does (no writes) and prints the numbers."""

import gc
import gzip
import json
import resource
import time
import tracemalloc

from django.core.management.base import BaseCommand

from actors.models import IndustryCode, Municipality
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


class Command(BaseCommand):
    help = "Read a synthetic Enhetsregisteret extract as the import does; print time and memory."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=60000)
        parser.add_argument("--gzip", action="store_true", help="Compress the file first.")

    def handle(self, *args, units: int, gzip: bool, **options):
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
