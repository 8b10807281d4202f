import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from actors import structure_changes
from actors.models import User
from actors.scoping import SYSTEM_USER


class Command(BaseCommand):
    help = (
        "Load a future change to the municipal structure: a change list with the columns of "
        "actors/data/endringer-2024.csv (old_kommunenummer, old_navn, new_kommunenummer, "
        "new_navn, change; andel for the parts of a split; optionally change_occurred). "
        "Checks everything and prints what would move (dry run); --apply writes it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--effective",
            type=datetime.date.fromisoformat,
            help="The day the change takes effect (YYYY-MM-DD); else the change_occurred column.",
        )
        parser.add_argument("--apply", action="store_true", help="Write the change.")
        parser.add_argument("--user", help="The administrator applying it (default: system).")
        parser.add_argument(
            "--contact",
            action="append",
            default=[],
            metavar="USERNAME=NUMBER",
            help="In a split, the part a municipality contact follows (a number, or 'all'); "
            "default: the part that keeps the name.",
        )

    def handle(self, *args, file, effective, apply, user, contact, **options):
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        plan = structure_changes.read_plan(raw, effective=effective, file_name=file.name)
        if not plan.ok:
            raise CommandError(
                "Change list refused, nothing written:\n"
                + "\n".join(
                    f"  - line {e.line}: {e.message}" if e.line else f"  - {e.message}"
                    for e in plan.errors
                )
            )
        self.stdout.write("\n".join(plan.lines()))
        if not apply:
            self.stdout.write("Dry run: nothing written (add --apply to write it).")
            return
        actor = SYSTEM_USER
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None or not structure_changes.can_change_structure(actor):
                raise CommandError(f"{user} is not an administrator.")
        choices = {}
        for item in contact:
            username, _sep, number = item.partition("=")
            found = User.objects.filter(username=username).first()
            if found is None:
                raise CommandError(f"Unknown user {username}.")
            choices[found.pk] = number
        record = structure_changes.apply(plan, user=actor, choices=choices)
        self.stdout.write(self.style.SUCCESS(f"Applied: structure change #{record.pk}."))
