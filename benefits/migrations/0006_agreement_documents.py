"""Versions of an agreement's signed document: every existing document becomes the
current version of its agreement (with who uploaded it and when, as far as the agreement's
change history tells), then the single document field goes. A replaced document is kept
as an earlier version from now on."""

import os

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def documents_to_versions(apps, schema_editor):
    IntentAgreement = apps.get_model("benefits", "IntentAgreement")
    AgreementDocument = apps.get_model("benefits", "AgreementDocument")
    AgreementChange = apps.get_model("benefits", "AgreementChange")
    for agreement in IntentAgreement.objects.exclude(document="").iterator():
        changes = AgreementChange.objects.filter(agreement=agreement).order_by("-changed_at", "-id")
        # The last change naming the document uploaded it; otherwise the creation did.
        upload = changes.filter(summary__contains="document").first() or changes.last()
        try:
            size = agreement.document.size
        except OSError:  # the file is missing on disk: keep the reference, size unknown
            size = 0
        AgreementDocument.objects.create(
            agreement=agreement,
            file=agreement.document.name,
            file_name=os.path.basename(agreement.document.name)[:200],
            size=size,
            uploaded_by_id=upload.changed_by_id if upload else None,
            uploaded_at=upload.changed_at if upload else agreement.updated_at,
        )


def versions_to_documents(apps, schema_editor):
    IntentAgreement = apps.get_model("benefits", "IntentAgreement")
    AgreementDocument = apps.get_model("benefits", "AgreementDocument")
    for version in AgreementDocument.objects.filter(superseded_at__isnull=True):
        IntentAgreement.objects.filter(pk=version.agreement_id).update(document=version.file.name)


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0005_benefitreport_submitted_by"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AgreementDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("file", models.FileField(upload_to="agreements/", verbose_name="file")),
                ("file_name", models.CharField(max_length=200, verbose_name="file name")),
                ("size", models.PositiveBigIntegerField(verbose_name="size (bytes)")),
                ("uploaded_at", models.DateTimeField(verbose_name="uploaded")),
                (
                    "superseded_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Empty for the current version.",
                        null=True,
                        verbose_name="superseded",
                    ),
                ),
                (
                    "agreement",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="documents",
                        to="benefits.intentagreement",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="uploaded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "agreement document",
                "verbose_name_plural": "agreement documents",
                "ordering": ["-uploaded_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("superseded_at__isnull", True)),
                        fields=("agreement",),
                        name="one_current_agreement_document",
                    )
                ],
            },
        ),
        migrations.RunPython(documents_to_versions, versions_to_documents),
        migrations.RemoveField(
            model_name="intentagreement",
            name="document",
        ),
    ]
