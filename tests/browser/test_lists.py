"""Long lists in a real browser (issue 18, point 7): a click on a column header sorts the
organisation list and marks the header, the rows-per-page choice is kept, and the
download link hands over every matching row as CSV. Screenshots land in the artifacts
folder (see conftest.py)."""

import pytest
from django.core.management import call_command

from actors.models import Municipality, OrganisationType
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def contact(db):
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    gp = OrganisationType.objects.get(code="fastlegekontor")
    for i in range(30):
        OrganisationFactory(municipality__number="4601", type=gp, name=f"Liste lege {i:02}")
    OrganisationFactory(municipality__number="5501", type=gp, name="Tromsø liste lege")
    return UserFactory(
        username="listekontakt", role="municipality_contact", municipalities=["4601"]
    )


def test_sort_by_a_column_choose_the_page_size_and_download(contact, journey):
    page = journey.page
    journey.login("listekontakt")
    journey.goto("/virksomheter/?q=liste")
    first = page.locator("table.list tbody tr td:first-child a").first
    assert first.inner_text() == "Liste lege 00"
    header = page.locator("table.list th", has_text="Navn")
    assert header.get_attribute("aria-sort") == "ascending"

    header.locator("a").click()  # sorts the other way round
    page.wait_for_url(lambda url: "ordering=-name" in url)
    assert first.inner_text() == "Liste lege 29"
    assert page.locator("table.list th", has_text="Navn").get_attribute("aria-sort") == (
        "descending"
    )
    page.locator(".page-size a", has_text="25").click()
    page.wait_for_url(lambda url: "page_size=25" in url and "ordering=-name" in url)
    assert page.locator("table.list tbody tr").count() == 25
    assert page.locator(".pagination").inner_text().count("2") >= 1
    journey.shot("lists-organisations-sorted-by-name-descending")

    with page.expect_download() as download:
        page.locator(".export-links a", has_text="CSV").click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    lines = [line for line in text.split("\r\n") if line]
    assert len(lines) == 1 + 30  # every matching row, not the page; none from Tromsø
    assert lines[1].startswith('"Liste lege 29"')
    assert "Tromsø" not in text
    assert download.value.suggested_filename.startswith("virksomheter-")
