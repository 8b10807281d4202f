"""Agreement coverage on a day follows from the agreements' signed and ended dates
(benefits.selectors.agreements_in_force), so the answer for a past day never changes:
ending an agreement today leaves 2020 as it was, and an agreement signed in 2025 does not
cover 2024. Every count goes through the one rule: the coverage page and API, the
national report's table and the area verdict."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from actors.models import Municipality
from benefits import reports, selectors, services
from benefits.choices import AgreementStatus
from rollout import selectors as rollout_selectors
from rollout.models import Solution
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
D = datetime.date
PAST = D(2020, 7, 1)


@pytest.fixture
def nat(make_user):
    return make_user("coord_nat")


def agreement(user, numbers, signed, *, status=AgreementStatus.SIGNED, ended=None, solutions=()):
    return services.agreement_save(
        user=user,
        agreement_id=None,
        expected_version=None,
        fields={
            "title": f"Intensjonsavtale {' '.join(numbers)}",
            "status": status,
            "sent_date": signed,
            "signed_date": signed,
            "ended_date": ended,
        },
        municipalities=list(Municipality.objects.filter(number__in=numbers)),
        organisations=[],
        solutions=solutions,
    )


def end(user, a, day):
    """End the agreement through the service, as the form and the API do."""
    return services.agreement_save(
        user=user,
        agreement_id=a.pk,
        expected_version=a.version,
        fields={"status": AgreementStatus.ENDED, "ended_date": day},
        municipalities=list(a.municipalities.all()),
        organisations=list(a.organisations.all()),
        solutions=list(a.solutions.all()),
    )


def figures(c):
    """Everything agreement_coverage says, comparable as plain data."""
    rows = lambda rs: sorted(  # noqa: E731
        (r.key, r.population, r.covered_population, r.municipalities, r.covered_municipalities)
        for r in rs
    )
    n = c.nation
    nation = (n.population, n.covered_population, n.municipalities, n.covered_municipalities)
    return nation, rows(c.by_county), rows(c.by_area)


def independent(plan, day):
    """Covered population and municipalities outside Helse Midt-Norge on `day`, from the
    test's own list of (municipality numbers, signed, ended) — not through the app."""
    numbers = {
        n
        for ns, signed, ended in plan
        if signed <= day and (ended is None or day < ended)
        for n in ns
    }
    outside = selectors.outside_region_municipalities().filter(number__in=numbers)
    # Residents of the day's year (the files hold 2023 to 2026; earlier days read 2023).
    year = min(max(day.year, 2023), 2026)
    return sum(m.populations.get(year=year).population for m in outside), outside.count()


def test_ending_an_agreement_today_does_not_change_a_past_day(nat, directorate):
    bergen = agreement(nat, ["4601"], D(2020, 5, 1))
    agreement(nat, ["5501"], D(2020, 6, 1))
    before = figures(selectors.agreement_coverage(on=PAST))
    api = api_client_for(directorate)
    before_api = api.get(reverse("intentagreement-coverage"), {"on": PAST.isoformat()}).json()
    assert before[0][3] == 2

    today = timezone.localdate()
    end(nat, bergen, today)

    assert figures(selectors.agreement_coverage(on=PAST)) == before
    after_api = api.get(reverse("intentagreement-coverage"), {"on": PAST.isoformat()}).json()
    assert after_api == before_api
    page = client_for(directorate).get(reverse("benefits:agreement_coverage"), {"on": "2020-07-01"})
    assert page.context["nation"].covered_municipalities == 2
    # Today it has ended: only Tromsø is covered.
    bergen_id = Municipality.objects.get(number="4601").pk
    assert bergen_id not in selectors.covered_municipality_ids()
    assert bergen_id in selectors.covered_municipality_ids(PAST)
    assert selectors.agreement_coverage().nation.covered_municipalities == 1


def test_the_end_date_is_the_first_day_not_covered(nat):
    a = agreement(nat, ["4601"], D(2020, 5, 1))
    end(nat, a, D(2026, 1, 1))
    assert selectors.agreement_coverage(on=D(2025, 12, 31)).nation.covered_municipalities == 1
    assert selectors.agreement_coverage(on=D(2026, 1, 1)).nation.covered_municipalities == 0


def test_an_agreement_signed_later_does_not_cover_earlier_days(nat):
    agreement(nat, ["4601"], D(2025, 3, 1))
    assert selectors.agreement_coverage(on=D(2024, 12, 31)).nation.covered_municipalities == 0
    assert selectors.agreement_coverage(on=D(2025, 3, 1)).nation.covered_municipalities == 1
    # Signed (dated) in the future: not in force today either.
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    agreement(nat, ["5501"], tomorrow)
    assert selectors.agreement_coverage().nation.covered_municipalities == 1
    assert selectors.agreement_coverage(on=tomorrow).nation.covered_municipalities == 2


def test_the_area_verdict_and_the_report_use_the_same_rule(nat):
    solution = Solution.objects.get(code="pll")
    in_bergen = OrganisationFactory(municipality__number="4601", name="Bergen sykehjem")
    a = agreement(nat, ["4601"], D(2020, 5, 1), solutions=[solution])

    def covered(solution, _ids):
        """Whom the agreement condition of the area verdict counts as covered."""
        verdict = rollout_selectors.area_readiness(solution, in_bergen.health_trust, nat)
        (agreements,) = (c for c in verdict.conditions if c.name == "agreements")
        assert verdict.agreement_covered == agreements.met
        return {o.pk for o in in_bergen.health_trust.organisations.all()} - {
            o.pk for o in agreements.failing
        }

    assert covered(solution, [in_bergen.pk]) == {in_bergen.pk}
    assert selectors.covered_organisation_ids(solution, [in_bergen.pk], D(2020, 4, 30)) == set()
    end(nat, a, timezone.localdate())
    # Ended today: the area verdict no longer counts it, the past still does.
    assert covered(solution, [in_bergen.pk]) == set()
    assert selectors.covered_organisation_ids(solution, [in_bergen.pk], PAST) == {in_bergen.pk}
    # The national report's table says what the coverage page says today.
    table = reports._agreement_coverage()
    assert table.rows[0][2] == selectors.agreement_coverage().nation.covered_population == 0


