"""The target pages at national scale (issue 17): who is missing is counted once per change of
statuses or organisations (cached per scope), a municipality's organisations are read SHOWN at
a time, and the per-area forecasts read the last snapshot of each month. Each compared with
an independent count."""

import datetime
from collections import defaultdict

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actors.listing import OrderedByGroup
from actors.models import Job, Municipality, Organisation, OrganisationType
from actors.scoping import SYSTEM_USER
from benefits import coverage, services
from benefits.choices import Level
from benefits.coverage.missing import SHOWN
from benefits.models import CoverageSnapshot, CoverageTarget
from rollout.choices import Status
from rollout.models import RolloutStatus, Solution
from rollout.selectors import MATRIX_VERSION_KEY
from rollout.services import HistoryEntry, status_history_load, statuses_bulk_change
from tests.conftest import client_for
from tests.factories import OrganisationFactory

D = datetime.date


@pytest.fixture(autouse=True)
def fresh_version():
    """A new cache version: a test database made afresh numbers its rows the same way, so
    entries of an earlier run could otherwise answer (no change commits in a test)."""
    cache.delete(MATRIX_VERSION_KEY)


def detail(code):
    return reverse("benefits:target_detail", args=[code])


@pytest.fixture
def registry(db):
    """Nursing homes and home care in Bergen (more missing than SHOWN, two with the same
    name), Tromsø and Stavanger; GP offices for PLL; statuses for both; the history back-filled."""
    types = {t.code: t for t in OrganisationType.objects.all()}
    made = defaultdict(list)

    def add(number, kind, name, n=1):
        for i in range(n):
            made[number, kind].append(
                OrganisationFactory(
                    municipality__number=number,
                    type=types[kind],
                    name=name if n == 1 else f"{name} {i:02d}",
                )
            )

    add("4601", "sykehjem", "Bergen hjem", SHOWN + 3)
    add("4601", "sykehjem", "Likt navn")
    add("4601", "hjemmetjeneste", "Likt navn")
    add("5501", "sykehjem", "Tromsø hjem", 2)
    add("5501", "hjemmetjeneste", "Tromsø hjemmetjeneste")
    add("1103", "sykehjem", "Stavanger hjem", 2)
    add("4601", "fastlegekontor", "Bergen lege", 5)
    add("5501", "fastlegekontor", "Tromsø lege", 3)
    kj = Solution.objects.get(code="kjernejournal")
    pll = Solution.objects.get(code="pll")
    first = D(2025, 1, 1)
    why = {"reason": "test", "override_reason": "test"}
    changes = [
        HistoryEntry(made["4601", "sykehjem"][0].pk, kj.pk, "i_bruk", first),
        HistoryEntry(made["4601", "sykehjem"][1].pk, kj.pk, "ikke_relevant", first, **why),
        HistoryEntry(made["4601", "sykehjem"][2].pk, kj.pk, "blokkert", first, "Venter"),
        *(HistoryEntry(o.pk, kj.pk, "i_bruk", first) for o in made["5501", "sykehjem"]),
        HistoryEntry(made["4601", "fastlegekontor"][0].pk, pll.pk, "i_bruk", first, **why),
        HistoryEntry(made["4601", "fastlegekontor"][1].pk, pll.pk, "ikke_relevant", first, **why),
        HistoryEntry(made["5501", "fastlegekontor"][0].pk, pll.pk, "planlegging", first),
    ]
    status_history_load(user=SYSTEM_USER, changes=changes)
    _backfill(every="month")
    return made


def _backfill(**params):
    job = services.coverage_job_request(
        user=SYSTEM_USER, kind=Job.Kind.COVERAGE_BACKFILL, params=params
    )
    services.coverage_job_run(job)


def _independent_cells(target: CoverageTarget) -> dict[int, tuple[int, int, int]]:
    """{municipality id: (total, achieved, not relevant)}, organisation by organisation."""
    types = set(target.organisation_types.values_list("pk", flat=True))
    status = dict(
        RolloutStatus.objects.filter(solution=target.solution).values_list(
            "organisation_id", "status"
        )
    )
    cells = defaultdict(lambda: [0, 0, 0])
    for o in Organisation.objects.filter(is_active=True, type__in=types):
        s = status.get(o.pk, Status.NOT_STARTED)
        cell = cells[o.municipality_id]
        cell[0] += 1
        cell[1] += s in target.achieved_statuses
        cell[2] += s == Status.NOT_RELEVANT
    return {m: tuple(c) for m, c in cells.items()}


