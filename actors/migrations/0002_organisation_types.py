from django.db import migrations

# code, Norwegian name, other names accepted in imports
TYPES = [
    ("fastlegekontor", "Fastlegekontor", "legekontor,fastlege"),
    ("sykehjem", "Sykehjem", ""),
    ("hjemmetjeneste", "Hjemmetjeneste", "hjemmesykepleie,hjemmebaserte tjenester"),
    ("legevakt", "Legevakt", "interkommunal legevakt"),
    ("ohd", "ØHD/KAD", "øhd,kad,øyeblikkelig hjelp døgn,kommunale akutte døgnplasser"),
    ("apotek", "Apotek", ""),
    ("avtalespesialist", "Avtalespesialist", "spesialist"),
    ("sykehus", "Sykehus", "helseforetak"),
    ("kommune", "Kommunal helse- og omsorgstjeneste", "kommunen,helse- og omsorgstjenesten"),
]


def load(apps, schema_editor):
    OrganisationType = apps.get_model("actors", "OrganisationType")
    for order, (code, name, aliases) in enumerate(TYPES, start=1):
        OrganisationType.objects.update_or_create(
            code=code, defaults={"name": name, "aliases": aliases, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("actors", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
