"""Issue 18: correcting a wrong status recomputes the coverage figures from the wrong entry's
date, through the path every status change takes (actors.services.coverage_changed), and
the figures of past days then count the corrected status."""

import datetime

import pytest
from django.utils import timezone

from actors.models import Job
from actors.scoping import SYSTEM_USER
from benefits import coverage, services
from benefits.choices import Level
from benefits.models import CoverageSnapshot
from rollout.corrections import status_correct
from rollout.models import Solution
from rollout.services import status_change
from tests.benefits.test_coverage import make_target, org

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
WRONG_DAY = TODAY - 20 * DAY


def nation(target, day):
    row = CoverageSnapshot.objects.get(target=target, level=Level.NATION, day=day)
    return row.numerator, row.denominator


def test_a_correction_changes_the_stored_figures_of_past_days(
    users, django_capture_on_commit_callbacks
):
    target = make_target()  # e-multidose in use at GP offices
    mistaken, other = org("4601", name="Feil"), org("4601", name="Annen")
    multidose = Solution.objects.get(code="e-multidose")
    status_change(
        user=users["contact"], organisation=mistaken, solution=multidose, to_status="i_bruk",
        effective_date=WRONG_DAY, confirm_jump=True,
    )  # fmt: skip
    status_change(
        user=users["contact"], organisation=other, solution=multidose, to_status="planlegging",
        effective_date=WRONG_DAY - 5 * DAY,  # the history begins before the days stored
    )  # fmt: skip
    backfill = services.coverage_job_request(
        user=SYSTEM_USER, kind=Job.Kind.COVERAGE_BACKFILL,
        params={"targets": [target.code], "start": (WRONG_DAY - DAY).isoformat(),
                "end": (WRONG_DAY + 5 * DAY).isoformat(), "every": "day"},
    )  # fmt: skip
    services.coverage_job_run(backfill)
    assert nation(target, WRONG_DAY - DAY) == (0, 2)
    assert nation(target, WRONG_DAY + 2 * DAY) == (1, 2)
    # The correction queues the recomputation from the wrong entry's date, which runs
    # in-process when the correction commits (the setup's queued request out of the way,
    # which the correction would otherwise ride on).
    Job.objects.filter(kind=Job.Kind.COVERAGE_RECOMPUTE).update(state=Job.State.DONE)
    with django_capture_on_commit_callbacks(execute=True):
        status_correct(
            user=users["coord_area"], organisation=mistaken, solution=multidose,
            to_status="planlegging", reason="Trykket feil",
        )  # fmt: skip
    job = Job.objects.filter(kind=Job.Kind.COVERAGE_RECOMPUTE).latest("id")
    assert job.params["since"] == WRONG_DAY.isoformat()
    assert job.state == Job.State.DONE, job.message
    assert nation(target, WRONG_DAY) == (0, 2)
    assert nation(target, WRONG_DAY + 2 * DAY) == (0, 2)
    assert nation(target, WRONG_DAY - DAY) == (0, 2)
    assert coverage.compute(target, [WRONG_DAY + DAY])[WRONG_DAY + DAY][(Level.NATION, 0)] == (
        0,
        2,
    )


def test_a_correction_from_a_later_date_counts_the_new_status_from_then(users):
    target = make_target()
    mistaken = org("4601", name="Feil")
    multidose = Solution.objects.get(code="e-multidose")
    status_change(
        user=users["contact"], organisation=mistaken, solution=multidose, to_status="i_bruk",
        effective_date=WRONG_DAY, confirm_jump=True,
    )  # fmt: skip
    # It was in use, but only from ten days later.
    status_correct(
        user=users["coord_area"], organisation=mistaken, solution=multidose,
        to_status="i_bruk", effective_date=WRONG_DAY + 10 * DAY, reason="Feil dato",
    )  # fmt: skip

    def on(day):
        return coverage.compute(target, [day])[day][(Level.NATION, 0)]

    assert on(WRONG_DAY) == (0, 1)
    assert on(WRONG_DAY + 9 * DAY) == (0, 1)
    assert on(WRONG_DAY + 10 * DAY) == (1, 1)


def test_a_corrected_entry_is_not_a_first_day_of_use(users):
    """Readers that pick entries instead of replaying the history (the first day an
    organisation used a benefit's solution, for late baselines) leave it out."""
    from benefits.models import Benefit, BenefitGoal
    from benefits.selectors import solution_start_dates

    benefit = Benefit.objects.create(
        goal=BenefitGoal.objects.first(), name="Gevinst", indicator="Minutter", unit="min",
        direction="lower", owner="Kommunen",
    )  # fmt: skip
    multidose = Solution.objects.get(code="e-multidose")
    benefit.solutions.add(multidose)
    mistaken = org("4601", name="Feil")
    status_change(
        user=users["contact"], organisation=mistaken, solution=multidose, to_status="i_bruk",
        effective_date=WRONG_DAY, confirm_jump=True,
    )  # fmt: skip
    assert solution_start_dates(benefit) == {mistaken.pk: WRONG_DAY}
    status_correct(
        user=users["coord_area"], organisation=mistaken, solution=multidose,
        to_status="i_bruk", effective_date=WRONG_DAY + 10 * DAY, reason="Feil dato",
    )  # fmt: skip
    assert solution_start_dates(benefit) == {mistaken.pk: WRONG_DAY + 10 * DAY}
    status_correct(
        user=users["coord_area"], organisation=mistaken, solution=multidose,
        to_status="planlegging", reason="Ikke i bruk likevel",
    )  # fmt: skip
    assert solution_start_dates(benefit) == {}