def test_coverage_on_any_day_equals_an_independent_count(nat):
    plan = [
        (["4601"], D(2020, 5, 1), None),
        (["5501", "1103"], D(2020, 6, 15), D(2023, 1, 1)),
        (["0301"], D(2022, 2, 1), D(2024, 6, 1)),
        (["3201", "4601"], D(2024, 1, 1), None),  # Bergen twice: counted once
        (["5001"], D(2020, 1, 1), None),  # Trondheim, in Helse Midt-Norge: left out
    ]
    for numbers, signed, ended in plan:
        a = agreement(nat, numbers, signed)
        if ended:
            end(nat, a, ended)
    agreement(nat, ["1506"], D(2021, 1, 1), status=AgreementStatus.SENT)  # never signed
    for day in [D(2019, 12, 31), D(2020, 5, 1), PAST, D(2022, 12, 31), D(2023, 1, 1),
                D(2024, 5, 31), D(2024, 6, 1), timezone.localdate()]:  # fmt: skip
        nation = selectors.agreement_coverage(on=day).nation
        assert (nation.covered_population, nation.covered_municipalities) == independent(
            plan, day
        ), day


def change_parties(user, a, numbers, solutions=()):
    a.refresh_from_db()
    return services.agreement_save(
        user=user,
        agreement_id=a.pk,
        expected_version=a.version,
        fields={},
        municipalities=list(Municipality.objects.filter(number__in=numbers)),
        organisations=[],
        solutions=solutions,
    )


def test_parties_changed_after_signing_count_from_the_day_of_the_change(nat, monkeypatch):
    """A signed agreement gains Tromsø on 1 March, loses Bergen and is narrowed to PLL on
    1 June (each change made on its day). Every day answers with the parties it had then,
    and no later change alters an answer already given."""
    pll, kj = Solution.objects.get(code="pll"), Solution.objects.get(code="kjernejournal")
    tromso_home = OrganisationFactory(municipality__number="5501", name="Tromsø sykehjem")

    def on(day):  # the clock reads noon of `day` while a change is made
        noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        monkeypatch.setattr(timezone, "now", lambda: noon)

    made = {}
    steps = [
        (D(2025, 1, 10), lambda: made.setdefault("a", agreement(nat, ["4601"], D(2025, 1, 1)))),
        (D(2025, 3, 1), lambda: change_parties(nat, made["a"], ["4601", "5501"])),
        (D(2025, 6, 1), lambda: change_parties(nat, made["a"], ["5501"], [pll])),
    ]
    days = [D(2024, 12, 31), D(2025, 1, 5), D(2025, 2, 28), D(2025, 3, 1), D(2025, 5, 31),
            D(2025, 6, 1), D(2025, 6, 2)]  # fmt: skip
    expected = {
        D(2024, 12, 31): set(), D(2025, 1, 5): {"4601"}, D(2025, 2, 28): {"4601"},
        D(2025, 3, 1): {"4601", "5501"}, D(2025, 5, 31): {"4601", "5501"},
        D(2025, 6, 1): {"5501"}, D(2025, 6, 2): {"5501"},
    }  # fmt: skip

    def covered(day):
        return set(
            Municipality.objects.filter(pk__in=selectors.covered_municipality_ids(day)).values_list(
                "number", flat=True
            )
        )

    given = {}
    for changed_on, step in steps:
        on(changed_on)
        step()
        for day in days:
            if day in given and day < changed_on:  # answered before this change: stays
                assert covered(day) == given[day], (changed_on, day)
            else:
                given[day] = covered(day)
    monkeypatch.undo()
    assert {day: covered(day) for day in days} == expected
    assert covered(None) == {"5501"}
    # Narrowed to PLL on 1 June: Tromsø's nursing home is covered for kjernejournal until then.
    assert selectors.covered_organisation_ids(kj, [tromso_home.pk], D(2025, 5, 31)) == {
        tromso_home.pk
    }
    assert selectors.covered_organisation_ids(kj, [tromso_home.pk], D(2025, 6, 1)) == set()
    assert selectors.covered_organisation_ids(pll, [tromso_home.pk], D(2025, 6, 1)) == {
        tromso_home.pk
    }
    # The record says which parties and solutions each change added and removed.
    bergen, tromso = (Municipality.objects.get(number=n).pk for n in ("4601", "5501"))
    details = [c.details for c in made["a"].changes.order_by("changed_at", "id")]
    assert details == [
        {},
        {"municipalities": {"added": [tromso], "removed": []}},
        {
            "municipalities": {"added": [], "removed": [bergen]},
            "solutions": {"added": [pll.pk], "removed": []},
        },
    ]


def test_the_history_names_the_parties_a_change_added_and_removed(nat):
    a = agreement(nat, ["4601"], D(2025, 1, 1))
    change_parties(nat, a, ["5501"])
    page = client_for(nat).get(reverse("benefits:agreement_detail", args=[a.pk]))
    html = page.content.decode()
    assert "Kommuner lagt til: Tromsø" in html
    assert "Kommuner fjernet: Bergen" in html
