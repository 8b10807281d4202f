"""The status report's counted tables equal the same figures counted one row at a time in
Python (adoption per solution and per type, status changes, blocking reasons, realised
benefits), for each kind of report and reach; and the report's preview and files read the
database in as many queries whatever the size of the registry (issue 17)."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.models import Municipality, Organisation, OrganisationType
from actors.scoping import SYSTEM_USER
from benefits import report_files, reports, selectors
from benefits.choices import Direction, MeasurementKind, ReportStatus
from benefits.models import Benefit, BenefitGoal, BenefitReport
from rollout.choices import ADOPTED_STATUSES, Status
from rollout.models import RolloutStatus, Solution, StatusChange
from rollout.services import HistoryEntry, status_history_load
from tests.conftest import client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
D = datetime.date
SINCE = D(2025, 1, 1)
PREVIEW = reverse("benefits:report_preview")

# (user, kind, key, the place's organisations as a test on one organisation)
CASES = {
    "national": ("directorate", reports.NATIONAL, None, lambda o: True),
    "area": (
        "coord_area",
        reports.AREA,
        "area:helse-bergen",
        lambda o: o.health_trust.code == "helse-bergen",
    ),
    "municipality": (
        "contact",
        reports.MUNICIPALITY,
        "municipality:4601",
        lambda o: o.municipality.number == "4601",
    ),
}

# Per municipality: (type, {solution: (status, date, reason)}) for each organisation.
MD, KJ = "e-multidose", "kjernejournal"
IN_USE, BLOCKED, PLANNING = Status.IN_USE, Status.BLOCKED, Status.PLANNING
GP, HOME, CARE = "fastlegekontor", "sykehjem", "hjemmetjeneste"
REGISTRY = {
    "4601": [
        (GP, {MD: (IN_USE, D(2024, 5, 1), ""), KJ: (IN_USE, D(2025, 2, 1), "")}),
        (GP, {MD: (IN_USE, D(2025, 3, 1), "")}),
        (GP, {MD: (BLOCKED, D(2025, 4, 1), "Venter på EPJ")}),
        (GP, {KJ: (IN_USE, D(2024, 1, 1), "")}),
        (HOME, {KJ: (IN_USE, D(2025, 6, 1), ""), MD: (PLANNING, D(2025, 6, 1), "")}),
        (HOME, {KJ: (BLOCKED, D(2024, 8, 1), "Mangler avtale")}),
    ],
    "4602": [(GP, {MD: (IN_USE, D(2025, 1, 15), "")})],  # Kinn: outside Helse Bergen
    "5501": [
        (GP, {MD: (IN_USE, D(2024, 3, 1), ""), KJ: (IN_USE, D(2024, 3, 1), "")}),
        (GP, {MD: (BLOCKED, D(2025, 5, 1), "Venter på EPJ")}),
        (CARE, {KJ: (BLOCKED, D(2025, 5, 1), "Mangler avtale")}),
    ],
}


def add_registry(registry: dict, suffix: str = "") -> list[Organisation]:
    """The organisations of `registry` with their status history; one more GP office per
    municipality in use of both solutions but no longer active (counted nowhere)."""
    solutions = {s.code: s.pk for s in Solution.objects.all()}
    types = {t.code: t for t in OrganisationType.objects.all()}
    made, changes, gone = [], [], []
    for number, organisations in registry.items():
        for i, (type_code, statuses) in enumerate(organisations):
            org = OrganisationFactory(
                municipality__number=number, type=types[type_code], name=f"{number}-{i}{suffix}"
            )
            made.append(org)
            for code, (status, day, reason) in statuses.items():
                changes.append(HistoryEntry(org.pk, solutions[code], status, day, reason))
        inactive = OrganisationFactory(
            municipality__number=number, type=types[GP], name=f"{number}-x{suffix}"
        )
        gone.append(inactive.pk)
        for code in (MD, KJ):
            changes.append(HistoryEntry(inactive.pk, solutions[code], IN_USE, D(2025, 2, 1)))
    status_history_load(user=SYSTEM_USER, changes=changes)
    Organisation.objects.filter(pk__in=gone).update(is_active=False)
    return made


def approved(benefit, reporter, kind, value, period_end):
    if isinstance(reporter, Municipality):
        municipality, organisation = reporter, None
    else:
        municipality, organisation = reporter.municipality, reporter
    BenefitReport.objects.create(
        benefit=benefit, municipality=municipality, organisation=organisation, kind=kind,
        period_start=period_end - datetime.timedelta(days=27), period_end=period_end,
        value=Decimal(value), method="Måling", status=ReportStatus.APPROVED,
    )  # fmt: skip


def add_benefit_reports(organisations: list[Organisation]) -> None:
    """Each organisation and its municipality report a baseline and a follow-up on both
    benefits (a reporter outside the organisations in use counts as expected too)."""
    benefits = list(Benefit.objects.filter(name__startswith="Test "))
    for benefit in benefits:
        for n, reporter in enumerate([*organisations, organisations[0].municipality]):
            approved(benefit, reporter, MeasurementKind.BASELINE, 10 + n, D(2024, 11, 30))
            approved(benefit, reporter, MeasurementKind.FOLLOW_UP, 12 + 2 * n, D(2025, 11, 30))


@pytest.fixture
def registry(db):
    goal = BenefitGoal.objects.get(code="frigjort-tid")
    both = Benefit.objects.create(
        goal=goal, name="Test both", indicator="x", unit="minutter",
        direction=Direction.LOWER, owner="x",
    )  # fmt: skip
    both.solutions.set(Solution.objects.filter(code__in=[MD, KJ]))
    one = Benefit.objects.create(
        goal=goal, name="Test one", indicator="x", unit="prosent",
        direction=Direction.HIGHER, owner="x",
    )  # fmt: skip
    one.solutions.set(Solution.objects.filter(code=KJ))
    made = add_registry(REGISTRY)
    # In Bergen (one not using either solution) and Tromsø, and Bergen as a whole.
    add_benefit_reports([made[0], made[2], made[4], made[7]])
    return made


def build(make_user, case: str) -> reports.Report:
    username, kind, key, _at = CASES[case]
    user = make_user(username)
    return reports.build(user, kind, reports.report_place(user, kind, key), SINCE)


def counted(case: str):
    """The place's active organisations and their statuses and history, by hand."""
    at = CASES[case][3]
    organisations = [
        o
        for o in Organisation.objects.select_related("municipality", "health_trust", "type")
        if o.is_active and at(o)
    ]
    pks = {o.pk for o in organisations}
    statuses = [
        s
        for s in RolloutStatus.objects.select_related("solution", "organisation__type")
        if s.organisation_id in pks
    ]
    changes = [
        c for c in StatusChange.objects.select_related("solution") if c.organisation_id in pks
    ]
    return organisations, statuses, changes


