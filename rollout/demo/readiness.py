"""Readiness reports in every state (PLL in the Bergen area, kritisk informasjon in Helse
Vest), with answers that agree with the recorded statuses and vendor support."""

from __future__ import annotations

import datetime
import random

from actors.models import Municipality, User

from .. import services
from ..choices import Answer, ReportStatus, VendorSupport
from ..choices import Status as S
from ..models import RecordSystemSupport, RolloutStatus, Solution
from .constants import BERGEN, BERGEN_AREA, EPJ_VERSION, TRAINING


def _readiness_reports(seed: int, contact: User, coordinator: User) -> int:
    """PLL readiness reports from municipalities in the Bergen area, and kritisk
    informasjon from Helse Vest, in every state, through the report services."""
    pll = Solution.objects.get(code="pll")
    ki = Solution.objects.get(code="kritisk-informasjon")

    def by_size(trust_code: str) -> list[Municipality]:
        return list(
            Municipality.objects.filter(catchments__health_trust__code=trust_code).order_by(
                "-population", "number"
            )
        )

    # Bergen started with the trial; the next municipalities of the area report readiness.
    bergen_area = [m for m in by_size(BERGEN_AREA) if m.number != BERGEN]
    plan = [
        (pll, bergen_area[0], ReportStatus.APPROVED),
        (pll, bergen_area[1], ReportStatus.APPROVED),
        (pll, bergen_area[2], ReportStatus.SUBMITTED),
        (pll, bergen_area[3], ReportStatus.RETURNED),
        (pll, bergen_area[4], ReportStatus.DRAFT),
        (pll, bergen_area[6], ReportStatus.DRAFT),
        (ki, by_size("helse-stavanger")[0], ReportStatus.APPROVED),
        (ki, by_size("helse-fonna")[0], ReportStatus.SUBMITTED),
    ]
    contact.municipalities.set([m for _s, m, _st in plan])
    rng = random.Random(seed * 7919 + 17)
    for solution, municipality, state in plan:
        report = services.report_create(user=contact, solution=solution, municipality=municipality)
        answers = _answers(report, rng)
        if state == ReportStatus.DRAFT:
            answers = dict(list(answers.items())[: len(answers) * 2 // 5])
        report = services.report_save_answers(
            user=contact, report_id=report.pk, expected_version=report.version, answers=answers
        )
        if state == ReportStatus.DRAFT:
            continue
        report = services.report_submit(
            user=contact, report_id=report.pk, expected_version=report.version
        )
        if state == ReportStatus.APPROVED:
            services.report_review(
                user=coordinator, report_id=report.pk, expected_version=report.version, approve=True
            )
        elif state == ReportStatus.RETURNED:
            services.report_review(
                user=coordinator,
                report_id=report.pk,
                expected_version=report.version,
                approve=False,
                comment=(
                    "Forventet dato for opplæring i hjemmetjenesten virker urealistisk, og "
                    "flere svar om EPJ-støtte mangler kommentar. Avklar med leverandøren og "
                    "send inn på nytt."
                ),
            )
    return len(plan)


def _answers(report, rng: random.Random) -> dict[int, dict]:
    """Answers that agree with the statuses and vendor support recorded for the
    organisations (every 'not ready' with the date it is expected)."""
    solution = report.solution
    rows = list(
        report.answers.select_related("prerequisite", "organisation__type").order_by(
            "prerequisite__sort_order", "organisation__name", "pk"
        )
    )
    org_ids = {a.organisation_id for a in rows if a.organisation_id}
    status = {
        (r.organisation_id, r.solution.code): r.status
        for r in RolloutStatus.objects.filter(organisation__in=org_ids).select_related("solution")
    }
    support = {r.record_system_id: r for r in RecordSystemSupport.objects.filter(solution=solution)}
    sfm_types = set(
        Solution.objects.get(code="sfm").organisation_types.values_list("pk", flat=True)
    )
    soon = services.today() + datetime.timedelta(days=rng.randint(60, 240))

    def ready(ok: bool, comment: str = "", expected=None) -> dict:
        if ok:
            return {"answer": Answer.READY, "comment": comment, "expected_date": None}
        return {"answer": Answer.NOT_READY, "comment": comment, "expected_date": expected or soon}

    answers = {}
    for a in rows:
        text = a.prerequisite.text
        o = a.organisation
        if o is None:  # about the area
            answers[a.pk] = ready(True, "Avklart i områdets innføringsprosjekt.")
            continue
        own = status.get((o.pk, solution.code), S.NOT_STARTED)
        vendor = support.get(o.record_system_id)
        if text.startswith("SFM"):
            if o.type_id not in sfm_types:
                answers[a.pk] = {
                    "answer": Answer.NOT_RELEVANT,
                    "comment": "",
                    "expected_date": None,
                }
            else:
                answers[a.pk] = ready(status.get((o.pk, "sfm")) == S.IN_USE)
        elif text.startswith("Kjernejournal"):
            answers[a.pk] = ready(status.get((o.pk, "kjernejournal")) == S.IN_USE)
        elif "støtter" in text or text.startswith("Leverandøren"):
            ok = vendor is not None and vendor.support == VendorSupport.SUPPORTED
            comment = "" if ok else EPJ_VERSION
            answers[a.pk] = ready(ok, comment, vendor.expected_date if vendor else None)
        else:  # technically and organisationally ready / ready to start together
            ok = own in (S.TECHNICALLY_READY, S.TRIAL, S.IN_USE)
            answers[a.pk] = ready(ok, "" if ok else TRAINING)
    return answers
