from django.core.management.base import BaseCommand, CommandError

from actors.reference import ReferenceDataError, read_reference
from actors.services import reference_data_load


class Command(BaseCommand):
    help = (
        "Load Norway's reference structure (regional health authorities, health trusts, "
        "counties, municipalities, catchment areas) from the copy shipped in actors/data. "
        "Idempotent; refuses data that breaks an invariant."
    )

    def handle(self, *args, **options):
        try:
            data = read_reference()
        except ReferenceDataError as exc:
            raise CommandError(
                "Reference data refused, nothing written:\n  - " + "\n  - ".join(exc.problems)
            ) from exc
        result = reference_data_load(data=data)
        if result.changed:
            self.stdout.write(self.style.SUCCESS(f"Reference data loaded: {result.summary()}"))
        else:
            self.stdout.write("Reference data already up to date: nothing changed.")
