"""The synthetic rollout history of seed_demo follows the seed documents and the rules of
status_change; the bulk history loader keeps those rules."""

import datetime
from collections import defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from actors.models import Organisation, OrganisationType
from actors.scoping import SYSTEM_USER
from rollout.choices import NEEDS_PREREQUISITES, TRANSITIONS, Phase, ReportStatus, Source, Status
from rollout.models import (
    AreaRollout,
    ReadinessReport,
    RolloutStatus,
    Solution,
    StatusChange,
)
from rollout.selectors import statuses_as_of
from rollout.services import HistoryEntry, status_history_load, today
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

PLO = ("sykehjem", "hjemmetjeneste", "kommune", "ohd")
HELSE_VEST = ("helse-bergen", "helse-stavanger", "helse-fonna", "helse-forde")
D = datetime.date


def _municipalities(statuses: dict[int, str], plo: dict[int, int], wanted: set[str]) -> set[int]:
    return {plo[pk] for pk, status in statuses.items() if pk in plo and status in wanted}


def test_seed_demo_writes_a_rollout_history_that_follows_the_seeds(capsys):
    call_command("seed_demo", "--seed", "1")
    assert "Synthetic rollout history (seed 1): " in capsys.readouterr().out
    solutions = {s.code: s for s in Solution.objects.all()}
    kj = solutions["kjernejournal"]
    types = dict(Organisation.objects.values_list("pk", "type__code"))
    trusts = dict(Organisation.objects.values_list("pk", "health_trust__code"))

    # Autumn 2021: all hospitals and legevakter, about 90 % of GP offices.
    autumn = statuses_as_of(kj, D(2021, 10, 1))
    for code in ("sykehus", "legevakt"):
        ids = [pk for pk, t in types.items() if t == code]
        assert ids and all(autumn.get(pk) == Status.IN_USE for pk in ids), code
    gps = [pk for pk, t in types.items() if t == "fastlegekontor"]
    assert 0.85 <= sum(autumn.get(pk) == Status.IN_USE for pk in gps) / len(gps) <= 0.95

    # November 2021: 77 municipalities in trial/in use in PLO, 26 more technically connected;
    # end of 2022: 140-150; today well over 80 % of PLO organisations, but not all.
    plo = dict(Organisation.objects.filter(type__code__in=PLO).values_list("pk", "municipality_id"))
    november = statuses_as_of(kj, D(2021, 11, 30))
    started = _municipalities(november, plo, {Status.TRIAL, Status.IN_USE})
    connected = _municipalities(november, plo, {Status.TECHNICALLY_READY}) - started
    assert (len(started), len(connected)) == (77, 26)
    end_2022 = statuses_as_of(kj, D(2022, 12, 31))
    assert 140 <= len(_municipalities(end_2022, plo, {Status.IN_USE})) <= 150
    now = statuses_as_of(kj, today())
    assert 0.8 < sum(now.get(pk) == Status.IN_USE for pk in plo) / len(plo) < 1

    # PLL: limited rollout in the Bergen area only; all 19 areas recorded.
    pll = solutions["pll"]
    areas = {a.health_trust.code: a for a in AreaRollout.objects.filter(solution=pll)}
    assert len(areas) == 19
    bergen = areas["helse-bergen"]
    assert bergen.phase == Phase.LIMITED_ROLLOUT
    assert bergen.decision_date and bergen.decision_reference and bergen.actual_start
    assert all(a.phase == Phase.PLANNING for code, a in areas.items() if code != "helse-bergen")
    assert sum(a.planned_start is not None for a in areas.values()) >= 3
    pll_rows = RolloutStatus.objects.filter(solution=pll)
    outside = pll_rows.exclude(organisation__health_trust__code="helse-bergen")
    assert not outside.exclude(status__in=[Status.NOT_STARTED, Status.PLANNING]).exists()
    assert pll_rows.filter(status__in=[Status.TRIAL, Status.IN_USE]).exists()
    assert pll.national_phase == Phase.LIMITED_ROLLOUT
    assert solutions["kjernejournal"].national_phase == Phase.NATIONAL_ROLLOUT

    # Kritisk informasjon: tried only in Helse Vest.
    ki_used = RolloutStatus.objects.filter(
        solution=solutions["kritisk-informasjon"], status__in=[Status.TRIAL, Status.IN_USE]
    ).values_list("organisation_id", flat=True)
    assert ki_used and {trusts[pk] for pk in ki_used} <= set(HELSE_VEST)

    # Blocked, not relevant and stopped, each with its reason.
    for status in (Status.BLOCKED, Status.NOT_RELEVANT, Status.STOPPED):
        rows = RolloutStatus.objects.filter(status=status)
        assert rows.exists() and not rows.filter(reason="").exists(), status

    # Readiness reports in every state, through the services.
    reports = ReadinessReport.objects.all()
    assert set(reports.values_list("status", flat=True)) == set(ReportStatus.values)
    assert reports.filter(
        solution=pll, municipality__catchments__health_trust__code="helse-bergen"
    ).exists()
    returned = reports.get(status=ReportStatus.RETURNED)
    assert returned.review_comment and returned.reviewed_by and not returned.reviewed_by.is_active
    # Separation of duties: the contact submits, a coordinator reviews.
    reviewed = reports.filter(reviewed_by__isnull=False)
    assert all(r.submitted_by_id and r.submitted_by_id != r.reviewed_by_id for r in reviewed)

    # The history keeps the rules: transitions, dates, prerequisites as of each change's
    # date; every current status is the last change of its history.
    requires = {s.pk: list(s.requires.values_list("pk", flat=True)) for s in solutions.values()}
    applies = {
        s.pk: set(s.organisation_types.values_list("code", flat=True)) for s in solutions.values()
    }
    state: dict[tuple[int, int], tuple] = {}
    changes = StatusChange.objects.order_by("effective_date", "id").values_list(
        "organisation_id", "solution_id", "from_status", "to_status", "effective_date", "reason"
    )
    count = 0
    for org, sol, from_status, to_status, day, reason in changes.iterator(chunk_size=5000):
        count += 1
        current = state.get((org, sol), (Status.NOT_STARTED, None, ""))[0]
        assert from_status == current and to_status in TRANSITIONS[current]
        assert D(2021, 1, 1) <= day <= today()
        if to_status in NEEDS_PREREQUISITES:
            for required in requires[sol]:
                if types[org] in applies[required]:
                    assert state[(org, required)][0] == Status.IN_USE
        state[(org, sol)] = (to_status, day, reason)
    assert count > 20_000
    assert not StatusChange.objects.exclude(source=Source.SYSTEM).exists()
    stored = {
        (r[0], r[1]): r[2:]
        for r in RolloutStatus.objects.values_list(
            "organisation_id", "solution_id", "status", "effective_date", "reason"
        )
    }
    assert stored == state

    # A second run changes nothing and says so.
    call_command("seed_demo", "--seed", "1")
    out = capsys.readouterr().out
    assert "Synthetic rollout history (seed 1) already in place: nothing changed." in out
    assert StatusChange.objects.count() == count
    assert ReadinessReport.objects.count() == reports.count()


