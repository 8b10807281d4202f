"""The permission matrix: (route, relation of the object to the user, action) → outcome
for every role. A meta-test walks the URL resolver and fails when a named route has no
entry, so a new endpoint is denied until someone decides who may use it.

Roles (tests/conftest.py): anon, norole, contact (kommunekontakt for Bergen 4601),
coord_area (koordinator for Helse Bergen), coord_nat (national koordinator),
directorate, admin. "in" objects are in Bergen / Helse Bergen; "out" objects are in
Tromsø / UNN, outside both the contact's and the area coordinator's reach.

A signed-in user without a role is sent from every HTML page to /ingen-tilgang/
(actors.access_middleware), except the pages anyone reaches (sign-in, invitations, health):
the test applies that rule to every HTML case, so the cases' "norole" entries decide the
API's answers and those open pages only.
"""

import datetime
import sys
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from actors.access import access_etag
from actors.access_middleware import OPEN_PREFIXES
from actors.models import HealthTrust, Municipality
from tests.benefits import matrix_decisions, matrix_dependencies
from tests.conftest import ROLE_USERS, api_client_for, client_for
from tests.factories import OrganisationFactory, valid_orgnr
from tests.pdfs import clean_pdf
from tests.rollout import matrix_corrections, matrix_readiness

ROLES = ["anon", "norole", "contact", "coord_area", "coord_nat", "directorate", "admin"]
LOGIN = 302  # an anonymous browser is sent to the login page; an API call gets 401
NO_ROLE = 302  # a signed-in browser without a role is sent to /ingen-tilgang/


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
API_READ = everyone(200, anon=401)
INTEGRITY_READ = dict(
    norole=403, contact=403, coord_area=403, coord_nat=200, directorate=403, admin=200
)
INTEGRITY_WRITE = {**INTEGRITY_READ, "coord_nat": 403, "admin": 302}


@dataclass
class Case:
    route: str
    expected: dict
    method: str = "get"
    args: object = None  # callable(objects) -> reverse args
    data: object = None  # callable(objects) -> request body
    api: bool = False
    if_match: object = None  # callable(objects) -> the version to send in If-Match
    id: str = ""
    headers: dict = field(default_factory=dict)


def version(key):
    return lambda o: o[key].version


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
    # The load balancer's check needs no login; the detailed page is for administrators.
    Case("health", everyone(200, anon=200)),
    Case("health_detail", by_role(**{**dict.fromkeys(ROLES[1:], 404), "admin": 200})),
    Case("actors:home", by_role(**{**dict.fromkeys(ROLES[1:], 200), "directorate": 302})),
    Case("actors:municipality_list", everyone(200)),
    Case("actors:municipality_detail", by_role(**SCOPED_IN), args=lambda o: ["4601"], id="in"),
    Case("actors:municipality_detail", by_role(**SCOPED_OUT), args=lambda o: ["5501"], id="out"),
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
    Case("actors:structure_changes", by_role(**{**dict.fromkeys(ROLES[1:], 403), "admin": 200})),
    Case(
        "actors:structure_change_apply",
        by_role(**{**dict.fromkeys(ROLES[1:], 403), "admin": 302}),
        method="post",
        data=lambda o: {},
    ),
    Case("api-schema", API_READ, api=True),
    Case("api-docs", API_READ, api=True),
    Case("api-root", API_READ, api=True),
    Case("rha-list", API_READ, api=True),
    Case("rha-detail", by_role(401, **REFERENCE), api=True, args=lambda o: [o["rha"].pk]),
    Case("county-list", API_READ, api=True),
    Case("county-detail", by_role(401, **REFERENCE), api=True, args=lambda o: [o["county"].pk]),
    Case("healthtrust-list", API_READ, api=True),
    Case(
        "healthtrust-detail",
        by_role(401, **SCOPED_IN),
        api=True,
        args=lambda o: [o["trust_in"].pk],
        id="in",
    ),
    Case(
        "healthtrust-detail",
        by_role(401, **SCOPED_OUT),
        api=True,
        args=lambda o: [o["trust_out"].pk],
        id="out",
    ),
    Case("municipality-list", API_READ, api=True),
    Case(
        "municipality-detail",
        by_role(401, **SCOPED_IN),
        api=True,
        args=lambda o: [o["bergen"].pk],
        id="in",
    ),
    Case(
        "municipality-detail",
        by_role(401, **SCOPED_OUT),
        api=True,
        args=lambda o: [o["tromso"].pk],
        id="out",
    ),
    Case("vendor-list", API_READ, api=True),
    Case("vendor-detail", API_READ, api=True, args=lambda o: [o["vendor"].pk]),
    Case("organisation-list", API_READ, api=True),
    Case("organisation-detail", by_role(401, **SCOPED_IN), api=True, args=org("in"), id="in"),
    Case("organisation-detail", by_role(401, **SCOPED_OUT), api=True, args=org("out"), id="out"),
    Case(
        "organisation-detail",
        by_role(
            401, norole=403, contact=200, coord_area=200, coord_nat=200, directorate=403, admin=200
        ),
        api=True,
        method="patch",
        args=org("in"),
        data=lambda o: {"name": "Nytt navn"},
        if_match=version("org_in"),
        id="patch-in",
    ),
    Case(
        "organisation-detail",
        by_role(
            401, norole=403, contact=404, coord_area=404, coord_nat=200, directorate=403, admin=200
        ),
        api=True,
        method="patch",
        args=org("out"),
        data=lambda o: {"name": "Overtatt"},
        if_match=version("org_out"),
        id="patch-out",
    ),
    Case(
        "organisation-list",
        by_role(
            401, norole=403, contact=201, coord_area=201, coord_nat=201, directorate=403, admin=201
        ),
        api=True,
        method="post",
        data=new_org_in("4601"),
        id="create-in",
    ),
    Case(
        "organisation-list",
        by_role(
            401, norole=403, contact=400, coord_area=400, coord_nat=201, directorate=403, admin=201
        ),
        api=True,
        method="post",
        data=new_org_in("5501"),
        id="create-out",
    ),
]

