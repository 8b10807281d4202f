"""The rollout matrix's counts come from the cache (rollout.selectors.matrix_counts) and
must never be stale: every change of statuses or organisations shows at once."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from actors.services import coverage_changed
from rollout import selectors, services
from rollout.choices import Status
from rollout.models import RolloutStatus, Solution
from tests.conftest import client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run the on-commit work of what the block does, as a real commit would."""

    def block():
        settle()
        return django_capture_on_commit_callbacks(execute=True)

    return block


def settle():
    """Commit, as far as the matrix goes, what the fixtures wrote: a test's transaction never
    commits, so their pending cache-version replacement would carry the test's changes."""
    for _sids, func, _robust in connection.run_on_commit:
        if isinstance(func, selectors.MatrixBump) and not func.done:
            func()


def _cell(client, solution="kjernejournal", type_code="fastlegekontor"):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("rollout:matrix"))
    row = next(r for r in response.context["rows"] if r.solution.code == solution)
    cell = next(c for c in row.cells if c and c.type.code == type_code)
    grouped = 'COUNT("rollout_rolloutstatus"."id")'
    counted = any(grouped in q["sql"] for q in queries.captured_queries)
    return cell, counted


def _change(user, organisation, status):
    services.status_change(
        user=user,
        organisation=organisation,
        solution=Solution.objects.get(code="kjernejournal"),
        to_status=status,
    )


def test_a_status_change_shows_at_once_and_unchanged_data_is_not_counted_again(
    directorate, contact, org_bergen, committing
):
    client = client_for(directorate)
    before, counted = _cell(client)
    assert counted
    again, counted = _cell(client)
    assert not counted  # from the cache
    assert again.counts == before.counts
    with committing():
        _change(contact, org_bergen, Status.PLANNING)
    after, counted = _cell(client)
    assert counted
    assert after.counts["planlegging"] == before.counts.get("planlegging", 0) + 1
    assert after.counts["ikke_startet"] == before.counts["ikke_startet"] - 1


def test_a_bulk_write_without_model_signals_shows_at_once(
    directorate, contact, org_bergen, committing
):
    """Imports write with COPY and UPDATE (no save()), then send the coverage signal."""
    with committing():
        _change(contact, org_bergen, Status.PLANNING)
    client = client_for(directorate)
    before, _ = _cell(client)
    with committing():
        RolloutStatus.objects.filter(organisation=org_bergen).update(status=Status.IN_USE)
        coverage_changed()
    after, counted = _cell(client)
    assert counted
    assert after.counts["i_bruk"] == before.counts.get("i_bruk", 0) + 1
    assert after.counts.get("planlegging", 0) == before.counts["planlegging"] - 1


def test_an_organisation_change_shows_at_once(directorate, org_bergen, committing):
    settle()
    client = client_for(directorate)
    before, _ = _cell(client)
    org_bergen.is_active = False
    with committing():
        org_bergen.save()
    after, _ = _cell(client)
    assert after.total == before.total - 1
    with committing():
        OrganisationFactory(municipality__number="4601")
        OrganisationFactory(municipality__number="4601")
    assert _cell(client)[0].total == before.total + 1


def test_the_version_is_replaced_once_when_the_changes_commit(
    contact, org_bergen, org_tromso, django_capture_on_commit_callbacks
):
    """Not before the commit (a rolled-back change leaves the counts as they were), and
    once for a transaction however many rows it changed."""
    settle()
    version = selectors._matrix_version()
    with django_capture_on_commit_callbacks() as callbacks:
        _change(contact, org_bergen, Status.PLANNING)
        org_tromso.save()
        coverage_changed()
        assert selectors._matrix_version() == version
    replacements = [c for c in callbacks if isinstance(c, selectors.MatrixBump)]
    assert len(replacements) == 1
    replacements[0]()
    assert selectors._matrix_version() != version


def test_changes_are_saved_and_the_matrix_counted_when_the_cache_is_down(
    directorate, contact, org_bergen, committing
):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        }
    }
    with override_settings(CACHES=unreachable):
        with committing():
            _change(contact, org_bergen, Status.PLANNING)
        cell, counted = _cell(client_for(directorate))
    assert counted
    assert cell.counts["planlegging"] == 1
    assert (
        RolloutStatus.objects.get(organisation=org_bergen, solution__code="kjernejournal").status
        == Status.PLANNING
    )


def test_each_scope_has_its_own_counts(directorate, contact, org_bergen, org_tromso):
    _change(contact, org_bergen, Status.PLANNING)
    everyone, _ = _cell(client_for(directorate))
    own, _ = _cell(client_for(contact))
    assert own.total < everyone.total
    assert own.counts["planlegging"] == 1
    assert _cell(client_for(directorate))[0].total == everyone.total


def test_a_lost_version_key_counts_again(directorate, contact, org_bergen):
    client = client_for(directorate)
    _cell(client)
    cache.delete(selectors.MATRIX_VERSION_KEY)
    assert _cell(client)[1]


def _status_list(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("rollout:status_list"), params)
    counted = any('COUNT(*) AS "__count"' in q["sql"] for q in queries.captured_queries)
    return response, counted


def test_the_status_list_counts_its_rows_once_per_version_scope_and_filter(
    directorate, contact, org_bergen, org_tromso, committing
):
    national, local = client_for(directorate), client_for(contact)
    everyone, counted = _status_list(national, solution="kjernejournal")
    assert counted and everyone.context["page"].paginator.count >= 2
    again, counted = _status_list(national, solution="kjernejournal")
    assert not counted and again.context["page"].paginator.count == (
        everyone.context["page"].paginator.count
    )
    # another scope and another filter have counts of their own
    bergen, counted = _status_list(local, solution="kjernejournal")
    assert counted and bergen.context["page"].paginator.count == 1
    planning, counted = _status_list(national, solution="kjernejournal", status="planlegging")
    assert counted and planning.context["page"].paginator.count == 0
    with committing():
        _change(contact, org_bergen, Status.PLANNING)
    planning, counted = _status_list(national, solution="kjernejournal", status="planlegging")
    assert counted and planning.context["page"].paginator.count == 1
    # an unknown status is refused by the form; the count still matches the rows shown
    response, _counted = _status_list(national, solution="kjernejournal", status="flying")
    page = response.context["page"]
    assert response.status_code == 200 and page.paginator.count == len(page.object_list)


def test_the_organisation_list_by_municipality_counts_its_groups_once_per_version(
    directorate, org_bergen, org_tromso, committing
):
    """actors' OrderedByGroup keeps its group sizes in the cache rollout registers."""
    client = client_for(directorate)

    def grouped():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("actors:organisation_list"), {"ordering": "municipality"})
        counted = any('COUNT("actors_organisation"."id")' in q["sql"] for q in queries)
        return response.context["page"].paginator.count, counted

    total, counted = grouped()
    assert counted and total >= 2
    assert grouped() == (total, False)
    with committing():
        OrganisationFactory(municipality__number="4601")
    assert grouped() == (total + 1, True)
