"""The change log is append-only (triggers as for the status history); the programme's
decision-point schedule and its known external dependencies (DOMAIN.md, the seeds)."""

import datetime

from django.db import migrations

from actors.append_only import create_triggers, drop_triggers

TABLES = ["rollout_changelogentry"]
DEPENDENCIES = [
    # name, provider, status, expected, solutions, description
    ("Tillitsmodell fra steg 1", "Steg 1", "pagar", datetime.date(2027, 3, 31),
     ["dokumentdeling", "kritisk-informasjon"],
     "Dokumentdeling og kritisk informasjon forutsetter tillitsmodellen fra steg 1."),
    ("Standard for kritisk informasjon", "Direktoratet", "pagar", datetime.date(2027, 6, 30),
     ["kritisk-informasjon"],
     "Standarden for kritisk informasjon skal være normert minst som anbefalt standard."),
    ("SFM i kommunal pleie og omsorg", "Norsk helsenett og leverandørene", "pagar",
     datetime.date(2027, 12, 31), ["pll"],
     "SFM er etablert hos aktørene før PLL kan tas i bruk."),
]  # fmt: skip


def seed(apps, schema_editor):
    GovernanceSchedule = apps.get_model("rollout", "GovernanceSchedule")
    Dependency = apps.get_model("rollout", "Dependency")
    Solution = apps.get_model("rollout", "Solution")
    GovernanceSchedule.objects.get_or_create(
        programme="Helhetlig samhandling – steg 2",
        defaults={"cadence": "kvartalsvis", "first_date": datetime.date(2025, 3, 31)},
    )
    for name, provider, status, expected, codes, description in DEPENDENCIES:
        dependency, _created = Dependency.objects.get_or_create(
            name=name,
            defaults={
                "provider": provider,
                "status": status,
                "expected_date": expected,
                "description": description,
            },
        )
        dependency.solutions.set(Solution.objects.filter(code__in=codes))


class Migration(migrations.Migration):
    dependencies = [("rollout", "0004_governance")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: create_triggers(editor, TABLES),
            lambda apps, editor: drop_triggers(editor, TABLES),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