# The registry history: per organisation (scoped like the organisation) and as a feed.
CASES += [
    Case("organisation-history", by_role(401, **SCOPED_IN), api=True, args=org("in"), id="in"),
    Case("organisation-history", by_role(401, **SCOPED_OUT), api=True, args=org("out"), id="out"),
    Case("organisationchange-list", API_READ, api=True),
    Case(
        "organisationchange-detail",
        by_role(401, **SCOPED_IN),
        api=True,
        args=lambda o: [o["regchange_in"].pk],
        id="in",
    ),
    Case(
        "organisationchange-detail",
        by_role(401, **SCOPED_OUT),
        api=True,
        args=lambda o: [o["regchange_out"].pk],
        id="out",
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
PREVIEW_IN = {**BULK_IN, "contact": 200, "coord_area": 200, "coord_nat": 200, "admin": 200}
PREVIEW_OUT = {**BULK_OUT, "coord_nat": 200, "admin": 200}


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
        data=lambda o: {"to_status": "teknisk_klar", "version": "1"},
        id="post-out",
    ),
    Case("rollout:status_import", by_role(**CAN_EDIT)),
    # The bulk change's preview (scoped like the bulk change), apply and result; without a
    # preview in the session, apply and result send the user back to the list.
    Case("rollout:bulk_preview", by_role(**PREVIEW_IN), method="post", data=bulk("in"), id="in"),
    Case("rollout:bulk_preview", by_role(**PREVIEW_OUT), method="post", data=bulk("out"), id="out"),
    Case("rollout:bulk_apply", by_role(**BULK_IN), method="post", data=lambda o: {"token": "x"}),
    Case("rollout:bulk_result", by_role(**BULK_IN)),
    Case(
        "rollout:area_detail", by_role(**SCOPED_IN), args=lambda o: ["pll", "helse-bergen"], id="in"
    ),
    Case("rollout:area_detail", by_role(**SCOPED_OUT), args=lambda o: ["pll", "unn"], id="out"),
    # The list of an area's actors is an htmx fragment; a browser is sent to the area page.
    Case(
        "rollout:area_actors",
        by_role(**{role: 302 if code == 200 else code for role, code in SCOPED_IN.items()}),
        args=lambda o: ["pll", "helse-bergen"],
        id="in",
    ),
    Case(
        "rollout:area_actors",
        by_role(**{role: 302 if code == 200 else code for role, code in SCOPED_OUT.items()}),
        args=lambda o: ["pll", "unn"],
        id="out",
    ),
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
    # The integrity check (issue 13): administrators run it and repair; national
    # coordinators read it; everyone else is refused.
    Case("rollout:integrity", by_role(**INTEGRITY_READ)),
    Case("rollout:integrity", by_role(**INTEGRITY_WRITE), method="post", id="run"),
    Case(
        "rollout:integrity_repair",
        by_role(**INTEGRITY_WRITE),
        method="post",
        data=lambda o: {"all": "1", "reason": "Matrix"},
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

WRITE_IN = dict(norole=403, contact=200, coord_area=200, coord_nat=200, directorate=403, admin=200)
WRITE_OUT = dict(norole=403, contact=404, coord_area=404, coord_nat=200, directorate=403, admin=200)
CREATE_IN = dict(norole=403, contact=201, coord_area=201, coord_nat=201, directorate=403, admin=201)
CREATE_OUT = dict(
    norole=403, contact=400, coord_area=400, coord_nat=201, directorate=403, admin=201
)
COORD_IN = {**WRITE_IN, "contact": 403}


def api(route, expected, **kw):
    return Case(route, by_role(401, **expected), api=True, **kw)


CASES += [
    Case("solution-list", API_READ, api=True),
    api("solution-detail", REFERENCE, args=lambda o: [o["pll"].pk]),
    api("solution-phase-history", REFERENCE, args=lambda o: [o["pll"].pk]),
    api(
        "solution-detail",
        {**WRITE_IN, "contact": 403, "coord_area": 403},
        method="patch",
        args=lambda o: [o["pll"].pk],
        data=lambda o: {"national_phase": "planlegging"},
        if_match=version("pll"),
        id="patch",
    ),
    Case("arearollout-list", API_READ, api=True),
    api("arearollout-detail", SCOPED_IN, args=lambda o: [o["area_in"].pk], id="in"),
    api("arearollout-detail", SCOPED_OUT, args=lambda o: [o["area_out"].pk], id="out"),
    api(
        "arearollout-detail",
        COORD_IN,
        method="patch",
        args=lambda o: [o["area_in"].pk],
        data=lambda o: {"planned_start": "2027-01-01"},
        if_match=version("area_in"),
        id="patch-in",
    ),
    api(
        "arearollout-detail",
        WRITE_OUT,
        method="patch",
        args=lambda o: [o["area_out"].pk],
        data=lambda o: {"planned_start": "2027-01-01"},
        if_match=version("area_out"),
        id="patch-out",
    ),
    api(
        "arearollout-list",
        CREATE_OUT,
        method="post",
        id="create-out",
        data=lambda o: {
            "solution": "pll",
            "health_trust": "finnmarkssykehuset",
            "phase": "planlegging",
        },
    ),
    Case("rolloutstatus-list", API_READ, api=True),
    api("rolloutstatus-detail", SCOPED_IN, args=lambda o: [o["status_in"].pk], id="in"),
    api("rolloutstatus-detail", SCOPED_OUT, args=lambda o: [o["status_out"].pk], id="out"),
    api(
        "rolloutstatus-detail",
        WRITE_IN,
        method="patch",
        args=lambda o: [o["status_in"].pk],
        data=lambda o: {"status": "teknisk_klar"},
        if_match=version("status_in"),
        id="patch-in",
    ),
    api(
        "rolloutstatus-detail",
        WRITE_OUT,
        method="patch",
        args=lambda o: [o["status_out"].pk],
        data=lambda o: {"status": "teknisk_klar"},
        if_match=version("status_out"),
        id="patch-out",
    ),
    api(
        "rolloutstatus-list",
        CREATE_IN,
        method="post",
        id="create-in",
        data=lambda o: {
            "organisation": o["org_in"].orgnr,
            "solution": "sfm",
            "status": "planlegging",
        },
    ),
    api(
        "rolloutstatus-list",
        CREATE_OUT,
        method="post",
        id="create-out",
        data=lambda o: {
            "organisation": o["org_out"].orgnr,
            "solution": "sfm",
            "status": "planlegging",
        },
    ),
    api(
        "rolloutstatus-bulk",
        WRITE_IN,
        method="post",
        id="in",
        data=lambda o: {
            "solution": "sfm",
            "organisations": [o["org_in"].orgnr],
            "status": "planlegging",
        },
    ),
    api(
        "rolloutstatus-bulk",
        {**WRITE_OUT, "contact": 400, "coord_area": 400},
        method="post",
        id="out",
        data=lambda o: {
            "solution": "sfm",
            "organisations": [o["org_out"].orgnr],
            "status": "planlegging",
        },
    ),
    Case("statuschange-list", API_READ, api=True),
    api("statuschange-detail", SCOPED_IN, args=lambda o: [o["change_in"].pk], id="in"),
    api("statuschange-detail", SCOPED_OUT, args=lambda o: [o["change_out"].pk], id="out"),
    Case("readinessreport-list", API_READ, api=True),
    api(
        "readinessreport-list",
        CREATE_IN,
        method="post",
        id="create-in",
        data=lambda o: {"solution": "datadeling", "municipality": "4601"},
    ),
    api("readinessreport-detail", SCOPED_IN, args=report("in"), id="in"),
    api("readinessreport-detail", SCOPED_OUT, args=report("out"), id="out"),
    api(
        "readinessreport-detail",
        WRITE_IN,
        method="patch",
        args=lambda o: [o["checklist_in"].pk],
        data=lambda o: {
            "answers": [{"id": o["checklist_in"].answers.first().pk, "answer": "klar"}]
        },
        if_match=version("checklist_in"),
        id="patch-in",
    ),
    api(
        "readinessreport-submit",
        WRITE_IN,
        method="post",
        args=lambda o: [o["draft_in"].pk],
        if_match=version("draft_in"),
        id="in",
    ),
    api(
        "readinessreport-submit",
        WRITE_OUT,
        method="post",
        args=lambda o: [o["draft_out"].pk],
        if_match=version("draft_out"),
        id="out",
    ),
    api(
        "readinessreport-review",
        COORD_IN,
        method="post",
        args=report("in"),
        data=lambda o: {"approve": True},
        if_match=version("report_in"),
        id="in",
    ),
    api(
        "readinessreport-review",
        WRITE_OUT,
        method="post",
        args=report("out"),
        data=lambda o: {"approve": True},
        if_match=version("report_out"),
        id="out",
    ),
]

AGREEMENT_EDIT_IN = dict(
    norole=403, contact=403, coord_area=200, coord_nat=200, directorate=403, admin=200
)
AGREEMENT_EDIT_OUT = {**AGREEMENT_EDIT_IN, "coord_area": 404}
REVIEW_BENEFIT_IN = dict(
    norole=403, contact=403, coord_area=200, coord_nat=200, directorate=200, admin=200
)
REVIEW_BENEFIT_OUT = {**REVIEW_BENEFIT_IN, "coord_area": 404}
READ_WITH_ROLE = dict(
    norole=403, contact=200, coord_area=200, coord_nat=200, directorate=200, admin=200
)

CASES += [
    Case("intentagreement-list", API_READ, api=True),
    api("intentagreement-detail", SCOPED_IN, args=lambda o: [o["agreement_in"].pk], id="in"),
    api("intentagreement-detail", SCOPED_OUT, args=lambda o: [o["agreement_out"].pk], id="out"),
    api(
        "intentagreement-detail",
        AGREEMENT_EDIT_IN,
        method="patch",
        id="patch-in",
        args=lambda o: [o["agreement_in"].pk],
        data=lambda o: {"notes": "Oppdatert"},
        if_match=version("agreement_in"),
    ),
    api(
        "intentagreement-detail",
        AGREEMENT_EDIT_OUT,
        method="patch",
        id="patch-out",
        args=lambda o: [o["agreement_out"].pk],
        data=lambda o: {"notes": "Oppdatert"},
        if_match=version("agreement_out"),
    ),
    api(
        "intentagreement-list",
        {**AGREEMENT_EDIT_IN, "coord_area": 201, "coord_nat": 201, "admin": 201},
        method="post",
        id="create-in",
        data=lambda o: {"title": "Ny avtale", "status": "utkast", "municipalities": ["4601"]},
    ),
    api(
        "intentagreement-detail",
        {**AGREEMENT_EDIT_IN, "coord_area": 403},  # a party beyond the area: read-only
        method="patch",
        id="patch-shared",
        args=lambda o: [o["agreement_shared"].pk],
        data=lambda o: {"notes": "Oppdatert"},
        if_match=version("agreement_shared"),
    ),
    api("intentagreement-document", SCOPED_IN, args=lambda o: [o["agreement_in"].pk], id="in"),
    api("intentagreement-document", SCOPED_OUT, args=lambda o: [o["agreement_out"].pk], id="out"),
    api(
        "intentagreement-document-version",
        SCOPED_IN,
        args=lambda o: [o["agreement_in"].pk, o["agreement_in"].documents.get().pk],
        id="in",
    ),
    api(
        "intentagreement-document-version",
        SCOPED_OUT,
        args=lambda o: [o["agreement_out"].pk, o["agreement_out"].documents.get().pk],
        id="out",
    ),
    api("intentagreement-coverage", READ_WITH_ROLE),
    Case("intentagreement-export", API_READ, api=True),
    Case("benefitgoal-list", API_READ, api=True),
    api("benefitgoal-detail", REFERENCE, args=lambda o: [o["benefit"].goal_id]),
    Case("benefit-list", API_READ, api=True),
    api("benefit-detail", REFERENCE, args=lambda o: [o["benefit"].pk]),
    api("benefit-summary", REFERENCE, args=lambda o: [o["benefit"].pk]),
    Case("benefit-export", API_READ, api=True),
    Case("benefitreport-list", API_READ, api=True),
    api("benefitreport-detail", SCOPED_IN, args=lambda o: [o["breport_in"].pk], id="in"),
    api("benefitreport-detail", SCOPED_OUT, args=lambda o: [o["breport_out"].pk], id="out"),
    api(
        "benefitreport-detail",
        WRITE_IN,
        method="patch",
        id="patch-in",
        args=lambda o: [o["bdraft_in"].pk],
        data=lambda o: {"method": "Telling"},
        if_match=version("bdraft_in"),
    ),
    api(
        "benefitreport-submit",
        WRITE_IN,
        method="post",
        id="in",
        args=lambda o: [o["bdraft_in"].pk],
        if_match=version("bdraft_in"),
    ),
    api(
        "benefitreport-submit",
        WRITE_OUT,
        method="post",
        id="out",
        args=lambda o: [o["bdraft_out"].pk],
        if_match=version("bdraft_out"),
    ),
    api(
        "benefitreport-review",
        REVIEW_BENEFIT_IN,
        method="post",
        id="in",
        args=lambda o: [o["breport_in"].pk],
        data=lambda o: {"approve": True},
        if_match=version("breport_in"),
    ),
    api(
        "benefitreport-review",
        REVIEW_BENEFIT_OUT,
        method="post",
        id="out",
        args=lambda o: [o["breport_out"].pk],
        data=lambda o: {"approve": True},
        if_match=version("breport_out"),
    ),
    api(
        "benefitreport-list",
        {**CREATE_IN},
        method="post",
        id="create-in",
        data=lambda o: {
            "benefit": o["benefit"].pk,
            "municipality": "4601",
            "kind": "nullpunkt",
            "period_start": "2024-01-01",
            "period_end": "2024-02-01",
            "value": "12.5",
            "method": "Telling",
        },
    ),
]

HTML_AGREEMENT_EDIT_IN = dict(
    norole=404, contact=403, coord_area=200, coord_nat=200, directorate=404, admin=200
)
HTML_REPORT_WRITERS = dict(
    norole=403, contact=200, coord_area=200, coord_nat=200, directorate=403, admin=200
)
HTML_SUBMIT_IN = dict(
    norole=404, contact=302, coord_area=302, coord_nat=302, directorate=404, admin=302
)
HTML_SUBMIT_OUT = {**HTML_SUBMIT_IN, "contact": 404, "coord_area": 404}
HTML_REVIEW_IN = {**HTML_SUBMIT_IN, "contact": 403, "directorate": 302}
HTML_REVIEW_OUT = {**HTML_REVIEW_IN, "contact": 404, "coord_area": 404}


def pk_of(key):
    return lambda o: [o[key].pk]


CASES += [
    Case("benefits:agreement_list", everyone(200)),
    Case("benefits:benefit_register", everyone(200)),
    Case("benefits:overview", everyone(200)),
    Case("benefits:benefit_detail", everyone(200), args=pk_of("benefit")),
    Case("benefits:agreement_coverage", by_role(**{**SCOPED_IN, "norole": 403})),
    Case("benefits:agreement_create", by_role(**{**AGREEMENT_EDIT_IN, "coord_area": 200})),
    Case("benefits:agreement_detail", by_role(**SCOPED_IN), args=pk_of("agreement_in"), id="in"),
    Case("benefits:agreement_detail", by_role(**SCOPED_OUT), args=pk_of("agreement_out"), id="out"),
    Case("benefits:agreement_document", by_role(**SCOPED_IN), args=pk_of("agreement_in"), id="in"),
    Case(
        "benefits:agreement_document", by_role(**SCOPED_OUT), args=pk_of("agreement_out"), id="out"
    ),
    Case(
        "benefits:agreement_document_version",
        by_role(**SCOPED_IN),
        args=lambda o: [o["agreement_in"].pk, o["agreement_in"].documents.get().pk],
        id="in",
    ),
    Case(
        "benefits:agreement_document_version",
        by_role(**SCOPED_OUT),
        args=lambda o: [o["agreement_out"].pk, o["agreement_out"].documents.get().pk],
        id="out",
    ),
    Case(
        "benefits:agreement_edit",
        by_role(**{**HTML_AGREEMENT_EDIT_IN, "coord_area": 403}),
        args=pk_of("agreement_shared"),
        id="shared",
    ),
    Case(
        "benefits:agreement_edit",
        by_role(**HTML_AGREEMENT_EDIT_IN),
        args=pk_of("agreement_in"),
        id="in",
    ),
    Case(
        "benefits:agreement_edit",
        by_role(**{**EDIT_OUT, "directorate": 404}),
        args=pk_of("agreement_out"),
        id="out",
    ),
    Case("benefits:report_create", by_role(**HTML_REPORT_WRITERS)),
    Case("benefits:report_organisation_options", by_role(**HTML_REPORT_WRITERS)),
    Case("benefits:report_detail", by_role(**SCOPED_IN), args=pk_of("breport_in"), id="in"),
    Case("benefits:report_detail", by_role(**SCOPED_OUT), args=pk_of("breport_out"), id="out"),
    Case("benefits:report_attachment", by_role(**SCOPED_IN), args=pk_of("breport_in"), id="in"),
    Case("benefits:report_attachment", by_role(**SCOPED_OUT), args=pk_of("breport_out"), id="out"),
    Case("benefits:report_edit", by_role(**EDIT_IN), args=pk_of("bdraft_in"), id="in"),
    Case("benefits:report_edit", by_role(**EDIT_OUT), args=pk_of("bdraft_out"), id="out"),
    Case(
        "benefits:report_submit",
        by_role(**HTML_SUBMIT_IN),
        method="post",
        args=pk_of("bdraft_in"),
        data=lambda o: {"version": o["bdraft_in"].version},
        id="in",
    ),
    Case(
        "benefits:report_submit",
        by_role(**HTML_SUBMIT_OUT),
        method="post",
        args=pk_of("bdraft_out"),
        data=lambda o: {"version": o["bdraft_out"].version},
        id="out",
    ),
    Case(
        "benefits:report_review",
        by_role(**HTML_REVIEW_IN),
        method="post",
        args=pk_of("breport_in"),
        data=lambda o: {"decision": "approve", "version": o["breport_in"].version},
        id="in",
    ),
    Case(
        "benefits:report_review",
        by_role(**HTML_REVIEW_OUT),
        method="post",
        args=pk_of("breport_out"),
        data=lambda o: {"decision": "approve", "version": o["breport_out"].version},
        id="out",
    ),
]

# Coverage targets: figures for every role; places and who is missing within reach; the
# recomputation for coordinators, the directorate and admins; shared jobs for them too.
TARGET = "e-multidose-legekontor"
TARGET_READ = {**READ_WITH_ROLE}
TARGET_OUT = {**READ_WITH_ROLE, "contact": 404, "coord_area": 404}
RECOMPUTE_HTML = dict(
    norole=403, contact=403, coord_area=302, coord_nat=302, directorate=302, admin=302
)
RECOMPUTE_API = {**RECOMPUTE_HTML, **dict.fromkeys(["coord_area", "coord_nat", "directorate",
                                                    "admin"], 202)}  # fmt: skip
SHARED_JOB = {**READ_WITH_ROLE, "norole": 404, "contact": 404}
CASES += [
    Case("benefits:target_dashboard", by_role(**TARGET_READ)),
    Case("benefits:target_detail", by_role(**TARGET_READ), args=lambda o: [TARGET], id="in"),
    Case(
        "benefits:target_detail",
        by_role(**TARGET_OUT),
        args=lambda o: [TARGET],
        data=lambda o: {"scope": "area:unn"},
        id="out",
    ),
    Case(
        "benefits:target_recompute",
        by_role(**RECOMPUTE_HTML),
        method="post",
        data=lambda o: {"kind": "recompute"},
    ),
    Case("actors:job_status", by_role(**SHARED_JOB), args=pk_of("job")),
    Case("coveragetarget-list", API_READ | {"norole": 403}, api=True),
    api("coveragetarget-detail", TARGET_READ, args=lambda o: [TARGET]),
    api("coveragetarget-forecast", TARGET_READ, args=lambda o: [TARGET], id="in"),
    api(
        "coveragetarget-forecast",
        TARGET_OUT,
        args=lambda o: [TARGET],
        data=lambda o: {"scope": "area:unn"},
        id="out",
    ),
    api("coveragetarget-recompute", RECOMPUTE_API, method="post", data=lambda o: {}),
    api("coveragetarget-backfill", RECOMPUTE_API, method="post", data=lambda o: {}),
    api("coveragesnapshot-list", TARGET_READ, id="in"),
    api(
        "coveragesnapshot-list",
        {**TARGET_READ, "contact": 400, "coord_area": 400},
        data=lambda o: {"scope": "area:unn"},
        id="out",
    ),
    api("job-list", TARGET_READ),
    api("job-detail", {**SHARED_JOB, "norole": 403}, args=pk_of("job")),
]

# Status reports: everyone with a role has a report within reach (national for those who
# see everything); files of report jobs are their owner's only (here the directorate's).
REPORT_IN = {**READ_WITH_ROLE}
REPORT_OUT = {**READ_WITH_ROLE, "contact": 404, "coord_area": 404}
OWNER_ONLY = dict(
    norole=404, contact=404, coord_area=404, coord_nat=404, directorate=200, admin=404
)
IMPORT_JOB = {**OWNER_ONLY, "directorate": 404, "contact": 200, "admin": 200}
API_REPORT_IN = {**READ_WITH_ROLE, **dict.fromkeys(ROLES[2:], 202)}
API_REPORT_NATIONAL = {**API_REPORT_IN, "contact": 404, "coord_area": 404}


def report_post(scope, fmt="csv"):
    return lambda o: {"scope": scope, "format": fmt, "since": "2026-01-01"}


CASES += [
    Case("benefits:report_preview", by_role(**REPORT_IN), id="default"),
    Case(
        "benefits:report_preview",
        by_role(**REPORT_IN),
        data=lambda o: {"scope": "municipality:4601"},
        id="in",
    ),
    Case(
        "benefits:report_preview",
        by_role(**REPORT_OUT),
        data=lambda o: {"scope": "municipality:5501"},
        id="out",
    ),
    Case(
        "benefits:report_export",
        by_role(**REPORT_IN),
        method="post",
        data=report_post("municipality:4601"),
        id="in",
    ),
    Case(
        "benefits:report_export",
        by_role(**REPORT_OUT),
        method="post",
        data=report_post("municipality:5501"),
        id="out",
    ),
    Case("actors:job_download", by_role(**OWNER_ONLY), args=pk_of("report_job")),
    # An import job is its uploader's (here the contact's); admins see it, only the
    # uploader confirms (the checked file is gone here, so the confirmation is refused with a
    # message on the job's page).
    Case("actors:import_job", by_role(**IMPORT_JOB), args=pk_of("import_job")),
    Case(
        "actors:import_job_confirm",
        by_role(**{**IMPORT_JOB, "contact": 302, "admin": 403}),
        method="post",
        args=pk_of("import_job"),
    ),
    api(
        "report-list",
        API_REPORT_IN,
        method="post",
        data=lambda o: {"kind": "municipality", "scope": "municipality:4601", "format": "csv"},
        id="in",
    ),
    api(
        "report-list",
        API_REPORT_NATIONAL,
        method="post",
        data=lambda o: {"kind": "national", "format": "csv"},
        id="national",
    ),
    api("job-download", {**OWNER_ONLY, "norole": 403}, args=pk_of("report_job")),
]

# Sign-in and one's own account (issue 19): open to everyone, whatever their access. The
# identity provider's views answer 404 while it is not configured (as in the tests); the
# second-factor page sends everyone home while ADMIN_REQUIRE_2FA is off.
CASES += [
    Case("no_access", by_role(**{**dict.fromkeys(ROLES[1:], 302), "norole": 403})),
    Case("two_factor", everyone(302)),
    Case("oidc_authentication_init", everyone(404, anon=404)),
    Case("oidc_authentication_callback", everyone(404, anon=404)),
    Case("password_reset", everyone(200, anon=200)),
    Case("password_reset_done", everyone(200, anon=200)),
    Case("password_reset_complete", everyone(200, anon=200)),
    # A link that is not valid says so on the page.
    Case("password_reset_confirm", everyone(200, anon=200), args=lambda o: ["MQ", "x-y"]),
]

# User administration (issue 19, actors.access): administrators and national coordinators
# manage everyone, but only administrators make administrators or change them; a coordinator
# for areas manages the contacts of the municipalities in their areas ("in": Bergen), gives
# only those municipalities and no other role ("out": a contact in Tromsø answers 404);
# contacts, the directorate and users without a role manage nobody (403). Every change a
# role may not make is refused (HTML: the form again, 200; API: 400 with the field).
MANAGES = dict(norole=403, contact=403, coord_area=200, coord_nat=200, directorate=403, admin=200)
MANAGES_OUT = {**MANAGES, "coord_area": 404}
CHANGES = {**MANAGES, **dict.fromkeys(["coord_area", "coord_nat", "admin"], 302)}
CHANGES_OUT = {**CHANGES, "coord_area": 404}
REFUSED_TO_AREA = {**CHANGES, "coord_area": 200}  # the form again, with the refusal
REFUSED_BELOW_ADMIN = {**REFUSED_TO_AREA, "coord_nat": 200}
API_CHANGES = MANAGES
API_REFUSED_TO_AREA = {**MANAGES, "coord_area": 400}
API_REFUSED_BELOW_ADMIN = {**API_REFUSED_TO_AREA, "coord_nat": 400}
CREATES = {**MANAGES, **dict.fromkeys(["coord_area", "coord_nat", "admin"], 201)}
CREATE_REFUSED_TO_AREA = {**CREATES, "coord_area": 400}
CREATE_REFUSED_BELOW_ADMIN = {**CREATE_REFUSED_TO_AREA, "coord_nat": 400}


def person(rel):
    return lambda o: [o[f"person_{rel}"].pk]


def etag_of(rel):
    """The version of the person's access (If-Match; the forms' `version`)."""
    return lambda o: access_etag(o[f"person_{rel}"])


def read(rel, data):
    """An access form's data as posted by someone who opened it just now."""
    return lambda o: {**data(o), "version": etag_of(rel)(o)}


def invitation(rel):
    return lambda o: [o[f"invitation_{rel}"].pk]


def grant(*numbers, role="municipality_contact", **extra):
    """The access asked for: `numbers` are municipality numbers (ids in the request)."""

    def data(o):
        ids = [m.pk for m in Municipality.objects.filter(number__in=numbers)]
        return {"role": role, "municipalities": ids, "reason": "Matrix", **extra}

    return data


def neighbour():
    """A municipality in Helse Bergen's catchment other than Bergen (as a number)."""
    return (
        Municipality.objects.filter(catchments__health_trust__code="helse-bergen")
        .exclude(number="4601")
        .order_by("number")
        .values_list("number", flat=True)[0]
    )


def grant_in_area(o):
    return grant("4601", neighbour())(o)


def invite(*numbers, role="municipality_contact", **extra):
    def data(o):
        return {**grant(*numbers, role=role, **extra)(o), "email": "ny@kommune.no", "name": "Ny"}

    return data


NATIONAL = {"national_scope": True}
ROLE_REFUSALS = [
    # (id, the access asked for, HTML outcome, API outcome, invitation outcome)
    ("coordinator", grant(role="coordinator", **NATIONAL), REFUSED_TO_AREA, API_REFUSED_TO_AREA,
     CREATE_REFUSED_TO_AREA),
    ("directorate", grant(role="directorate"), REFUSED_TO_AREA, API_REFUSED_TO_AREA,
     CREATE_REFUSED_TO_AREA),
    ("admin", grant(role="admin"), REFUSED_BELOW_ADMIN, API_REFUSED_BELOW_ADMIN,
     CREATE_REFUSED_BELOW_ADMIN),
]  # fmt: skip

CASES += [
    Case("users:list", by_role(**MANAGES)),
    Case("users:me", everyone(200)),
    Case("users:detail", by_role(**MANAGES), args=person("in"), id="in"),
    Case("users:detail", by_role(**MANAGES_OUT), args=person("out"), id="out"),
    Case("users:edit", by_role(**MANAGES), args=person("in"), id="in"),
    Case("users:edit", by_role(**MANAGES_OUT), args=person("out"), id="out"),
    Case(
        "users:edit",
        by_role(**CHANGES),
        method="post",
        args=person("in"),
        data=read("in", grant_in_area),
        id="post-in",
    ),
    Case(
        "users:edit",
        by_role(**CHANGES_OUT),
        method="post",
        args=person("out"),
        data=read("out", grant("5501", "4601")),
        id="post-out",
    ),
    Case(
        "users:edit",
        by_role(**REFUSED_TO_AREA),
        method="post",
        args=person("in"),
        data=read("in", grant("4601", "5501")),
        id="post-municipality-outside",
    ),
    *(
        Case(
            "users:edit",
            by_role(**html),
            method="post",
            args=person("in"),
            data=read("in", data),
            id=f"post-make-{name}",
        )
        for name, data, html, _api, _invite in ROLE_REFUSALS
    ),
    Case("users:remove", by_role(**MANAGES), args=person("in"), id="in"),
    Case(
        "users:remove",
        by_role(**CHANGES),
        method="post",
        args=person("in"),
        data=read("in", lambda o: {"reason": "Matrix"}),
        id="post-in",
    ),
    Case(
        "users:remove",
        by_role(**CHANGES_OUT),
        method="post",
        args=person("out"),
        data=read("out", lambda o: {"reason": "Matrix"}),
        id="post-out",
    ),
    Case("users:invite", by_role(**MANAGES)),
    Case("users:invite", by_role(**CHANGES), method="post", data=invite("4601"), id="post-in"),
    Case(
        "users:invite",
        by_role(**REFUSED_TO_AREA),
        method="post",
        data=invite("5501"),
        id="post-municipality-outside",
    ),
    *(
        Case(
            "users:invite",
            by_role(**html),
            method="post",
            data=lambda o, data=data: {**data(o), "email": "ny@kommune.no"},
            id=f"post-make-{name}",
        )
        for name, data, html, _api, _invite in ROLE_REFUSALS
    ),
    Case("users:invitations", by_role(**MANAGES)),
    Case("users:withdraw", by_role(**CHANGES), method="post", args=invitation("in"), id="in"),
    Case("users:withdraw", by_role(**CHANGES_OUT), method="post", args=invitation("out"), id="out"),
    # The invitation's link is for anyone; an unknown token answers 404.
    Case("users:accept", everyone(200, anon=200), args=lambda o: [o["invitation_token"]]),
    Case("users:accept", everyone(404, anon=404), args=lambda o: ["unknown"], id="unknown"),
    # The API: the same rules; users/me/ for everyone signed in.
    api("user-list", MANAGES),
    Case("user-me", API_READ, api=True),
    api("user-detail", MANAGES, args=person("in"), id="in"),
    api("user-detail", MANAGES_OUT, args=person("out"), id="out"),
    api("user-access-log", MANAGES, args=person("in"), id="in"),
    api("user-access-log", MANAGES_OUT, args=person("out"), id="out"),
    api(
        "user-access",
        API_CHANGES,
        method="put",
        args=person("in"),
        data=grant_in_area,
        if_match=etag_of("in"),
        id="in",
    ),
    api(
        "user-access",
        MANAGES_OUT,
        method="put",
        args=person("out"),
        data=grant("5501", "4601"),
        if_match=etag_of("out"),
        id="out",
    ),
    api(
        "user-access",
        API_REFUSED_TO_AREA,
        method="put",
        args=person("in"),
        data=grant("4601", "5501"),
        if_match=etag_of("in"),
        id="municipality-outside",
    ),
    *(
        api(
            "user-access",
            api_,
            method="put",
            args=person("in"),
            data=data,
            if_match=etag_of("in"),
            id=f"make-{name}",
        )
        for name, data, _html, api_, _invite in ROLE_REFUSALS
    ),
    api(
        "user-remove",
        API_CHANGES,
        method="post",
        args=person("in"),
        if_match=etag_of("in"),
        id="in",
    ),
    api(
        "user-remove",
        MANAGES_OUT,
        method="post",
        args=person("out"),
        if_match=etag_of("out"),
        id="out",
    ),
    api("invitation-list", MANAGES),
    api("invitation-list", CREATES, method="post", data=invite("4601"), id="create-in"),
    api(
        "invitation-list",
        CREATE_REFUSED_TO_AREA,
        method="post",
        data=invite("5501"),
        id="create-municipality-outside",
    ),
    *(
        api(
            "invitation-list",
            invite_,
            method="post",
            data=lambda o, data=data: {**data(o), "email": "ny@kommune.no"},
            id=f"create-{name}",
        )
        for name, data, _html, _api, invite_ in ROLE_REFUSALS
    ),
    api("invitation-detail", MANAGES, args=invitation("in"), id="in"),
    api("invitation-detail", MANAGES_OUT, args=invitation("out"), id="out"),
    api("invitation-withdraw", MANAGES, method="post", args=invitation("in"), id="in"),
    api("invitation-withdraw", MANAGES_OUT, method="post", args=invitation("out"), id="out"),
]

# Governance routes: each part of benefits.governance keeps its cases next to its tests.
CASES += matrix_decisions.cases(sys.modules[__name__])
CASES += matrix_dependencies.cases(sys.modules[__name__])
CASES += matrix_corrections.cases(sys.modules[__name__])
CASES += matrix_readiness.cases(sys.modules[__name__])

# Routes outside the matrix, and why.
EXEMPT = {
    "admin": "Django admin: staff only, checked by test_admin_is_for_staff_only",
}


def import_job():
    """A finished dry run of a status import by the contact, its checked file gone."""
    from actors.models import Job
    from tests.factories import UserFactory

    owner = UserFactory(username="contact", **ROLE_USERS["contact"])
    return Job.objects.create(
        kind=Job.Kind.STATUS_IMPORT,
        state=Job.State.DONE,
        created_by=owner,
        params={"dry_run": True, "file": "imports/gone/statuser.csv"},
        result={"report": {"ok": True}},
    )


def report_job():
    """A finished report job of the directorate user, with its file."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from actors.choices import Role
    from actors.models import Job
    from tests.factories import UserFactory

    owner = UserFactory(username="directorate", **ROLE_USERS["directorate"])
    job = Job.objects.create(kind=Job.Kind.REPORT_EXPORT, state=Job.State.DONE, created_by=owner)
    path = default_storage.save(f"reports/{job.pk}/rapport.csv", ContentFile(b"a;b\n"))
    job.result = {"file": path, "filename": "rapport.csv", "content_type": "text/csv"}
    job.save()
    assert owner.role == Role.DIRECTORATE
    return job


@pytest.fixture
def objects(db, settings, tmp_path):
    from actors.choices import Role
    from actors.models import County, Job, RegionalHealthAuthority, Vendor
    from rollout import services as rollout_services
    from rollout.models import Solution
    from tests.factories import UserFactory

    def draft_report(number, solution="datadeling"):  # datadeling has no checklist
        author = UserFactory(
            username=f"author-{number}", role=Role.MUNICIPALITY_CONTACT, municipalities=[number]
        )
        return rollout_services.report_create(
            user=author,
            solution=Solution.objects.get(code=solution),
            municipality=Municipality.objects.get(number=number),
        )

    def submitted_report(number):
        report = draft_report(number)
        return rollout_services.report_submit(
            user=report.created_by, report_id=report.pk, expected_version=report.version
        )

    from actors.scoping import SYSTEM_USER
    from rollout.models import StatusChange

    org_in = OrganisationFactory(municipality__number="4601")
    org_out = OrganisationFactory(municipality__number="5501")

    def registry_change(org):
        from actors.models import OrganisationChange

        return OrganisationChange.objects.create(
            organisation=org, kind="change", field="name", new_value=org.name, source="system"
        )

    pll = Solution.objects.get(code="pll")

    def planning(org):
        return rollout_services.status_change(
            user=SYSTEM_USER,
            organisation=org,
            solution=Solution.objects.get(code="kjernejournal"),
            to_status="planlegging",
        )

    def area(code):
        return rollout_services.area_rollout_update(
            user=SYSTEM_USER,
            solution=pll,
            health_trust=HealthTrust.objects.get(code=code),
            expected_version=0,
            phase="planlegging",
        )

    from django.core.files.uploadedfile import SimpleUploadedFile

    from benefits import services as benefit_services
    from benefits.models import Benefit, BenefitGoal

    settings.MEDIA_ROOT = tmp_path

    def agreement(*numbers):
        return benefit_services.agreement_save(
            user=SYSTEM_USER,
            agreement_id=None,
            expected_version=None,
            fields={"title": f"Avtale {numbers}", "status": "utkast"},
            municipalities=Municipality.objects.filter(number__in=numbers),
            organisations=[],
            solutions=[],
            document=SimpleUploadedFile("a.pdf", clean_pdf()),
        )

    benefit = Benefit.objects.create(
        goal=BenefitGoal.objects.first(),
        name="Gevinst",
        indicator="Minutter",
        unit="min",
        direction="lower",
        owner="Kommunen",
    )

    def benefit_report(org, submit):
        report = benefit_services.benefit_report_save(
            user=SYSTEM_USER,
            report_id=None,
            expected_version=None,
            fields={
                "benefit": benefit,
                "municipality": org.municipality,
                "organisation": org,
                "kind": "nullpunkt",
                "period_start": datetime.date(2024, 1, 1),
                "period_end": datetime.date(2024, 2, 1),
                "value": 10,
                "method": "Telling",
            },
            attachment=SimpleUploadedFile("m.pdf", clean_pdf()),
        )
        if submit:
            report = benefit_services.benefit_report_submit(
                user=SYSTEM_USER, report_id=report.pk, expected_version=report.version
            )
        return report

    from actors import access

    inviter = UserFactory(username="inviter", role=Role.ADMIN)

    def invitation_for(number):
        return access.invite(
            inviter,
            email=f"invitert-{number}@kommune.no",
            name="",
            wanted=access.Access(
                Role.MUNICIPALITY_CONTACT,
                municipality_ids=frozenset(
                    Municipality.objects.filter(number=number).values_list("pk", flat=True)
                ),
            ),
            source="ui",
        )

    invited_in = invitation_for("4601")

    return {
        "person_in": UserFactory(
            username="kari", role=Role.MUNICIPALITY_CONTACT, municipalities=["4601"]
        ),
        "person_out": UserFactory(
            username="nils", role=Role.MUNICIPALITY_CONTACT, municipalities=["5501"]
        ),
        "invitation_in": invited_in.invitation,
        "invitation_token": invited_in.token,
        "invitation_out": invitation_for("5501").invitation,
        "agreement_in": agreement("4601"),
        "agreement_out": agreement("5501"),
        "agreement_shared": agreement("4601", "5501"),
        "benefit": benefit,
        "breport_in": benefit_report(org_in, True),
        "breport_out": benefit_report(org_out, True),
        "bdraft_in": benefit_report(org_in, False),
        "bdraft_out": benefit_report(org_out, False),
        "org_in": org_in,
        "org_out": org_out,
        "pll": pll,
        "status_in": planning(org_in),
        "status_out": planning(org_out),
        "change_in": StatusChange.objects.get(organisation=org_in),
        "change_out": StatusChange.objects.get(organisation=org_out),
        "regchange_in": registry_change(org_in),
        "regchange_out": registry_change(org_out),
        "area_in": area("helse-bergen"),
        "area_out": area("unn"),
        "report_in": submitted_report("4601"),
        "report_out": submitted_report("5501"),
        "draft_in": draft_report("4601"),
        "draft_out": draft_report("5501"),
        "checklist_in": draft_report("4601", "kritisk-informasjon"),
        "bergen": Municipality.objects.get(number="4601"),
        "tromso": Municipality.objects.get(number="5501"),
        "trust_in": HealthTrust.objects.get(code="helse-bergen"),
        "trust_out": HealthTrust.objects.get(code="unn"),
        "rha": RegionalHealthAuthority.objects.first(),
        "county": County.objects.first(),
        "vendor": Vendor.objects.create(name="Testleverandør"),
        "job": Job.objects.create(kind=Job.Kind.COVERAGE_RECOMPUTE),
        "report_job": report_job(),
        "import_job": import_job(),
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
        kwargs["HTTP_IF_MATCH"] = f'"{case.if_match(objects)}"'
    response = getattr(client, case.method)(url, **kwargs)
    expected = case.expected[role]
    no_role_redirect = role == "norole" and not case.api and not url.startswith(OPEN_PREFIXES)
    if no_role_redirect:
        expected = NO_ROLE
    assert response.status_code == expected, (
        f"{role} {case.method.upper()} {url}: expected {expected}, got {response.status_code}"
    )
    if no_role_redirect:
        assert response["Location"] == reverse("no_access")
    if response.status_code == 401:
        assert response.has_header("WWW-Authenticate")


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
        # Without a role, every page sends the user to /ingen-tilgang/ first.
        login = reverse("no_access") if role == "norole" else "/admin/login/"
        assert response.status_code == 302 and login in response["Location"], role
    assert client_for(make_user("admin")).get("/admin/").status_code == 200
