"""Issue 15, point 6 in a real browser: an administrator uploads a change list and sees the
dry run (what moves, which part each contact follows) before anything is written."""

import pytest
from django.core.management import call_command

from actors.models import Municipality, StructureChange
from tests.factories import OrganisationFactory, UserFactory
from tests.test_structure_changes import CHANGES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def admin_and_data(db):
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    aalesund = Municipality.objects.get(number="1508")
    OrganisationFactory(municipality=aalesund, name="Ålesund legesenter")
    OrganisationFactory(municipality__number="1811", name="Bindal legekontor")
    UserFactory(
        username="kari", role="municipality_contact", municipalities=["1508"], first_name="Kari"
    )
    return UserFactory(username="admin", role="admin", is_staff=True)


def test_admin_sees_the_dry_run_of_a_structure_change(admin_and_data, journey, tmp_path):
    page = journey.page
    journey.login("admin")
    journey.goto("/struktur/endringer/")
    path = tmp_path / "endringer-2028.csv"
    path.write_text(CHANGES, encoding="utf-8")
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=effective]", "2028-01-01")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=1599 Nyby")
    assert page.locator("select[name^=contact_] option:checked").inner_text() == "1508 Ålesund"
    assert "Bindal legekontor" in page.content()
    journey.shot("structure-change-dry-run")
    assert not StructureChange.objects.exists()
