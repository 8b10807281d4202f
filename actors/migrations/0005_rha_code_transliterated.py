"""Regional health authority codes keep their Norwegian letters as ASCII ("helse-sor-ost",
not "helse-sr-st"); they show in URLs and API filters."""

from django.db import migrations

RENAMED = {"helse-sr-st": "helse-sor-ost"}


def rename(apps, schema_editor):
    RegionalHealthAuthority = apps.get_model("actors", "RegionalHealthAuthority")
    for old, new in RENAMED.items():
        RegionalHealthAuthority.objects.filter(code=old).update(code=new)


def back(apps, schema_editor):
    RegionalHealthAuthority = apps.get_model("actors", "RegionalHealthAuthority")
    for old, new in RENAMED.items():
        RegionalHealthAuthority.objects.filter(code=new).update(code=old)


class Migration(migrations.Migration):
    dependencies = [("actors", "0004_job")]

    operations = [migrations.RunPython(rename, back)]
