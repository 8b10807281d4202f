"""The data migration that turns each agreement's single document into its first version
(benefits 0006): run backwards and forwards on the test database."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from actors.append_only import create_triggers, drop_triggers

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("benefits", "0005_benefitreport_submitted_by")]
AFTER = [("benefits", "0006_agreement_documents")]
HISTORY = "benefits_agreementchange"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_documents_become_their_agreements_current_version(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = b"%PDF-1.4 the signed agreement"
    (tmp_path / "agreements").mkdir()
    (tmp_path / "agreements" / "signert.pdf").write_bytes(content)
    try:
        apps = migrate(BEFORE)
        agreements = apps.get_model("benefits", "IntentAgreement")
        changes = apps.get_model("benefits", "AgreementChange")
        uploader = apps.get_model("actors", "User").objects.create(username="opplaster")
        editor = apps.get_model("actors", "User").objects.create(username="redaktor")
        with_document = agreements.objects.create(
            title="Med dokument", document="agreements/signert.pdf"
        )
        changes.objects.create(agreement=with_document, changed_by=editor, summary="Opprettet")
        changes.objects.create(
            agreement=with_document, changed_by=uploader, summary="Endret: notes, document"
        )
        missing_file = agreements.objects.create(title="Borte", document="agreements/borte.pdf")
        without = agreements.objects.create(title="Uten dokument")

        apps = migrate(AFTER)
        versions = apps.get_model("benefits", "AgreementDocument").objects
        kept = versions.get(agreement_id=with_document.pk)
        assert kept.file.name == "agreements/signert.pdf" and kept.file_name == "signert.pdf"
        assert kept.size == len(content) and kept.superseded_at is None
        assert kept.uploaded_by_id == uploader.pk  # the change that named the document
        lost = versions.get(agreement_id=missing_file.pk)
        assert lost.size == 0 and lost.uploaded_by_id is None
        assert not versions.filter(agreement_id=without.pk).exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        # The history refuses DELETE, which the flush after this test needs.
        with connection.schema_editor() as editor:
            drop_triggers(editor, [HISTORY])
            editor.execute(f"DELETE FROM {HISTORY}")
            create_triggers(editor, [HISTORY])
