"""Permission-matrix cases of benefits.governance (decisions). tests/actors/test_permissions.py
calls `cases(m)` with itself as `m` (for m.Case, m.by_role, m.api and the role tables)
and adds what it returns to the matrix.

Decision points, the change log and the cut list are programme documents: every user with
a role reads them (no role: 403). The directorate, national coordinators and
administrators write (prepare briefs, record decisions, keep the log and the cut list);
area coordinators and municipality contacts get 403.
"""

import datetime

from django.utils import timezone


def _point(o):
    from rollout.models import DecisionPoint

    if "decision_point" not in o:
        o["decision_point"] = DecisionPoint.objects.create(
            title="Beslutningspunkt", scheduled_for=datetime.date(2025, 3, 31)
        )
    return o["decision_point"]


def _item(o):
    from actors.models import HealthTrust
    from rollout.models import CutListItem, Solution

    if "cut_item" not in o:
        o["cut_item"] = CutListItem.objects.create(
            title="PLL i UNN",
            justification="Lav nytte",
            solution=Solution.objects.get(code="pll"),
            health_trust=HealthTrust.objects.get(code="unn"),
        )
    return o["cut_item"]


def _entry(o):
    from rollout.choices import ChangeKind
    from rollout.models import ChangeLogEntry

    if "change_entry" not in o:
        o["change_entry"] = ChangeLogEntry.objects.create(
            kind=ChangeKind.SCOPE, title="Omfang", reason="Fordi"
        )
    return o["change_entry"]


def point_pk(o):
    return [_point(o).pk]


def item_pk(o):
    return [_item(o).pk]


def cases(m) -> list:
    read = m.by_role(**m.READ_WITH_ROLE)
    govern = dict(
        norole=403, contact=403, coord_area=403, coord_nat=200, directorate=200, admin=200
    )
    redirect = {**govern, **dict.fromkeys(["coord_nat", "directorate", "admin"], 302)}
    created = {**govern, **dict.fromkeys(["coord_nat", "directorate", "admin"], 201)}
    today = timezone.localdate().isoformat()
    start_bergen = {
        "kind": "start_omrade",
        "text": "Start",
        "solution": "pll",
        "health_trust": "helse-bergen",
        "effective_date": today,
    }
    Case, api = m.Case, m.api
    return [
        # --- HTML ---
        Case("governance:decision_point_list", read),
        Case("governance:decision_point_detail", read, args=point_pk),
        Case("governance:decision_schedule", m.by_role(**govern)),
        Case(
            "governance:decision_schedule",
            m.by_role(**redirect),
            method="post",
            data=lambda o: {"cadence": "halvarlig", "first_date": "2025-03-31", "version": 1},
            id="post",
        ),
        Case("governance:decision_points_generate", m.by_role(**redirect), method="post"),
        Case("governance:decision_point_create", m.by_role(**govern)),
        Case("governance:decision_point_edit", m.by_role(**govern), args=point_pk),
        Case("governance:decision_brief", m.by_role(**redirect), method="post", args=point_pk),
        Case("governance:decision_create", m.by_role(**govern), args=point_pk),
        Case(
            "governance:decision_create",
            m.by_role(**redirect),
            method="post",
            args=point_pk,
            data=lambda o: {
                **start_bergen,
                "solution": o["pll"].pk,
                "health_trust": o["trust_in"].pk,
            },
            id="start-area",
        ),
        Case("governance:decision_point_close", m.by_role(**govern), args=point_pk),
        Case("governance:changelog_list", read),
        Case("governance:changelog_create", m.by_role(**govern)),
        Case("governance:changelog_export", read, data=lambda o: {"format": "csv"}),
        Case("governance:cutlist_list", read),
        Case("governance:cutlist_what_if", read, data=lambda o: {"item": item_pk(o)}),
        Case("governance:cutlist_create", m.by_role(**govern)),
        Case("governance:cutlist_edit", m.by_role(**govern), args=item_pk),
        Case("governance:cutlist_decide", m.by_role(**govern), args=item_pk),
        Case(
            "governance:cutlist_decide",
            m.by_role(**redirect),
            method="post",
            args=item_pk,
            data=lambda o: {
                "status": "kuttet",
                "decision_point": _point(o).pk,
                "reason": "Vedtatt",
                "version": _item(o).version,
            },
            id="cut",
        ),
        # --- API ---
        api("decisionpoint-list", m.READ_WITH_ROLE),
        api("decisionpoint-detail", m.READ_WITH_ROLE, args=point_pk),
        api("decisionpoint-schedule", m.READ_WITH_ROLE),
        api(
            "decisionpoint-list",
            created,
            method="post",
            data=lambda o: {"title": "Ekstra punkt", "scheduled_for": "2025-05-01"},
            id="create",
        ),
        api(
            "decisionpoint-detail",
            govern,
            method="patch",
            args=point_pk,
            data=lambda o: {"summary": "Oppsummert"},
            if_match=lambda o: _point(o).version,
            id="patch",
        ),
        api("decisionpoint-brief", govern, method="post", args=point_pk),
        api(
            "decisionpoint-decisions",
            created,
            method="post",
            args=point_pk,
            data=lambda o: start_bergen,
        ),
        api(
            "decisionpoint-close",
            govern,
            method="post",
            args=point_pk,
            data=lambda o: {"held_on": today},
            if_match=lambda o: _point(o).version,
        ),
        api("decisionpoint-generate", created, method="post", data=lambda o: {}),
        api("changelogentry-list", m.READ_WITH_ROLE),
        api("changelogentry-detail", m.READ_WITH_ROLE, args=lambda o: [_entry(o).pk]),
        api(
            "changelogentry-list",
            created,
            method="post",
            data=lambda o: {"kind": "terskel", "title": "Terskel", "reason": "Fordi"},
            id="create",
        ),
        api("changelogentry-export", m.READ_WITH_ROLE, data=lambda o: {"format": "csv"}),
        api("cutlistitem-list", m.READ_WITH_ROLE),
        api("cutlistitem-detail", m.READ_WITH_ROLE, args=item_pk),
        api("cutlistitem-what-if", m.READ_WITH_ROLE),
        api(
            "cutlistitem-list",
            created,
            method="post",
            data=lambda o: {
                "title": "PLL i Helse Bergen",
                "justification": "Dyrt",
                "solution": "pll",
                "health_trust": "helse-bergen",
            },
            id="create",
        ),
        api(
            "cutlistitem-detail",
            govern,
            method="patch",
            args=item_pk,
            data=lambda o: {"justification": "Endret"},
            if_match=lambda o: _item(o).version,
            id="patch",
        ),
        api(
            "cutlistitem-decide",
            govern,
            method="post",
            args=item_pk,
            data=lambda o: {
                "status": "beholdt",
                "decision_point": _point(o).pk,
                "reason": "Beholdes",
            },
            if_match=lambda o: _item(o).version,
        ),
    ]
