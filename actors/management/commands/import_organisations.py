from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from actors.imports import ImportFileError, import_organisations
from actors.register_import import Limits
from actors.scoping import SYSTEM_USER


class Command(BaseCommand):
    help = (
        "Import organisations from our registry CSV (organisasjonsnummer, navn, type, "
        "kommunenummer[, her_id, helseforetak, syntetisk]), an Enhetsregisteret download of "
        "sub-units (JSON, gzip or not, or CSV; types from the industry codes) or a HER-id "
        "list from Adresseregisteret (organisation number and HER-id). Every row is "
        "validated first; nothing is written if any row fails. The report lists what is "
        "created, what changes (field by field, moves flagged) and what is deactivated."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report without writing."
        )
        parser.add_argument(
            "--source",
            default="",
            help='Stored with every change, e.g. "Enhetsregisteret 2026-11-30".',
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="The file is a full extract of its municipalities: deactivate organisations "
            "of its types there that it no longer lists.",
        )
        parser.add_argument(
            "--municipalities", default="", help="Enhetsregisteret: only these numbers (4601,5501)."
        )
        parser.add_argument(
            "--types", default="", help="Enhetsregisteret: only these type codes (apotek,sykehjem)."
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        split = lambda text: [p.strip() for p in text.split(",") if p.strip()]  # noqa: E731
        limits = Limits(split(options["municipalities"]), split(options["types"]))
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            report = import_organisations(
                raw=file.read_bytes(),
                user=SYSTEM_USER,
                dry_run=dry_run,
                source=options["source"],
                full=options["full"],
                limits=limits,
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        read_as = report.format or f"{report.encoding}, separator {report.delimiter!r}"
        self.stdout.write(f"Read {report.rows} rows ({read_as}).")
        for key, value in report.skipped().items():
            if value:
                self.stdout.write(f"  skipped, {key.replace('_', ' ')}: {value}")
        if report.errors:
            lines = [f"  line {e.line}, {e.column}: {e.message}" for e in report.errors]
            raise CommandError(
                f"{len(report.errors)} error(s); nothing was written:\n" + "\n".join(lines)
            )
        for row in report.changes:
            move = " (MOVE)" if row.moved else ""
            self.stdout.write(f"  line {row.line}, {row.orgnr} {row.name}{move}:")
            for change in row.changes:
                self.stdout.write(
                    f"    {change.field}: {change.old_value!r} -> {change.new_value!r}"
                )
        for row in report.deactivated:
            self.stdout.write(f"  deactivate {row.orgnr} {row.name}: {row.reason}")
        summary = (
            f"{report.created} created, {report.updated} updated ({report.moved} moved), "
            f"{len(report.deactivated)} deactivated, {report.unchanged} unchanged"
        )
        if report.not_found:
            summary += f", {report.not_found} not in the registry"
        if dry_run:
            self.stdout.write(f"Check passed (dry run, nothing written): would be {summary}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {summary}."))
