"""Agreements, the benefit register and the change log as CSV or Excel files: each
export's columns and rows (the status reports' files are benefits.report_files).

Only what the user may see is written: the functions narrow the queryset they are given
with `visible_to(user)` themselves (the change log is read by every user with a role, as
its pages check). The files are written by actors.exports, like every other export
(`;`-separated CSV with decimal commas and quoted, formula-safe text; XLSX with real dates
and numbers).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from actors import scoping
from actors.exports import DATE, DECIMAL, INTEGER, TEXT, Column, table_response, yes_no
from actors.models import Municipality
from rollout.models import Solution

from . import reports as status_reports
from .models import Benefit, IntentAgreement
from .selectors import benefit_summaries


def _label(model, field_name: str) -> str:
    return capfirst(str(model._meta.get_field(field_name).verbose_name))


# --- intention agreements -------------------------------------------------------------


def agreement_columns() -> list[Column]:
    m = IntentAgreement
    return [
        Column(_label(m, "title"), TEXT, 40),
        Column(_label(m, "status"), TEXT, 12),
        Column(_label(m, "signed_date"), DATE, 12),
        Column(_label(m, "municipalities"), TEXT, 40),
        Column(_("Population covered"), INTEGER, 14),
        Column(_("Number of organisations"), INTEGER, 12),
        Column(_label(m, "solutions"), TEXT, 30),
        Column(_label(m, "clause_benefits"), TEXT, 12),
        Column(_label(m, "clause_financing"), TEXT, 12),
        Column(_label(m, "clause_risk_sharing"), TEXT, 12),
    ]


def agreement_rows(agreements) -> Iterable[list]:
    for a in agreements:
        municipalities = list(a.municipalities.all())
        solutions = [s.name for s in a.solutions.all()]
        yield [
            a.title,
            a.get_status_display(),
            a.signed_date,
            "; ".join(f"{m.number} {m.name}" for m in municipalities),
            sum(m.population for m in municipalities),
            len(a.organisations.all()),
            ", ".join(solutions) or _("The whole programme"),
            yes_no(a.clause_benefits),
            yes_no(a.clause_financing),
            yes_no(a.clause_risk_sharing),
        ]


def export_agreements(user, fmt: str, queryset=None) -> HttpResponse:
    """The agreements the user can see (of `queryset`, when given: e.g. a filtered list)."""
    agreements = (
        (queryset if queryset is not None else IntentAgreement.objects.all())
        .visible_to(user)
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("municipalities", queryset=Municipality.objects.order_by("number")),
            Prefetch("solutions", queryset=Solution.objects.order_by("sort_order", "name")),
            "organisations",
        )
        .order_by("-signed_date", "title", "pk")
    )
    return table_response("intensjonsavtaler", agreement_columns(), agreement_rows(agreements), fmt)


# --- benefit register -----------------------------------------------------------------


# The figures' kinds (benefits.reports.Column) as this writer's; a share is written in
# per cent (12.3 under "Reporting coverage (%)"), as the register's readers count.
FIGURE_KINDS = {"text": TEXT, "int": INTEGER, "number": DECIMAL, "percent": DECIMAL}
FIGURE_WIDTHS = {"text": 30, "int": 10, "number": 14, "percent": 12}


def benefit_columns() -> list[Column]:
    """The register's reference columns, then every figure of the benefit as the register
    page, the benefit's page and the status report show them (reports.benefit_columns)."""
    b = Benefit
    figures = [
        Column(
            f"{c.label} (%)" if c.kind == "percent" else c.label,
            FIGURE_KINDS[c.kind],
            FIGURE_WIDTHS[c.kind],
        )
        for c in status_reports.benefit_columns()[1:]  # the name is the register's own
    ]
    return [
        Column(_label(b, "goal"), TEXT, 40),
        Column(_label(b, "name"), TEXT, 40),
        Column(_label(b, "indicator"), TEXT, 30),
        Column(_label(b, "unit"), TEXT, 12),
        Column(_label(b, "direction"), TEXT, 16),
        Column(_("Solutions"), TEXT, 30),
        Column(_label(b, "owner"), TEXT, 25),
        Column(_label(b, "baseline_required"), TEXT, 14),
        Column(_label(b, "target_value"), DECIMAL, 12),
        Column(_label(b, "target_date"), DATE, 12),
        *figures,
    ]


def _figure(value, kind: str):
    if kind == "percent" and value is not None:
        return Decimal(str(round(value * 100, 1)))
    return value


def benefit_rows(benefits, user) -> Iterable[list]:
    benefits = list(benefits)
    if not benefits:
        return
    kinds = [c.kind for c in status_reports.benefit_columns()]
    summaries = benefit_summaries(benefits, user)  # counts only reports and organisations in scope
    for b, summary in zip(benefits, summaries, strict=True):
        figures = status_reports.benefit_row(summary)
        yield [
            b.goal.name,
            b.name,
            b.indicator,
            b.unit,
            b.get_direction_display(),
            ", ".join(s.name for s in b.solutions.all()),
            b.owner,
            yes_no(b.baseline_required),
            b.target_value,
            b.target_date,
            *[_figure(v, k) for v, k in zip(figures[1:], kinds[1:], strict=True)],
        ]


def export_benefits(user, fmt: str, queryset=None) -> HttpResponse:
    """The benefit register (reference data for every role) with the realisation the user
    can see; users without a role get the header row only."""
    benefits = (queryset if queryset is not None else Benefit.objects.all()).select_related("goal")
    if not scoping.scope_for(user).role:
        benefits = benefits.none()
    benefits = benefits.prefetch_related(None).prefetch_related(
        Prefetch("solutions", queryset=Solution.objects.order_by("sort_order", "name"))
    )
    return table_response("gevinstregister", benefit_columns(), benefit_rows(benefits, user), fmt)


# --- change log (benefits.governance) -------------------------------------------------


def changelog_columns() -> list[Column]:
    return [
        Column(_("Recorded"), DATE, 12),
        Column(_("Kind"), TEXT, 14),
        Column(_("Change"), TEXT, 50),
        Column(_("Reason"), TEXT, 60),
        Column(_("Cost and benefit"), TEXT, 40),
        Column(_("Concerns"), TEXT, 25),
        Column(_("Decision point"), TEXT, 30),
        Column(_("Recorded by"), TEXT, 20),
    ]


def changelog_rows(entries) -> Iterable[list]:
    for e in entries.iterator(chunk_size=500):
        yield [
            timezone.localtime(e.recorded_at).date(),
            e.get_kind_display(),
            e.title,
            e.reason,
            e.cost_benefit_note,
            e.subject,
            e.decision_point.title if e.decision_point else "",
            str(e.recorded_by) if e.recorded_by else "",
        ]


def export_changelog(entries, fmt: str) -> HttpResponse:
    """The change log entries of `entries` (a queryset), as the page and the API list them."""
    return table_response("endringslogg", changelog_columns(), changelog_rows(entries), fmt)
