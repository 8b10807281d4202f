from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from actors.choices import Role
from actors.models import HealthTrust, Municipality, User

# username, first name, last name, role, national, health trusts, municipalities
DEMO_USERS = [
    ("koordinator", "Kari", "Koordinator", Role.COORDINATOR, True, [], []),
    (
        "koordinator-vest",
        "Vegard",
        "Vest",
        Role.COORDINATOR,
        False,
        ["helse-bergen", "helse-stavanger", "helse-fonna", "helse-forde"],
        [],
    ),
    ("kommunekontakt", "Kristin", "Kommune", Role.MUNICIPALITY_CONTACT, False, [], ["4601"]),
    ("direktorat", "Dag", "Direktorat", Role.DIRECTORATE, False, [], []),
    ("admin", "Ada", "Admin", Role.ADMIN, False, [], []),
]


def demo_password(username: str) -> str:
    return f"demo-{username}-2026"


class Command(BaseCommand):
    help = (
        "Create (or reset) one demo user per role and print their logins. For local "
        "demonstrations only: the passwords are printed and predictable."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        if not Municipality.objects.filter(number="4601").exists():
            raise CommandError("Load the reference data first: manage.py load_reference_data")
        self.stdout.write("Demo logins (local demonstration only):")
        for username, first, last, role, national, trusts, municipalities in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name, user.role = first, last, role
            user.email = f"{username}@demo.invalid"
            user.national_scope = national
            user.is_staff = user.is_superuser = role == Role.ADMIN
            user.set_password(demo_password(username))
            user.save()
            user.health_trusts.set(HealthTrust.objects.filter(code__in=trusts))
            user.municipalities.set(Municipality.objects.filter(number__in=municipalities))
            self.stdout.write(
                f"  {role.label:<28} user: {username:<18} password: {demo_password(username)}"
            )
