"""Permission-matrix cases of status corrections (rollout/corrections.py, issue 18).
tests/actors/test_permissions.py calls `cases(m)` with itself as `m` and adds what it
returns to the matrix.

Rollout coordinators and administrators correct statuses within their scope; a
kommunekontakt may change the status but not correct it (403: they ask their
coordinator); out of scope answers 404; the directorate edits nothing."""


def _status_page(rel):
    return lambda o: [o[f"org_{rel}"].pk, "kjernejournal"]


def _form(o):
    return {"to_status": "teknisk_klar", "reason": "Feilregistrert", "version": "1"}


def _body(o):
    return {"status": "teknisk_klar", "reason": "Feilregistrert"}


def cases(m) -> list:
    page_in = dict(
        norole=404, contact=403, coord_area=200, coord_nat=200, directorate=404, admin=200
    )
    page_out = dict(
        norole=404, contact=404, coord_area=404, coord_nat=200, directorate=404, admin=200
    )
    saved_out = {**page_out, "coord_nat": 302, "admin": 302}
    saved_in = {**page_in, "coord_area": 302, "coord_nat": 302, "admin": 302}
    return [
        m.Case("rollout:status_correct", m.by_role(**page_in), args=_status_page("in"), id="in"),
        m.Case("rollout:status_correct", m.by_role(**page_out), args=_status_page("out"), id="out"),
        m.Case(
            "rollout:status_correct",
            m.by_role(**saved_in),
            method="post",
            args=_status_page("in"),
            data=_form,
            id="post-in",
        ),
        m.Case(
            "rollout:status_correct",
            m.by_role(**saved_out),
            method="post",
            args=_status_page("out"),
            data=_form,
            id="post-out",
        ),
        m.api(
            "rolloutstatus-correct",
            m.COORD_IN,
            method="post",
            args=lambda o: [o["status_in"].pk],
            data=_body,
            if_match=m.version("status_in"),
            id="in",
        ),
        m.api(
            "rolloutstatus-correct",
            m.WRITE_OUT,
            method="post",
            args=lambda o: [o["status_out"].pk],
            data=_body,
            if_match=m.version("status_out"),
            id="out",
        ),
    ]
