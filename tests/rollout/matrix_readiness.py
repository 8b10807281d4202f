"""Permission-matrix cases of the readiness report's background save (rollout/report_views.py,
issue 18). tests/actors/test_permissions.py calls `cases(m)` with itself as `m` and adds
what it returns to the matrix.

The matrix's reports are submitted, so nobody may change their answers: whoever sees the
report is refused (403), whoever does not is told it is not there (404)."""


def _report(rel):
    return lambda o: [o[f"report_{rel}"].pk]


def _data(rel):
    return lambda o: {"version": o[f"report_{rel}"].version}


def cases(m) -> list:
    seen_in = dict(
        norole=404, contact=403, coord_area=403, coord_nat=403, directorate=403, admin=403
    )
    seen_out = {**seen_in, "contact": 404, "coord_area": 404}
    return [
        m.Case(
            "rollout:report_answers_save",
            m.by_role(**seen_in),
            method="post",
            args=_report("in"),
            data=_data("in"),
            id="in",
        ),
        m.Case(
            "rollout:report_answers_save",
            m.by_role(**seen_out),
            method="post",
            args=_report("out"),
            data=_data("out"),
            id="out",
        ),
    ]
