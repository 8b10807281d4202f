"""Permission-matrix cases of benefits.governance (dependencies). tests/actors/test_permissions.py
calls `cases(m)` with itself as `m` (for m.Case, m.by_role, m.api and the role tables)
and adds what it returns to the matrix.

Dependencies are programme-wide: every role reads them (no role: 403 on pages, an empty
list and 404 in the API); national coordinators and admins record and change them.
Reminders are the user's own: every role reads theirs."""

SFM_PLO = "SFM i kommunal pleie og omsorg"


def _dependency():
    from rollout.models import Dependency

    return Dependency.objects.get(name=SFM_PLO)


def _pk(o):
    return [_dependency().pk]


def _version(o):
    return _dependency().version


def _form(o):
    from rollout.models import Solution

    d = _dependency()
    return {
        "name": d.name,
        "status": "forsinket",
        "solutions": [Solution.objects.get(code="pll").pk],
        "version": d.version,
    }


def _new(o):
    from rollout.models import Solution

    return {
        "name": "Ny leveranse",
        "status": "planlagt",
        "solutions": [Solution.objects.get(code="pll").pk],
    }


def cases(m) -> list:
    editors = dict(
        norole=403, contact=403, coord_area=403, coord_nat=200, directorate=403, admin=200
    )
    saved = {**editors, "coord_nat": 302, "admin": 302}
    return [
        m.Case("governance:dependency_list", m.by_role(**m.READ_WITH_ROLE)),
        m.Case("governance:dependency_detail", m.by_role(**m.READ_WITH_ROLE), args=_pk),
        m.Case("governance:dependency_create", m.by_role(**editors)),
        m.Case(
            "governance:dependency_create", m.by_role(**saved), method="post", data=_new, id="post"
        ),
        m.Case("governance:dependency_edit", m.by_role(**editors), args=_pk),
        m.Case(
            "governance:dependency_edit",
            m.by_role(**saved),
            method="post",
            args=_pk,
            data=_form,
            id="post",
        ),
        m.Case("governance:reminder_list", m.by_role(**m.READ_WITH_ROLE)),
        m.Case("dependency-list", m.API_READ, api=True),
        m.api("dependency-detail", m.REFERENCE, args=_pk),
        m.api(
            "dependency-list",
            {**editors, "coord_nat": 201, "admin": 201},
            method="post",
            data=lambda o: {"name": "Ny leveranse", "solutions": ["pll"]},
            id="create",
        ),
        m.api(
            "dependency-detail",
            editors,
            method="patch",
            args=_pk,
            data=lambda o: {"status": "forsinket"},
            if_match=_version,
            id="patch",
        ),
        m.Case("reminder-list", m.API_READ, api=True),
        m.Case("reminder-due", m.API_READ, api=True),
    ]
