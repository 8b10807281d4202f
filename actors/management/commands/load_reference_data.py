from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from actors.reference import ReferenceDataError, check_invariants, differences, read_reference
from actors.selectors import reference_data_stored
from actors.services import reference_data_load
from actors.structure_changes import with_applied_changes


class Command(BaseCommand):
    help = (
        "Load Norway's reference structure in every period since 2020 (regional health "
        "authorities, health trusts, counties, municipalities with their numbers, names and "
        "population per year, catchment areas) from the copy shipped in actors/data. "
        "Idempotent; refuses data that breaks an invariant. With --check, write nothing: "
        "verify that the database holds the shipped structure and meets its invariants "
        "(e.g. after restoring a backup). Structure changes applied as an operation "
        "(manage.py structure_changes) are kept: they are replayed on the shipped structure."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; fail if the database breaks an invariant or differs "
            "from the shipped reference data.",
        )

    def handle(self, *args, check=False, **options):
        try:
            data = read_reference()
        except ReferenceDataError as exc:
            raise CommandError(
                "Reference data refused, nothing written:\n  - " + "\n  - ".join(exc.problems)
            ) from exc
        if check:
            return self.verify(data)
        for change in with_applied_changes(data):
            self.stdout.write(f"Keeping the structure change {change}.")
        result = reference_data_load(data=data)
        if result.changed:
            self.stdout.write(self.style.SUCCESS(f"Reference data loaded: {result.summary()}"))
        else:
            self.stdout.write("Reference data already up to date: nothing changed.")

    def verify(self, shipped) -> None:
        stored = reference_data_stored()
        with_applied_changes(shipped, stored)
        problems = check_invariants(stored) + differences(shipped, stored)
        if problems:
            raise CommandError(
                "The database's reference structure is not as shipped:\n  - "
                + "\n  - ".join(problems)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Reference data checked: {len(stored.on(timezone.localdate()))} municipalities "
                f"today ({len(stored.municipalities)} since 2020), "
                f"{len(stored.health_trusts)} health trusts, invariants hold for every period."
            )
        )
