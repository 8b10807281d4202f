"""Every HTML list and detail page asks the database the same number of questions whatever
the size of the data: each page is requested on the synthetic demo, then again after more
of everything it lists (organisations with statuses and history, registry changes,
agreements, benefit and readiness reports, decision points, dependencies, change log and
cut list entries, jobs), and the two counts must be equal (a query per row fails)."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors import services as actor_services
from actors.models import Job, Municipality, Organisation, OrganisationType
from actors.scoping import SYSTEM_USER
from benefits.models import BenefitReport, CoverageTarget, IntentAgreement
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import (
    ChangeLogEntry,
    CutListItem,
    DecisionPoint,
    Dependency,
    ReadinessReport,
    Solution,
)
from rollout.selectors import MATRIX_VERSION_KEY
from tests.conftest import ROLE_USERS, client_for
from tests.factories import OrganisationFactory, UserFactory

# One test process runs the whole module, so the demo is seeded once.
pytestmark = pytest.mark.xdist_group("page_query_counts")

USERS = ("coord_nat", "directorate")
GROWTH = 25  # rows of each kind added between the two counts (one before the first)


def _first(model, **filters):
    return model.objects.filter(**filters).order_by("pk").first()


def _pages(place: Municipality, organisation: Organisation) -> dict[str, str]:
    """Every list page (page 1, a deep page, and filtered to the rows that grow, so that a
    page not yet full gets more rows) and a detail page of each kind of object."""
    orgs, statuses = reverse("actors:organisation_list"), reverse("rollout:status_list")
    point = _first(DecisionPoint).pk
    pages = {
        "organisations": orgs,
        "organisations, page 3 by municipality": f"{orgs}?ordering=municipality&page=3",
        "organisations, growing": f"{orgs}?municipality={place.number}&ordering=type",
        "organisations, sorted by a header": f"{orgs}?ordering=-health_trust&page_size=200",
        "statuses, sorted by a header": f"{statuses}?solution=pll&ordering=-type&page_size=100"
        f"&municipality={place.number}",
        "municipalities": reverse("actors:municipality_list"),
        "municipalities, a past day": reverse("actors:municipality_list") + "?dato=2023-06-30",
        "health-trust areas": reverse("actors:healthtrust_list"),
        "rollout matrix": reverse("rollout:matrix"),
        "statuses": f"{statuses}?solution=pll",
        "statuses, page 3 in use": f"{statuses}?solution=pll&status=i_bruk&page=3",
        "statuses, growing": f"{statuses}?solution=pll&municipality={place.number}",
        "statuses, a past day": f"{statuses}?solution=pll&municipality={place.number}"
        "&as_of=2024-06-30",
        "readiness reports": reverse("rollout:report_list"),
        "agreements": reverse("benefits:agreement_list"),
        "agreements, page 2": reverse("benefits:agreement_list") + "?page=2",
        "agreement coverage": reverse("benefits:agreement_coverage"),
        "benefit register": reverse("benefits:benefit_register"),
        "benefit overview": reverse("benefits:overview"),
        "target dashboard": reverse("benefits:target_dashboard"),
        "decision points": reverse("governance:decision_point_list"),
        "decision schedule": reverse("governance:decision_schedule"),
        "change log": reverse("governance:changelog_list"),
        "cut list": reverse("governance:cutlist_list"),
        "dependencies": reverse("governance:dependency_list"),
        "reminders": reverse("governance:reminder_list"),
        # detail pages
        "organisation": reverse("actors:organisation_detail", args=[organisation.pk]),
        "municipality": reverse("actors:municipality_detail", args=[place.number]),
        "municipality, a type's second page": reverse(
            "actors:municipality_detail", args=[place.number]
        )
        + "?page_fastlegekontor=2",
        "health-trust area": reverse(
            "actors:healthtrust_detail", args=[place.catchments.get().health_trust.code]
        ),
        "solution": reverse("rollout:solution_detail", args=["pll"]),
        "readiness report": reverse("rollout:report_detail", args=[_first(ReadinessReport).pk]),
        "agreement": reverse("benefits:agreement_detail", args=[_first(IntentAgreement).pk]),
        "benefit": reverse("benefits:benefit_detail", args=[_first(BenefitReport).benefit_id]),
        "benefit report": reverse("benefits:report_detail", args=[_first(BenefitReport).pk]),
        "decision point": reverse("governance:decision_point_detail", args=[point]),
        "dependency": reverse("governance:dependency_detail", args=[_first(Dependency).pk]),
    }
    for target in CoverageTarget.objects.filter(is_active=True).order_by("code"):
        url = reverse("benefits:target_detail", args=[target.code])
        pages[f"target {target.code}"] = url
        pages[f"target {target.code}, page 2"] = url + "?page=2"
        pages[f"target {target.code}, growing"] = f"{url}?scope=municipality:{place.number}"
        pages[f"target {target.code}, filtered and sorted"] = (
            f"{url}?scope=municipality:{place.number}&q=vekst&ordering=-name&page_size=25"
        )
    return pages


def _small_place() -> Municipality:
    """The municipality of today in one area with the fewest organisations: its lists are
    not yet a full page, so the rows added there show on them."""
    return (
        Municipality.objects.current()
        .annotate(n=Count("organisations", distinct=True), areas=Count("catchments", distinct=True))
        .filter(areas=1)
        .order_by("n", "number")
        .first()
    )


def _copy(obj, **changes):
    """A new row like `obj` (its many-to-many relations too), with `changes`."""
    many = {f.name: list(getattr(obj, f.name).all()) for f in obj._meta.many_to_many}
    obj.pk = obj.id = None
    obj._state.adding = True
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()
    for name, values in many.items():
        getattr(obj, name).set(values)
    return obj


def _grow(users, place: Municipality, n: int) -> None:
    """`n` more of every kind of row the pages list, in the places they show: organisations
    of each type in `place` with statuses and history (in use for half of them, planned for
    the others), registry changes of the first of them, copies of agreements, reports,
    governance entries, dependencies and jobs."""
    new = []
    for kind in OrganisationType.objects.all():
        new += OrganisationFactory.create_batch(n, municipality=place, type=kind, name="Vekst")
    ids = [o.pk for o in new]
    for solution in Solution.objects.all():
        for status, chosen in ((Status.PLANNING, ids), (Status.IN_USE, ids[::2])):
            rollout_services.statuses_bulk_change(
                user=SYSTEM_USER,
                organisation_ids=chosen,
                solution=solution,
                to_status=status,
                reason="vekst",
                effective_date=datetime.date(2024, 1, 1),
                override_reason="vekst",
            )
    organisation = _first(Organisation, name__startswith="Vekst")
    for i in range(n):  # its registry history grows past a page
        organisation = actor_services.organisation_update(
            user=SYSTEM_USER,
            organisation_id=organisation.pk,
            expected_version=organisation.version,
            name=f"Vekst {i}",
        )
    for model in (IntentAgreement, ReadinessReport, BenefitReport, ChangeLogEntry, CutListItem):
        for original in list(model.objects.order_by("pk")[:n]):
            _copy(original)
    for original in list(DecisionPoint.objects.order_by("pk")[:n]):
        _copy(original, title=f"{original.title} (kopi)")
    for i, original in enumerate(list(Dependency.objects.order_by("pk")[:1]) * n):
        _copy(original, name=f"{original.name} {n} {i}")
    for user in users.values():
        for _ in range(n):
            Job.objects.create(kind=Job.Kind.COVERAGE_RECOMPUTE, created_by=user)


def _count(client, url: str) -> tuple[int, int]:
    """The answer's status code and the number of queries it took, counted afresh: the
    rollout matrix caches its counts (a count from the cache would compare with one that
    is not)."""
    cache.delete(MATRIX_VERSION_KEY)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response.status_code, len(_without_session_renewal(captured.captured_queries))


def _without_session_renewal(queries: list[dict]) -> list[str]:
    """The queries but the session's renewal (actors.security: its UPDATE in a savepoint,
    written at most once a minute on whichever request comes then)."""
    sql = [q["sql"] for q in queries]
    kept = []
    for i, statement in enumerate(sql):
        renewal = statement.startswith('UPDATE "django_session"')
        before = i + 1 < len(sql) and sql[i + 1].startswith('UPDATE "django_session"')
        after = i > 0 and sql[i - 1].startswith('UPDATE "django_session"')
        if renewal or (before and "SAVEPOINT" in statement) or (after and "SAVEPOINT" in statement):
            continue
        kept.append(statement)
    return kept


@pytest.fixture(scope="module")
def counts(django_db_setup, django_db_blocker):
    """{(user, page): [(status, queries) on the demo, (status, queries) after growing it]},
    in one transaction rolled back at the end."""
    result = {}
    with django_db_blocker.unblock(), transaction.atomic():
        name = connection.settings_dict["NAME"]  # never count on a real database
        assert name.startswith("test_") or "memory" in name, f"not a test database: {name}"
        call_command("seed_demo", seed=1, no_coverage_history=True, verbosity=0)
        users = {kind: UserFactory(username=kind, **ROLE_USERS[kind]) for kind in USERS}
        clients = {kind: client_for(user) for kind, user in users.items()}
        place = _small_place()
        _grow(users, place, 1)  # every growing list has a row before the first count
        pages = _pages(place, _first(Organisation, name__startswith="Vekst"))
        for kind, client in clients.items():
            for name, url in pages.items():
                client.get(url)  # warm caches that are not the data's
                result[kind, name] = [_count(client, url)]
        _grow(users, place, GROWTH)
        for kind, client in clients.items():
            for name, url in pages.items():
                result[kind, name].append(_count(client, url))
        transaction.set_rollback(True)
    return result


def _cases():
    names = [
        "organisations",
        "organisations, page 3 by municipality",
        "organisations, growing",
        "organisations, sorted by a header",
        "statuses, sorted by a header",
        "municipalities",
        "municipalities, a past day",
        "health-trust areas",
        "rollout matrix",
        "statuses",
        "statuses, page 3 in use",
        "statuses, growing",
        "statuses, a past day",
        "readiness reports",
        "agreements",
        "agreements, page 2",
        "agreement coverage",
        "benefit register",
        "benefit overview",
        "target dashboard",
        "decision points",
        "decision schedule",
        "change log",
        "cut list",
        "dependencies",
        "reminders",
        "organisation",
        "municipality",
        "municipality, a type's second page",
        "health-trust area",
        "solution",
        "readiness report",
        "agreement",
        "benefit",
        "benefit report",
        "decision point",
        "dependency",
        "targets",
    ]
    return [(kind, name) for kind in USERS for name in names]


@pytest.mark.parametrize(("kind", "page"), _cases())
def test_query_count_does_not_grow_with_the_data(db, counts, kind, page):
    measured = {
        name: pair
        for (who, name), pair in counts.items()
        if who == kind and (name == page or (page == "targets" and name.startswith("target ")))
    }
    assert measured, page
    for name, ((status, before), (status_after, after)) in measured.items():
        assert status == status_after == 200, name
        assert after == before, f"{name} as {kind}: {before} queries, then {after}"
