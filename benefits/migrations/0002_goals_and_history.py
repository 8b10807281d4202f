"""The five benefit goals (delmål) of steg 2, and the append-only agreement history."""

from django.db import migrations

from actors.append_only import create_triggers, drop_triggers

# Quoted from the steg 2 planning document ("De 5 delmålene er: ...").
GOALS = [
    ("frigjort-tid", "Frigjort tid for personell som jobber i helse- og omsorgstjenesten"),
    ("faerre-uonskede-hendelser", "Færre uønskede hendelser i helse- og omsorgstjenesten"),
    (
        "innbyggeropplevelse",
        "Bedre innbyggeropplevelse og økt tillit til helse- og omsorgstjenesten",
    ),
    (
        "styringsinformasjon",
        "Bedre styringsinformasjon og grunnlag for erfaringsdeling og kvalitetsforbedring i "
        "helse- og omsorgstjeneste gjennom tilretteleggelse i markedet",
    ),
    ("ikt-sikkerhet", "Bedre IKT-sikkerhet og enklere ivaretakelse av personvern"),
]
TABLES = ["benefits_agreementchange"]


def load(apps, schema_editor):
    BenefitGoal = apps.get_model("benefits", "BenefitGoal")
    for order, (code, name) in enumerate(GOALS, start=1):
        BenefitGoal.objects.update_or_create(code=code, defaults={"name": name, "sort_order": order})
    create_triggers(schema_editor, TABLES)


def unload(apps, schema_editor):
    drop_triggers(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("benefits", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