@pytest.mark.parametrize("case", CASES)
def test_the_tables_equal_the_rows_counted_one_by_one(registry, make_user, case):
    report = build(make_user, case)
    organisations, statuses, changes = counted(case)
    adopted = [s for s in statuses if s.status in ADOPTED_STATUSES]
    assert adopted  # the registry has something to count at every place

    solutions, by_type = [], []
    for s in Solution.objects.order_by("sort_order", "name"):
        types = list(s.organisation_types.order_by("sort_order"))
        used = [a for a in adopted if a.solution_id == s.pk]
        total = sum(1 for o in organisations if o.type in types)
        solutions.append([s.name, len(used), total])
        for t in types:
            of = sum(1 for o in organisations if o.type == t)
            if of:
                n = sum(1 for a in used if a.organisation.type == t)
                by_type.append([s.name, t.name, n, of, n / of])
    table = report.table("losninger")
    assert sorted([r[0], r[2], r[3]] for r in table.rows) == sorted(solutions)
    assert sorted(report.table("per-type").rows) == sorted(by_type)

    since = Counter(
        (c.solution.name, str(Status(c.to_status).label))
        for c in changes
        if c.effective_date >= SINCE
    )
    assert {(r[0], r[1]): r[2] for r in report.table("endringer").rows} == since
    blocked = Counter((s.solution.name, s.reason) for s in statuses if s.status == Status.BLOCKED)
    assert {(r[0], r[1]): r[2] for r in report.table("blokkeringer").rows} == blocked


def test_the_benefits_table_counts_as_each_benefits_page(registry, make_user):
    """benefit_summaries (the report's few queries) gives what benefit_summary (one benefit
    at a time, as its page) gives, for every reach; the national report shows it."""
    benefits = list(Benefit.objects.order_by("goal__sort_order", "name"))
    for username in ("directorate", "coord_area", "contact"):
        user = make_user(username)
        together = selectors.benefit_summaries(benefits, user)
        for summary, benefit in zip(together, benefits, strict=True):
            alone = selectors.benefit_summary(benefit, user)
            assert reports.benefit_row(summary) == reports.benefit_row(alone), username
            assert (summary.expected_organisations, summary.expected_municipalities) == (
                alone.expected_organisations,
                alone.expected_municipalities,
            ), username
    national = build(make_user, "national")
    rows = {r[0]: r for r in national.table("gevinster").rows}
    both = selectors.benefit_summary(Benefit.objects.get(name="Test both"), make_user("admin"))
    # In use of either solution: 4601-0, -1, -3, -4, 4602-0, 5501-0 (once each), and the
    # reporter 4601-2 (blocked); Bergen reports as a whole, so the municipalities where one
    # of them is are expected too (4601, 4602, 5501): 7 organisations + 3 municipalities.
    assert (both.expected_organisations, both.expected_municipalities) == (7, 3)
    assert rows["Test both"][6:9] == [5, 1, 10]  # reported, of which municipalities, expected


def queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def test_the_preview_and_files_need_as_many_queries_for_a_larger_registry(registry, make_user):
    users = {case: make_user(CASES[case][0]) for case in CASES}

    def count() -> dict:
        sizes = {}
        for case, (_username, kind, key, _at) in CASES.items():
            user, query = users[case], {"scope": key or "nation", "since": SINCE.isoformat()}
            client = client_for(user)
            assert client.get(PREVIEW, query).status_code == 200
            sizes[case, "preview"] = queries(lambda: client.get(PREVIEW, query))  # noqa: B023
            place = reports.report_place(user, kind, key)
            for fmt in (report_files.XLSX, report_files.CSV):
                sizes[case, fmt] = queries(
                    lambda: report_files.render(reports.build(user, kind, place, SINCE), fmt)  # noqa: B023
                )
        return sizes

    small = count()
    larger = {number: organisations * 3 for number, organisations in REGISTRY.items()}
    larger["1103"] = REGISTRY["4601"]  # and a municipality in another area
    made = add_registry(larger, suffix="b")
    add_benefit_reports(made[::5])
    assert Organisation.objects.count() > 3 * len(registry)
    assert count() == small
