"""Readiness items that follow from a status the application knows (issue 18): the item
says whose status answers it; an answer records the status it followed from."""

import django.db.models.deletion
from django.db import migrations, models

# item text -> the solution whose status answers it (migration 0003's checklists)
FOLLOWS_FROM = {
    "Kjernejournal er i bruk hos virksomheten": "kjernejournal",
    "SFM er etablert hos virksomheten": "sfm",
}

STATUS_CHOICES = [
    ("ikke_startet", "Not started"),
    ("planlegging", "Planning"),
    ("teknisk_klar", "Technically ready"),
    ("i_utproving", "In trial"),
    ("i_bruk", "In use"),
    ("blokkert", "Blocked"),
    ("ikke_relevant", "Not relevant"),
    ("stanset", "Stopped"),
]


def link(apps, schema_editor):
    Prerequisite = apps.get_model("rollout", "Prerequisite")
    Solution = apps.get_model("rollout", "Solution")
    for text, code in FOLLOWS_FROM.items():
        solution = Solution.objects.filter(code=code).first()
        if solution is not None:
            Prerequisite.objects.filter(text=text, scope="organisation").update(
                follows_from=solution
            )


class Migration(migrations.Migration):
    dependencies = [("rollout", "0010_verbose_names")]

    operations = [
        migrations.AddField(
            model_name="prerequisite",
            name="follows_from",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "For items about the organisation: the solution whose status answers the "
                    "item. In use there: ready; the solution does not apply to the "
                    "organisation's type: not relevant; otherwise the municipality is asked."
                ),
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="rollout.solution",
                verbose_name="answered from the status of",
            ),
        ),
        migrations.AddField(
            model_name="readinessanswer",
            name="from_status",
            field=models.CharField(
                blank=True,
                choices=STATUS_CHOICES,
                help_text=(
                    "The organisation's status the answer follows from; the item is not asked."
                ),
                max_length=20,
                verbose_name="answered from status",
            ),
        ),
        migrations.RunPython(link, migrations.RunPython.noop),
    ]
