"""Issue 17: the status report's counts over every status and its history come from the
cache of counted figures (rollout.selectors.cached_figures) and are never stale nor
another scope's. (The PDF's layout: tests/benefits/test_report_pdf_layout.py.)"""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from benefits import reports
from rollout import selectors, services
from rollout.choices import Status
from rollout.models import Solution
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
SINCE = datetime.date(2020, 1, 1)
GROUPED_IN_USE = "per_organisation"  # benefits.selectors.solutions_in_use's grouped count


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run the on-commit work of what the block does (the cache's new version), as a real
    commit would; first the pending work of the fixtures (a test never commits)."""

    def block():
        for _sids, func, _robust in connection.run_on_commit:
            if isinstance(func, selectors.MatrixBump) and not func.done:
                func()
        return django_capture_on_commit_callbacks(execute=True)

    return block


def _report(user, kind=reports.NATIONAL, key=None):
    place = reports.report_place(user, kind, key)
    with CaptureQueriesContext(connection) as queries:
        report = reports.build(user, kind, place, SINCE)
    counted = any(GROUPED_IN_USE in q["sql"] for q in queries.captured_queries)
    return report, counted


def _row(report, key, *first):
    """The row of table `key` that starts with `first` (None when there is none)."""
    n = len(first)
    return next((r for r in report.table(key).rows if tuple(r[:n]) == first), None)


def _change(user, organisation, code, status, reason=""):
    services.status_change(
        user=user,
        organisation=organisation,
        solution=Solution.objects.get(code=code),
        to_status=status,
        reason=reason,
    )


def _in_use(report, code="kjernejournal"):
    return _row(report, "losninger", Solution.objects.get(code=code).name)[2]


def test_the_counts_come_from_the_cache_and_equal_a_fresh_count(
    directorate, contact, org_bergen, committing
):
    with committing():
        _change(contact, org_bergen, "kjernejournal", Status.IN_USE)
        _change(contact, org_bergen, "e-multidose", Status.BLOCKED, "Venter på EPJ")
    first, counted = _report(directorate)
    assert counted
    again, counted = _report(directorate)
    assert not counted  # from the cache
    cache.clear()
    fresh, counted = _report(directorate)
    assert counted
    for table in fresh.tables:
        assert again.table(table.key).rows == table.rows == first.table(table.key).rows


def test_a_status_change_shows_at_once(directorate, contact, org_bergen, committing):
    before, _ = _report(directorate)
    _report(directorate)  # now cached
    with committing():
        _change(contact, org_bergen, "kjernejournal", Status.IN_USE)
        _change(contact, org_bergen, "e-multidose", Status.BLOCKED, "Venter på EPJ")
    after, counted = _report(directorate)
    assert counted
    assert _in_use(after) == _in_use(before) + 1
    multidose = Solution.objects.get(code="e-multidose").name
    assert _row(after, "blokkeringer", multidose, "Venter på EPJ")[2] == 1
    changed = _row(after, "endringer", multidose, str(Status.BLOCKED.label))
    assert (
        changed[2]
        == (_row(before, "endringer", multidose, str(Status.BLOCKED.label)) or [0] * 3)[2] + 1
    )


def test_an_organisation_leaving_shows_at_once(directorate, contact, org_bergen, committing):
    with committing():
        _change(contact, org_bergen, "kjernejournal", Status.IN_USE)
    before, _ = _report(directorate)
    org_bergen.is_active = False
    with committing():
        org_bergen.save()
    after, counted = _report(directorate)
    assert counted
    assert _in_use(after) == _in_use(before) - 1


def test_a_renamed_solution_is_named_at_once(directorate, contact, org_bergen, committing):
    """The cached rows name the solutions; renaming one (no status changes) is a new key."""
    with committing():
        _change(contact, org_bergen, "e-multidose", Status.BLOCKED, "Venter på EPJ")
    _report(directorate)
    solution = Solution.objects.get(code="e-multidose")
    solution.name = "e-Multidose (nytt navn)"
    solution.save()
    after, _ = _report(directorate)
    assert _row(after, "blokkeringer", "e-Multidose (nytt navn)", "Venter på EPJ")[2] == 1
    assert _row(after, "endringer", "e-Multidose (nytt navn)", str(Status.BLOCKED.label))


def test_each_scope_has_its_own_counts(directorate, contact, make_user, org_bergen, committing):
    other = OrganisationFactory(municipality__number="5501", name="Tromsø legesenter")
    with committing():
        _change(contact, org_bergen, "kjernejournal", Status.IN_USE)
        _change(make_user("admin"), other, "kjernejournal", Status.IN_USE)
    national, _ = _report(directorate)
    own, counted = _report(contact, reports.MUNICIPALITY, "municipality:4601")
    assert counted  # not the national figures from the cache
    assert _in_use(own) == 1
    assert _in_use(national) >= 2
    assert _in_use(_report(directorate)[0]) == _in_use(national)


def test_the_report_is_counted_when_the_cache_is_down(directorate, contact, org_bergen):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        }
    }
    _change(contact, org_bergen, "kjernejournal", Status.IN_USE)
    with override_settings(CACHES=unreachable):
        report, counted = _report(directorate)
    assert counted
    assert _in_use(report) >= 1
