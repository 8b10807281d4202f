"""The municipal structure of a past day in a real browser: the municipality list on
30.06.2023 (356 municipalities, 11 counties) and Halden's page naming its number of then.
Screenshots land in the artifacts folder (see conftest.py)."""

import pytest
from django.core.management import call_command

from actors.models import Municipality
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def coordinator(db):
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    return UserFactory(username="nasjonal", role="coordinator", national_scope=True)


def test_the_list_of_a_past_day_and_a_renumbered_municipality(coordinator, journey):
    page = journey.page
    journey.login("nasjonal")
    journey.goto("/kommuner/")
    page.fill("input[name=dato]", "2023-06-30")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "dato=2023-06-30" in url)
    heading = page.locator("p.structure").inner_text()
    assert "30.06.2023" in heading and "356" in heading and "11" in heading
    assert page.locator("select[name=county] option[value]:not([value=''])").count() == 11
    journey.shot("structure-2023-06-30")
    page.click("text=Halden")  # the row of 3001 leads to today's page
    page.wait_for_url(lambda url: url.endswith("/kommuner/3101/"))
    assert "3001 Halden" in page.locator(".municipality-history").inner_text()
    journey.shot("municipality-3101-halden")
