"""The status import checks every row with the same rules as a single change
(services.plan_status_change) against facts read once per file and writes in bulk (issue 17):
the result must be what applying the rows one by one through status_change gives, a refused
row keeps the whole file out with the same messages, and the queries do not grow with rows."""

import datetime

import pytest
from django.core.management import call_command
from django.db import transaction

from rollout import services
from rollout.choices import Source, Status, StatusChangeKind
from rollout.imports import import_statuses
from rollout.models import RolloutStatus, Solution, StatusChange
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

HEADER = "organisasjonsnummer,losning,status,dato,begrunnelse,overstyring\n"
LEGACY = datetime.date(2023, 6, 1)


@pytest.fixture
def orgs(db):
    one, two, three = (
        OrganisationFactory(municipality__number="4601", name=f"Bergen {i}") for i in range(3)
    )
    # Two rows stored without history (as a legacy load did): unchanged, and drifted.
    RolloutStatus.objects.create(
        organisation=two,
        solution=Solution.objects.get(code="kjernejournal"),
        status=Status.PLANNING,
        effective_date=LEGACY,
    )
    RolloutStatus.objects.create(
        organisation=two,
        solution=Solution.objects.get(code="sfm"),
        status=Status.PLANNING,
        effective_date=LEGACY,
    )
    return one, two, three


def mixed_rows(one, two, three):
    return [
        (one.orgnr, "kjernejournal", "planlegging", "2024-01-05", "", ""),
        (one.orgnr, "kjernejournal", "i_bruk", "01.02.2024", "", ""),
        # kjernejournal became in use two lines up, in the same file
        (one.orgnr, "dokumentdeling", "i_utproving", "2024-02-03", "Pilot", ""),
        (two.orgnr, "kjernejournal", "planlegging", "", "", ""),  # unchanged
        (two.orgnr, "sfm", "teknisk_klar", "2024-03-01", "", ""),  # after drift: a correction
        (two.orgnr, "sfm", "blokkert", "2024-03-02", "Venter på leverandør", ""),
        (three.orgnr, "dokumentdeling", "i_utproving", "", "Pilot", "Avtalt med NHN"),
        (three.orgnr, "e-multidose", "planlegging", "2024-01-01", "", ""),
    ]


def as_csv(rows) -> bytes:
    return (HEADER + "".join(",".join(r) + "\n" for r in rows)).encode()


def snapshot():
    statuses = sorted(
        RolloutStatus.objects.values_list(
            "organisation_id",
            "solution_id",
            "status",
            "reason",
            "effective_date",
            "version",
            "updated_by_id",
        )
    )
    history = list(
        StatusChange.objects.order_by("id").values_list(
            "organisation_id",
            "solution_id",
            "from_status",
            "to_status",
            "reason",
            "effective_date",
            "changed_by_id",
            "source",
            "kind",
            "prerequisite_override",
        )
    )
    return statuses, history


def one_by_one(rows, user):
    """The rows applied through status_change, as the import did before issue 17."""
    solutions = {s.code: s for s in Solution.objects.all()}
    from actors.models import Organisation

    for orgnr, code, status, day, reason, override in rows:
        organisation = Organisation.objects.get(orgnr=orgnr)
        if services.current_status(organisation, solutions[code]).status == status:
            continue
        fmt = "%Y-%m-%d" if "-" in day else "%d.%m.%Y"
        date = datetime.datetime.strptime(day, fmt).date() if day else None
        services.status_change(
            user=user,
            organisation=organisation,
            solution=solutions[code],
            to_status=status,
            reason=reason,
            effective_date=date,
            override_reason=override,
            source=Source.IMPORT,
        )


def test_the_bulk_import_gives_what_one_change_at_a_time_gives(coordinator, orgs):
    rows = mixed_rows(*orgs)
    with transaction.atomic():
        report = import_statuses(raw=as_csv(rows), user=coordinator)
        bulk = snapshot()
        transaction.set_rollback(True)
    assert report.ok and report.written, report.errors
    assert (report.updated, report.unchanged) == (7, 1)
    one_by_one(rows, coordinator)
    single = snapshot()
    assert bulk == single
    statuses, history = bulk
    assert len(history) == 8  # seven changes and one correction
    assert [h[8] for h in history].count(StatusChangeKind.CORRECTION) == 1
    assert all(h[7] in (Source.IMPORT, Source.SYSTEM) for h in history)
    assert {h[9] for h in history} == {"", "Avtalt med NHN"}


