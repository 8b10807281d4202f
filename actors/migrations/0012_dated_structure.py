"""A dated municipal structure (issue 15): counties and municipalities exist for a period,
each municipality has its versions (number, name, county) and population per year, and
catchment areas are shares. Existing municipalities get their one version so far (the
structure loaded until now, valid from 2020) and their population of 2023; `manage.py
load_reference_data` then brings the structure forward to today."""

import datetime
from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models


def first_versions(apps, schema_editor):
    Municipality = apps.get_model("actors", "Municipality")
    Version = apps.get_model("actors", "MunicipalityVersion")
    Population = apps.get_model("actors", "MunicipalityPopulation")
    Catchment = apps.get_model("actors", "Catchment")
    start = datetime.date(2020, 1, 1)
    for m in Municipality.objects.all():
        Version.objects.create(
            municipality=m, valid_from=start, number=m.number, name=m.name, county_id=m.county_id
        )
        Population.objects.create(
            municipality=m,
            year=m.population_year,
            population=m.population,
            population_67_plus=m.population_67_plus,
        )
    for c in Catchment.objects.select_related("municipality"):
        total = c.municipality.population
        c.share = (Decimal(c.population) / total).quantize(Decimal("0.000001")) if total else 1
        c.save(update_fields=["share"])


class Migration(migrations.Migration):
    dependencies = [
        ("actors", "0011_append_only_everywhere"),
    ]

    operations = [
        migrations.AddField(
            model_name="catchment",
            name="share",
            field=models.DecimalField(
                decimal_places=6, default=1, max_digits=7, verbose_name="share"
            ),
        ),
        migrations.AddField(
            model_name="county",
            name="valid_from",
            field=models.DateField(default=datetime.date(2020, 1, 1), verbose_name="valid from"),
        ),
        migrations.AddField(
            model_name="county",
            name="valid_to",
            field=models.DateField(
                blank=True,
                help_text="Empty while the county exists.",
                null=True,
                verbose_name="valid to",
            ),
        ),
        migrations.AddField(
            model_name="municipality",
            name="population_year",
            field=models.PositiveSmallIntegerField(default=2023, verbose_name="population year"),
        ),
        migrations.AddField(
            model_name="municipality",
            name="predecessors",
            field=models.ManyToManyField(
                blank=True,
                related_name="successors",
                to="actors.municipality",
                verbose_name="split from or merged from",
            ),
        ),
        migrations.AddField(
            model_name="municipality",
            name="valid_from",
            field=models.DateField(default=datetime.date(2020, 1, 1), verbose_name="valid from"),
        ),
        migrations.AddField(
            model_name="municipality",
            name="valid_to",
            field=models.DateField(
                blank=True,
                help_text="Empty while the municipality exists.",
                null=True,
                verbose_name="valid to",
            ),
        ),
        migrations.CreateModel(
            name="MunicipalityPopulation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                ("population", models.PositiveIntegerField(verbose_name="population")),
                (
                    "population_67_plus",
                    models.PositiveIntegerField(verbose_name="population aged 67 and over"),
                ),
                (
                    "municipality",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="populations",
                        to="actors.municipality",
                    ),
                ),
            ],
            options={
                "verbose_name": "population",
                "verbose_name_plural": "population",
                "ordering": ["municipality", "year"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("municipality", "year"), name="municipality_population_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="MunicipalityVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("valid_from", models.DateField(verbose_name="valid from")),
                ("valid_to", models.DateField(blank=True, null=True, verbose_name="valid to")),
                (
                    "number",
                    models.CharField(
                        db_index=True, max_length=4, verbose_name="municipality number"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "county",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="actors.county",
                        verbose_name="county",
                    ),
                ),
                (
                    "municipality",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="versions",
                        to="actors.municipality",
                    ),
                ),
            ],
            options={
                "verbose_name": "municipality version",
                "verbose_name_plural": "municipality versions",
                "ordering": ["municipality", "valid_from"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("municipality", "valid_from"), name="municipality_version_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(first_versions, migrations.RunPython.noop),
    ]
