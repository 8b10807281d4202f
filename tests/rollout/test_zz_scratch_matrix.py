import json

import pytest
from django.urls import reverse

from actors.models import Municipality
from rollout import services
from rollout.models import Solution
from actors.scoping import SYSTEM_USER
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
ROLES = ["anon", "norole", "contact", "coord_area", "coord_nat", "directorate", "admin"]


def objects(make_user):
    from tests.factories import UserFactory

    admin = UserFactory(username="setup_admin", role="admin", is_superuser=True)
    o = {}
    o["org_in"] = OrganisationFactory(municipality__number="4601")
    o["org_out"] = OrganisationFactory(municipality__number="5401")
    kj = Solution.objects.get(code="kjernejournal")
    pll = Solution.objects.get(code="pll")
    dd = Solution.objects.get(code="datadeling")
    o["pll"] = pll
    for rel in ("in", "out"):
        o[f"status_{rel}"] = services.status_change(
            user=SYSTEM_USER, organisation=o[f"org_{rel}"], solution=kj, to_status="planlegging"
        )
        from rollout.models import StatusChange

        o[f"change_{rel}"] = StatusChange.objects.filter(organisation=o[f"org_{rel}"]).first()
        trust = "helse-bergen" if rel == "in" else "unn"
        from actors.models import HealthTrust

        o[f"area_{rel}"] = services.area_rollout_update(
            user=SYSTEM_USER,
            solution=pll,
            health_trust=HealthTrust.objects.get(code=trust),
            expected_version=0,
        )
        mun = Municipality.objects.get(number="4601" if rel == "in" else "5401")
        o[f"report_{rel}"] = services.report_create(user=admin, solution=dd, municipality=mun)
        r = services.report_create(user=admin, solution=dd, municipality=mun)
        o[f"submitted_{rel}"] = services.report_submit(
            user=admin, report_id=r.pk, expected_version=1
        )
    return o


CASES = [
    ("solution-list", "get", None, None),
    ("solution-detail", "get", lambda o, r: [o["pll"].pk], None),
    (
        "solution-detail",
        "patch",
        lambda o, r: [o["pll"].pk],
        lambda o, r: {"national_phase": "planlegging"},
    ),
    ("solution-phase-history", "get", lambda o, r: [o["pll"].pk], None),
    ("arearollout-list", "get", None, None),
    (
        "arearollout-list",
        "post",
        None,
        lambda o, r: {
            "solution": "pll",
            "health_trust": "helse-bergen" if r == "in" else "unn",
            "__delete": r,
        },
    ),
    ("arearollout-detail", "get", lambda o, r: [o[f"area_{r}"].pk], None),
    (
        "arearollout-detail",
        "patch",
        lambda o, r: [o[f"area_{r}"].pk],
        lambda o, r: {"decision_note": "x"},
    ),
    (
        "arearollout-detail",
        "put",
        lambda o, r: [o[f"area_{r}"].pk],
        lambda o, r: {"decision_note": "x"},
    ),
    ("rolloutstatus-list", "get", None, None),
    (
        "rolloutstatus-list",
        "post",
        None,
        lambda o, r: {
            "organisation": o[f"org_{r}"].orgnr,
            "solution": "sfm",
            "status": "planlegging",
        },
    ),
    ("rolloutstatus-detail", "get", lambda o, r: [o[f"status_{r}"].pk], None),
    (
        "rolloutstatus-detail",
        "patch",
        lambda o, r: [o[f"status_{r}"].pk],
        lambda o, r: {"status": "teknisk_klar"},
    ),
    (
        "rolloutstatus-bulk",
        "post",
        None,
        lambda o, r: {
            "solution": "kjernejournal",
            "organisations": [o[f"org_{r}"].orgnr],
            "status": "teknisk_klar",
        },
    ),
    ("statuschange-list", "get", None, None),
    ("statuschange-detail", "get", lambda o, r: [o[f"change_{r}"].pk], None),
    ("readinessreport-list", "get", None, None),
    (
        "readinessreport-list",
        "post",
        None,
        lambda o, r: {"solution": "pll", "municipality": "4601" if r == "in" else "5401"},
    ),
    ("readinessreport-detail", "get", lambda o, r: [o[f"report_{r}"].pk], None),
    (
        "readinessreport-detail",
        "patch",
        lambda o, r: [o[f"report_{r}"].pk],
        lambda o, r: {"answers": [{"id": 999999, "answer": "klar"}]},
    ),
    ("readinessreport-submit", "post", lambda o, r: [o[f"report_{r}"].pk], None),
    (
        "readinessreport-review",
        "post",
        lambda o, r: [o[f"submitted_{r}"].pk],
        lambda o, r: {"approve": True},
    ),
]


@pytest.mark.parametrize("rel", ["in", "out"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_scratch(case, role, rel, make_user):
    route, method, args, data = case
    o = objects(make_user)
    if route == "arearollout-list" and method == "post":
        o[f"area_{rel}"].__class__.objects.filter(pk=o[f"area_{rel}"].pk).delete()
    user = None if role == "anon" else make_user(role)
    client = api_client_for(user)
    url = reverse(route, args=args(o, rel) if args else None)
    kwargs = {}
    if data:
        d = data(o, rel)
        d.pop("__delete", None)
        kwargs = {"data": d, "format": "json"}
    target = None
    if args:
        key = args(o, rel)[0]
    headers = {}
    if method in ("patch", "put") or route in ("readinessreport-submit", "readinessreport-review"):
        # version of target
        from rollout.models import AreaRollout, ReadinessReport, RolloutStatus, Solution

        model = {
            "solution": Solution,
            "arearollout": AreaRollout,
            "rolloutstatus": RolloutStatus,
            "readinessreport": ReadinessReport,
        }[route.split("-")[0]]
        headers["HTTP_IF_MATCH"] = f'"{model.objects.get(pk=key).version}"'
    response = getattr(client, method)(url, **kwargs, **headers)
    with open("/tmp/scratch/matrix.jsonl", "a") as f:
        f.write(
            json.dumps(
                {
                    "route": route,
                    "method": method,
                    "rel": rel,
                    "role": role,
                    "status": response.status_code,
                    "body": response.content.decode()[:200],
                }
            )
            + "\n"
        )