def test_the_coverage_signal_is_sent_once_with_the_earliest_date(coordinator, orgs):
    from actors.signals import coverage_inputs_changed

    sent = []

    def receiver(sender, since=None, **kwargs):
        sent.append(since)

    coverage_inputs_changed.connect(receiver)
    try:
        assert import_statuses(raw=as_csv(mixed_rows(*orgs)), user=coordinator).ok
        assert import_statuses(raw=as_csv(mixed_rows(*orgs)), user=coordinator, dry_run=True)
    finally:
        coverage_inputs_changed.disconnect(receiver)
    assert sent == [datetime.date(2024, 1, 1)]


def _one_by_one_errors(rows, user):
    """The messages status_change gives for the last row after the others."""
    from django.core.exceptions import ValidationError

    try:
        with transaction.atomic():
            one_by_one(rows, user)
    except ValidationError as exc:
        return sorted(m for ms in exc.message_dict.values() for m in ms)
    return []


@pytest.mark.parametrize(
    "bad",
    [
        ("kjernejournal", "stanset", "2024-03-01", "Avbrutt", ""),  # not a permitted change
        ("dokumentdeling", "i_bruk", "2024-03-01", "", ""),  # prerequisite missing
        ("pll", "blokkert", "2024-01-01", "", ""),  # no reason, dated before the row above
        ("sfm", "planlegging", "2099-01-01", "", ""),  # in the future
    ],
)
def test_one_refused_row_keeps_the_file_out_with_the_messages_of_a_single_change(
    coordinator, orgs, bad
):
    one, two, three = orgs
    before = snapshot()
    good = [
        (one.orgnr, "kjernejournal", "planlegging", "2024-01-05", "", ""),
        (three.orgnr, "pll", "planlegging", "2024-01-05", "", ""),
    ]
    rows = [*good, (three.orgnr, *bad), (one.orgnr, "sfm", "planlegging", "", "", "")]
    report = import_statuses(raw=as_csv(rows), user=coordinator)
    assert not report.written
    assert snapshot() == before
    bad_line = rows.index((three.orgnr, *bad)) + 2
    assert {e.line for e in report.errors} == {bad_line}
    expected = _one_by_one_errors(rows[: bad_line - 1], coordinator)
    assert expected  # the row is refused by status_change too
    assert sorted(e.message for e in report.errors) == expected


def test_override_by_a_non_coordinator_is_refused_on_its_line(contact, orgs):
    one = orgs[0]
    rows = [
        (one.orgnr, "kjernejournal", "planlegging", "", "", ""),
        (one.orgnr, "dokumentdeling", "i_utproving", "", "Pilot", "Haster"),
    ]
    before = snapshot()
    report = import_statuses(raw=as_csv(rows), user=contact)
    assert [(e.line, e.column) for e in report.errors] == [(3, "overstyring")]
    assert snapshot() == before


def test_queries_do_not_grow_with_the_rows(coordinator, django_assert_max_num_queries):
    organisations = [
        OrganisationFactory(municipality__number="4601", name=f"Legesenter {i}") for i in range(40)
    ]

    def rows(count):
        return as_csv(
            (o.orgnr, code, "planlegging", "", "", "")
            for o in organisations[:count]
            for code in ("kjernejournal", "sfm")
        )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few, transaction.atomic():
        assert import_statuses(raw=rows(2), user=coordinator).updated == 4
        transaction.set_rollback(True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert import_statuses(raw=rows(40), user=coordinator).updated == 80


def test_the_benchmark_command_prints_its_times(coordinator, capsys):
    for i in range(12):
        OrganisationFactory(municipality__number="4601", name=f"Legesenter {i}")
    before = snapshot()
    call_command("benchmark_status_import", rows=30)
    out = capsys.readouterr().out
    assert "30 rows" in out and "dry run:" in out and "real run:" in out and "MB" in out
    assert snapshot() == before


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_change_that_skips_steps_is_imported_as_it_stands_and_named(coordinator, orgs, dry_run):
    """The form and the API ask to confirm a jump; a file states what happened, so the
    import takes it and its report names every jump for the coordinator to check."""
    one, _two, _three = orgs
    rows = [
        (one.orgnr, "kjernejournal", "teknisk_klar", "2024-01-05", "", ""),  # skips planning
        (one.orgnr, "kjernejournal", "i_bruk", "2024-03-01", "", ""),  # skips trial
    ]
    report = import_statuses(raw=as_csv(rows), user=coordinator, dry_run=dry_run)
    assert report.ok and report.updated == 2
    assert [(n.line, n.column) for n in report.notices] == [(2, "status"), (3, "status")]
    assert str(Status.PLANNING.label) in report.notices[0].message
    assert str(Status.TRIAL.label) in report.notices[1].message
    written = RolloutStatus.objects.filter(organisation=one, solution__code="kjernejournal")
    assert [r.status for r in written] == ([] if dry_run else [Status.IN_USE])
