from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from actors.imports import ImportFileError, import_organisations
from actors.scoping import SYSTEM_USER


class Command(BaseCommand):
    help = (
        "Import organisations from a CSV export of Enhetsregisteret/Adresseregisteret. "
        "Columns: organisasjonsnummer, navn, type, kommunenummer[, her_id, helseforetak, "
        "syntetisk]. Every row is validated first; nothing is written if any row fails. "
        "Each updated organisation is listed with the fields that change, moves flagged."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report without writing."
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            report = import_organisations(raw=file.read_bytes(), user=SYSTEM_USER, dry_run=dry_run)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Read {report.rows} rows ({report.encoding}, separator {report.delimiter!r})."
        )
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
        summary = (
            f"{report.created} created, {report.updated} updated ({report.moved} moved), "
            f"{report.unchanged} unchanged"
        )
        if dry_run:
            self.stdout.write(f"Check passed (dry run, nothing written): would be {summary}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {summary}."))