def test_municipality_gaps_and_their_organisations_match_an_independent_count(registry, make_user):
    target = CoverageTarget.objects.get(code="kjernejournal-plo")
    response = client_for(make_user("directorate")).get(detail(target.code))
    assert response.status_code == 200
    gaps = list(response.context["page"])
    cells = _independent_cells(target)
    # ALL rule, denominator ALL: every municipality of today that is not fully achieved.
    expected = []
    for m in Municipality.objects.current().order_by("name"):
        total, achieved, excluded = cells.get(m.pk, (0, 0, 0))
        if not (total - excluded > 0 and achieved >= total - excluded):
            expected.append((m.pk, total, achieved, excluded))
    assert response.context["page"].paginator.count == len(expected)
    shown = [(g.municipality.pk, g.cell.total, g.cell.achieved, g.cell.excluded) for g in gaps]
    assert shown == expected[: len(shown)]
    bergen = next(g for g in gaps if g.municipality.number == "4601")
    # Bergen: 13 + 1 + 1 of the types; one achieved, one not relevant; 13 missing.
    names = sorted(
        (o.name, o.pk)
        for o in Organisation.objects.filter(
            municipality__number="4601", type__code__in=["sykehjem", "hjemmetjeneste"]
        )
        if o.pk not in {registry["4601", "sykehjem"][0].pk, registry["4601", "sykehjem"][1].pk}
    )
    assert bergen.missing_count == len(names) == SHOWN + 3
    assert [(o.name, o.pk) for o in bergen.missing] == names[:SHOWN]
    assert bergen.more == 3
    assert all(o.url == o.get_absolute_url() for g in gaps for o in g.missing)
    page = response.content.decode()
    assert "… og 3 til" in page
    assert "Venter" in page  # the blocking reason of a named organisation


def test_organisation_list_groups_match_those_counted_afresh(registry, make_user):
    target = CoverageTarget.objects.get(code="pll-prioriterte-aktorer")
    ordering = ("municipality__name", "type__sort_order", "name", "pk")
    users = {kind: make_user(kind) for kind in ("directorate", "contact", "coord_area")}
    for kind, scope in (
        ("directorate", "nation"),
        ("directorate", "area:helse-bergen"),
        ("contact", "municipality:4601"),
        ("coord_area", "county:46"),
    ):
        user = users[kind]
        place = coverage.resolve_scope(user, scope, coverage.scope_options(user))
        missing = coverage.missing_organisations(target, user, place)
        assert coverage.missing_sizes(target, missing) == OrderedByGroup(missing, ordering).sizes
        response = client_for(user).get(detail(target.code), {"scope": scope})
        listed = {o.name for o in response.context["page"]}
        assert listed == {o.name for o in missing}
        assert all(o.url == o.get_absolute_url() for o in response.context["page"])
    # The same number of GP offices in Bergen are missing as an independent count says.
    cells = _independent_cells(target)
    bergen = Municipality.objects.current().get(number="4601")
    total, achieved, excluded = cells[bergen.pk]
    user = make_user("coord_nat")
    place = coverage.resolve_scope(user, "municipality:4601", coverage.scope_options(user))
    (size,) = coverage.missing_sizes(target, coverage.missing_organisations(target, user, place))
    assert size == ("Bergen", total - achieved - excluded)


def _page(client, code, **query):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(detail(code), query)
    assert response.status_code == 200
    return response, len(captured)


@pytest.mark.parametrize("code", ["kjernejournal-plo", "pll-prioriterte-aktorer"])
def test_counts_come_from_the_cache_until_a_status_changes(
    registry, make_user, code, django_capture_on_commit_callbacks
):
    target = CoverageTarget.objects.get(code=code)
    client = client_for(make_user("directorate"))
    first, counted = _page(client, code)
    again, cached = _page(client, code)
    assert cached < counted  # the grouped counts are not run again
    assert again.context["page"].paginator.count == first.context["page"].paginator.count
    # Bergen's missing ones come into use (on commit the version is replaced): the page
    # counts afresh.
    if target.unit == "organisations":
        changed = registry["4601", "fastlegekontor"][2:]
    else:
        changed = [*registry["4601", "sykehjem"][2:], *registry["4601", "hjemmetjeneste"]]
    with django_capture_on_commit_callbacks(execute=True):
        statuses_bulk_change(
            user=SYSTEM_USER,
            organisation_ids=[o.pk for o in changed],
            solution=target.solution,
            to_status=Status.IN_USE,
            effective_date=timezone.localdate(),
            override_reason="test",
        )
    after, recounted = _page(client, code)
    assert recounted > cached  # counted again after the change
    if target.unit == "organisations":
        assert after.context["page"].paginator.count == first.context["page"].paginator.count - 3
        assert not {o.pk for o in changed} & {o.pk for o in after.context["page"]}
    else:
        assert after.context["page"].paginator.count == first.context["page"].paginator.count - 1
        assert "4601" not in {g.municipality.number for g in after.context["page"]}