def test_status_history_load_keeps_the_rules_all_or_nothing():
    gp = OrganisationFactory(municipality__number="4601")
    pharmacy = OrganisationFactory(
        municipality__number="4601", type=OrganisationType.objects.get(code="apotek")
    )
    pll, sfm = Solution.objects.get(code="pll"), Solution.objects.get(code="sfm")

    def change(org, solution, status, day, reason=""):
        return HistoryEntry(org.pk, solution.pk, status, day, reason)

    refused = [
        change(gp, pll, Status.PLANNING, D(2023, 1, 2)),
        change(gp, pll, Status.TRIAL, D(2023, 2, 1)),  # SFM not in use at the GP office
        change(pharmacy, sfm, Status.PLANNING, D(2023, 1, 2)),  # SFM is not for pharmacies
        change(gp, sfm, Status.BLOCKED, D(2023, 1, 2)),  # no reason
        change(gp, sfm, Status.PLANNING, D(2023, 3, 1)),
        change(gp, sfm, Status.TECHNICALLY_READY, D(2023, 2, 1)),  # earlier than the last
        change(gp, sfm, Status.PLANNING, today() + datetime.timedelta(days=1)),  # future
    ]
    with pytest.raises(ValidationError) as caught:
        status_history_load(user=SYSTEM_USER, changes=refused)
    assert len(caught.value.messages) == 5
    assert not StatusChange.objects.exists() and not RolloutStatus.objects.exists()

    written = status_history_load(
        user=SYSTEM_USER,
        changes=[
            change(gp, pll, Status.PLANNING, D(2023, 1, 2)),
            change(gp, sfm, Status.TECHNICALLY_READY, D(2023, 1, 5)),
            change(gp, sfm, Status.IN_USE, D(2023, 1, 20)),
            change(gp, pll, Status.TRIAL, D(2023, 2, 1)),
            change(pharmacy, pll, Status.TRIAL, D(2023, 2, 1)),  # SFM does not apply
        ],
    )
    assert written == 5
    row = RolloutStatus.objects.get(organisation=gp, solution=pll)
    assert (row.status, row.effective_date, row.version) == (Status.TRIAL, D(2023, 2, 1), 2)
    history = defaultdict(list)
    for c in StatusChange.objects.order_by("id"):
        history[(c.organisation_id, c.solution_id)].append((c.from_status, c.to_status))
    assert history[(gp.pk, sfm.pk)] == [
        (Status.NOT_STARTED, Status.TECHNICALLY_READY),
        (Status.TECHNICALLY_READY, Status.IN_USE),
    ]
    # Stored rows are checked too: never earlier than the current status.
    with pytest.raises(ValidationError):
        status_history_load(
            user=SYSTEM_USER, changes=[change(gp, pll, Status.IN_USE, D(2023, 1, 31))]
        )
