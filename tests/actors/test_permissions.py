"""The permission matrix: (route, relation of the object to the user, action) → outcome
for every role. A meta-test walks the URL resolver and fails when a named route has no
entry, so a new endpoint is denied until someone decides who may use it.

Roles (tests/conftest.py): anon, norole, contact (kommunekontakt for Bergen 4601),
coord_area (koordinator for Helse Bergen), coord_nat (national koordinator),
directorate, admin. "in" objects are in Bergen / Helse Bergen; "out" objects are in
Tromsø / UNN, outside both the contact's and the area coordinator's reach.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from actors.models import HealthTrust, Municipality
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory, valid_orgnr

ROLES = ["anon", "norole", "contact", "coord_area", "coord_nat", "directorate", "admin"]
LOGIN = 302  # an anonymous browser is sent to the login page


def everyone(status, anon=LOGIN):
    return {"anon": anon, **dict.fromkeys(ROLES[1:], status)}


def by_role(anon=LOGIN, **statuses):
    assert set(statuses) == set(ROLES[1:]), f"decide every role: {set(ROLES[1:]) - set(statuses)}"
    return {"anon": anon, **statuses}


SCOPED_IN = dict(norole=404, contact=200, coord_area=200, coord_nat=200, directorate=200, admin=200)
SCOPED_OUT = dict(
    norole=404, contact=404, coord_area=404, coord_nat=200, directorate=200, admin=200
)
EDIT_IN = dict(norole=404, contact=200, coord_area=200, coord_nat=200, directorate=404, admin=200)
EDIT_OUT = dict(norole=404, contact=404, coord_area=404, coord_nat=200, directorate=404, admin=200)
CAN_EDIT = dict(norole=403, contact=200, coord_area=200, coord_nat=200, directorate=403, admin=200)
IMPORT = dict(norole=403, contact=403, coord_area=200, coord_nat=200, directorate=403, admin=200)
REFERENCE = dict(norole=404, contact=200, coord_area=200, coord_nat=200, directorate=200, admin=200)
API_READ = everyone(200, anon=403)


@dataclass
class Case:
    route: str
    expected: dict
    method: str = "get"
    args: object = None  # callable(objects) -> reverse args
    data: object = None  # callable(objects) -> request body
    api: bool = False
    if_match: bool = False
    id: str = ""
    headers: dict = field(default_factory=dict)


def org(rel):
    return lambda o: [o[f"org_{rel}"].pk]


def new_org_in(municipality):
    def data(o):
        return {
            "name": "Ny virksomhet",
            "type": "fastlegekontor",
            "orgnr": valid_orgnr(7777),
            "municipality": municipality,
        }

    return data


CASES = [
    Case("login", {**everyone(302), "anon": 200}),
    Case("logout", everyone(302, anon=302), method="post"),
    Case("actors:home", everyone(200)),
    Case("actors:municipality_list", everyone(200)),
    Case("actors:municipality_detail", by_role(**SCOPED_IN), args=lambda o: ["4601"], id="in"),
    Case("actors:municipality_detail", by_role(**SCOPED_OUT), args=lambda o: ["5401"], id="out"),
    Case("actors:healthtrust_list", everyone(200)),
    Case(
        "actors:healthtrust_detail", by_role(**SCOPED_IN), args=lambda o: ["helse-bergen"], id="in"
    ),
    Case("actors:healthtrust_detail", by_role(**SCOPED_OUT), args=lambda o: ["unn"], id="out"),
    Case("actors:organisation_list", everyone(200)),
    Case("actors:organisation_detail", by_role(**SCOPED_IN), args=org("in"), id="in"),
    Case("actors:organisation_detail", by_role(**SCOPED_OUT), args=org("out"), id="out"),
    Case("actors:organisation_edit", by_role(**EDIT_IN), args=org("in"), id="in"),
    Case("actors:organisation_edit", by_role(**EDIT_OUT), args=org("out"), id="out"),
    Case(
        "actors:organisation_edit",
        by_role(**EDIT_OUT),
        method="post",
        args=org("out"),
        data=lambda o: {"name": "Overtatt"},
        id="post-out",
    ),
    Case("actors:organisation_create", by_role(**CAN_EDIT)),
    Case("actors:organisation_import", by_role(**IMPORT)),
    Case("api-schema", API_READ, api=True),
    Case("api-docs", API_READ, api=True),
    Case("api-root", API_READ, api=True),
    Case("rha-list", API_READ, api=True),
    Case("rha-detail", by_role(403, **REFERENCE), api=True, args=lambda o: [o["rha"].pk]),
    Case("county-list", API_READ, api=True),
    Case("county-detail", by_role(403, **REFERENCE), api=True, args=lambda o: [o["county"].pk]),
    Case("healthtrust-list", API_READ, api=True),
    Case(
        "healthtrust-detail",
        by_role(403, **SCOPED_IN),
        api=True,
        args=lambda o: [o["trust_in"].pk],
        id="in",
    ),
    Case(
        "healthtrust-detail",
        by_role(403, **SCOPED_OUT),
        api=True,
        args=lambda o: [o["trust_out"].pk],
        id="out",
    ),
    Case("municipality-list", API_READ, api=True),
    Case(
        "municipality-detail",
        by_role(403, **SCOPED_IN),
        api=True,
        args=lambda o: [o["bergen"].pk],
        id="in",
    ),
    Case(
        "municipality-detail",
        by_role(403, **SCOPED_OUT),
        api=True,
        args=lambda o: [o["tromso"].pk],
        id="out",
    ),
    Case("vendor-list", API_READ, api=True),
    Case("vendor-detail", API_READ, api=True, args=lambda o: [o["vendor"].pk]),
    Case("organisation-list", API_READ, api=True),
    Case("organisation-detail", by_role(403, **SCOPED_IN), api=True, args=org("in"), id="in"),
    Case("organisation-detail", by_role(403, **SCOPED_OUT), api=True, args=org("out"), id="out"),
    Case(
        "organisation-detail",
        by_role(
            403, norole=403, contact=200, coord_area=200, coord_nat=200, directorate=403, admin=200
        ),
        api=True,
        method="patch",
        args=org("in"),
        data=lambda o: {"name": "Nytt navn"},
        if_match=True,
        id="patch-in",
    ),
    Case(
        "organisation-detail",
        by_role(
            403, norole=403, contact=404, coord_area=404, coord_nat=200, directorate=403, admin=200
        ),
        api=True,
        method="patch",
        args=org("out"),
        data=lambda o: {"name": "Overtatt"},
        if_match=True,
        id="patch-out",
    ),
    Case(
        "organisation-list",
        by_role(
            403, norole=403, contact=201, coord_area=201, coord_nat=201, directorate=403, admin=201
        ),
        api=True,
        method="post",
        data=new_org_in("4601"),
        id="create-in",
    ),
    Case(
        "organisation-list",
        by_role(
            403, norole=403, contact=400, coord_area=400, coord_nat=201, directorate=403, admin=201
        ),
        api=True,
        method="post",
        data=new_org_in("5401"),
        id="create-out",
    ),
]

REVIEW_IN = dict(norole=404, contact=403, coord_area=302, coord_nat=302, directorate=404, admin=302)
REVIEW_OUT = dict(
    norole=404, contact=404, coord_area=404, coord_nat=302, directorate=404, admin=302
)
AREA_EDIT_IN = dict(
    norole=404, contact=403, coord_area=200, coord_nat=200, directorate=404, admin=200
)
WRITES_REPORTS = dict(
    norole=403, contact=200, coord_area=200, coord_nat=200, directorate=403, admin=200
)
BULK_IN = dict(norole=403, contact=302, coord_area=302, coord_nat=302, directorate=403, admin=302)
BULK_OUT = dict(norole=403, contact=404, coord_area=404, coord_nat=302, directorate=403, admin=302)


def status_page(rel):
    return lambda o: [o[f"org_{rel}"].pk, "kjernejournal"]


def bulk(rel):
    return lambda o: {
        "solution": "kjernejournal",
        "organisations": [o[f"org_{rel}"].pk],
        "to_status": "planlegging",
    }


def report(rel):
    return lambda o: [o[f"report_{rel}"].pk]


CASES += [
    Case("rollout:matrix", everyone(200)),
    Case("rollout:solution_detail", everyone(200), args=lambda o: ["pll"]),
    Case("rollout:status_list", everyone(200)),
    Case("rollout:status_list", by_role(**BULK_IN), method="post", data=bulk("in"), id="bulk-in"),
    Case(
        "rollout:status_list", by_role(**BULK_OUT), method="post", data=bulk("out"), id="bulk-out"
    ),
    Case("rollout:status_change", by_role(**EDIT_IN), args=status_page("in"), id="in"),
    Case("rollout:status_change", by_role(**EDIT_OUT), args=status_page("out"), id="out"),
    Case(
        "rollout:status_change",
        by_role(**{**EDIT_OUT, "coord_nat": 302, "admin": 302}),
        method="post",
        args=status_page("out"),
        data=lambda o: {"to_status": "planlegging", "version": "0"},
        id="post-out",
    ),
    Case("rollout:status_import", by_role(**CAN_EDIT)),
    Case(
        "rollout:area_detail", by_role(**SCOPED_IN), args=lambda o: ["pll", "helse-bergen"], id="in"
    ),
    Case("rollout:area_detail", by_role(**SCOPED_OUT), args=lambda o: ["pll", "unn"], id="out"),
    Case(
        "rollout:area_edit",
        by_role(**AREA_EDIT_IN),
        args=lambda o: ["pll", "helse-bergen"],
        id="in",
    ),
    Case(
        "rollout:area_edit",
        by_role(**{**EDIT_OUT, "contact": 404}),
        args=lambda o: ["pll", "unn"],
        id="out",
    ),
    Case("rollout:report_list", everyone(200)),
    Case("rollout:report_create", by_role(**WRITES_REPORTS)),
    Case("rollout:report_detail", by_role(**SCOPED_IN), args=report("in"), id="in"),
    Case("rollout:report_detail", by_role(**SCOPED_OUT), args=report("out"), id="out"),
    Case(
        "rollout:report_review",
        by_role(**REVIEW_IN),
        method="post",
        args=report("in"),
        data=lambda o: {"decision": "approve", "version": o["report_in"].version},
        id="in",
    ),
    Case(
        "rollout:report_review",
        by_role(**REVIEW_OUT),
        method="post",
        args=report("out"),
        data=lambda o: {"decision": "approve", "version": o["report_out"].version},
        id="out",
    ),
]

# Routes outside the matrix, and why.
EXEMPT = {
    "admin": "Django admin: staff only, checked by test_admin_is_for_staff_only",
}


@pytest.fixture
def objects(db):
    from actors.models import County, RegionalHealthAuthority, Vendor

    from actors.choices import Role
    from rollout import services as rollout_services
    from rollout.models import Solution
    from tests.factories import UserFactory

    def submitted_report(number):
        author = UserFactory(
            username=f"author-{number}", role=Role.MUNICIPALITY_CONTACT, municipalities=[number]
        )
        report = rollout_services.report_create(
            user=author,
            solution=Solution.objects.get(code="datadeling"),  # no checklist: submits at once
            municipality=Municipality.objects.get(number=number),
        )
        return rollout_services.report_submit(
            user=author, report_id=report.pk, expected_version=report.version
        )

    return {
        "org_in": OrganisationFactory(municipality__number="4601"),
        "org_out": OrganisationFactory(municipality__number="5401"),
        "report_in": submitted_report("4601"),
        "report_out": submitted_report("5401"),
        "bergen": Municipality.objects.get(number="4601"),
        "tromso": Municipality.objects.get(number="5401"),
        "trust_in": HealthTrust.objects.get(code="helse-bergen"),
        "trust_out": HealthTrust.objects.get(code="unn"),
        "rha": RegionalHealthAuthority.objects.first(),
        "county": County.objects.first(),
        "vendor": Vendor.objects.create(name="Testleverandør"),
    }


def _params():
    for case in CASES:
        for role in ROLES:
            name = f"{case.route}-{case.method}{'-' + case.id if case.id else ''}-{role}"
            yield pytest.param(case, role, id=name)


@pytest.mark.parametrize(("case", "role"), list(_params()))
def test_permission_matrix(case, role, objects, make_user):
    user = None if role == "anon" else make_user(role)
    url = reverse(case.route, args=case.args(objects) if case.args else None)
    client = (api_client_for if case.api else client_for)(user)
    kwargs = {}
    if case.data:
        kwargs["data"] = case.data(objects)
        if case.api:
            kwargs["format"] = "json"
    if case.if_match:
        target = objects["org_in"] if case.id.endswith("-in") else objects["org_out"]
        kwargs["HTTP_IF_MATCH"] = f'"{target.version}"'
    response = getattr(client, case.method)(url, **kwargs)
    assert response.status_code == case.expected[role], (
        f"{role} {case.method.upper()} {url}: expected {case.expected[role]}, "
        f"got {response.status_code}"
    )


def _route_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            if ns in EXEMPT:
                continue
            prefix = f"{namespace}{ns}:" if ns else namespace
            yield from _route_names(pattern, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_route_has_a_matrix_entry():
    covered = {case.route for case in CASES}
    missing = sorted(set(_route_names()) - covered)
    assert not missing, f"routes without a permission-matrix entry: {missing}"


def test_every_case_decides_every_role():
    for case in CASES:
        assert set(case.expected) == set(ROLES), case.route


def test_admin_is_for_staff_only(make_user):
    for role in ["norole", "contact", "coord_area", "coord_nat", "directorate"]:
        response = client_for(make_user(role)).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], role
    assert client_for(make_user("admin")).get("/admin/").status_code == 200