def test_the_cache_is_per_scope_and_its_absence_does_not_break_the_page(
    registry, make_user, monkeypatch
):
    code = "pll-prioriterte-aktorer"
    national = client_for(make_user("directorate")).get(detail(code))
    contact = client_for(make_user("contact")).get(detail(code), {"scope": "municipality:4601"})
    assert national.context["page"].paginator.count > contact.context["page"].paginator.count
    assert {o.municipality.number for o in contact.context["page"]} == {"4601"}

    def down(*args, **kwargs):
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "add", down)
    again = client_for(make_user("coord_nat")).get(detail(code))
    assert again.status_code == 200
    assert again.context["page"].paginator.count == national.context["page"].paginator.count


def test_per_area_forecasts_equal_those_from_the_whole_history(registry, make_user):
    target = CoverageTarget.objects.get(code="pll-prioriterte-aktorer")
    _backfill(every="week", start="2025-03-03")  # a month has several points
    user = make_user("directorate")
    rows = coverage.breakdown(target, coverage.scope_options(user), Level.AREA)
    assert rows
    for row in rows:
        series = [
            (d, n / den)
            for d, n, den in CoverageSnapshot.objects.filter(
                target=target, level=Level.AREA, scope_id=row.scope.scope_id, denominator__gt=0
            )
            .order_by("day")
            .values_list("day", "numerator", "denominator")
        ]
        assert len(series) > 3
        assert row.forecast == coverage.forecast(series, float(target.threshold), target.deadline)


def test_the_jobs_shown_are_the_latest_and_the_unfinished_of_the_week(db, make_user):
    from django.utils import timezone

    from benefits.target_views import _jobs

    user = make_user("directorate")
    now = timezone.now()

    def job(state, days_ago, kind=Job.Kind.COVERAGE_RECOMPUTE):
        made = Job.objects.create(kind=kind, state=state, created_by=user)
        Job.objects.filter(pk=made.pk).update(created_at=now - datetime.timedelta(days=days_ago))
        return made.pk

    assert _jobs(user) == []
    old_failure = job(Job.State.FAILED, 9)
    assert [j.pk for j in _jobs(user)] == [old_failure]  # the latest, however old
    failures = [job(Job.State.FAILED, 6 - i * 0.1) for i in range(6)]
    job(Job.State.DONE, 3)
    latest = job(Job.State.DONE, 0)
    # The latest, then at most five unfinished of the last week, newest first.
    assert [j.pk for j in _jobs(user)] == [latest, *failures[::-1][:5]]
    running = job(Job.State.RUNNING, 0)
    assert [j.pk for j in _jobs(user)] == [running, *failures[::-1][:5]]


def test_each_organisation_not_counted_says_which_required_solution_it_waits_for(
    registry, make_user
):
    sfm = Solution.objects.get(code="sfm")
    ready = registry["5501", "fastlegekontor"][1]
    status_history_load(
        user=SYSTEM_USER, changes=[HistoryEntry(ready.pk, sfm.pk, "i_bruk", D(2025, 2, 1))]
    )
    target = CoverageTarget.objects.get(code="pll-prioriterte-aktorer")
    response = client_for(make_user("directorate")).get(detail(target.code))
    rows = list(response.context["page"])
    assert rows
    for o in rows:
        expected = [
            r.short_name
            for r in target.solution.requires.all()
            if r.organisation_types.filter(pk=o.type_id).exists()
            and not RolloutStatus.objects.filter(
                organisation_id=o.pk, solution=r, status=Status.IN_USE
            ).exists()
        ]
        assert o.waiting_for == expected, o.name
    waiting = {o.pk: o.waiting_for for o in rows}
    assert waiting[ready.pk] == []
    assert waiting[registry["5501", "fastlegekontor"][2].pk] == ["SFM"]
    assert "Venter på at SFM er i bruk" in response.content.decode()
