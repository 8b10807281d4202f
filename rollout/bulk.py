"""One status change for many organisations: what it would do to each (change, refused and
why, already so), and applying it, all or nothing or only the allowed changes. Each change
is checked by the rules of a single change (services.plan_status_change) against facts
read once for the batch (imports.BatchFacts), and each writes its own history row."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actors import scoping
from actors.models import Organisation

from . import services
from .choices import STATUS_ORDER, TRANSITIONS, Source, Status
from .imports import BatchFacts
from .models import Solution

CHANGE, REFUSED, UNCHANGED = "change", "refused", "unchanged"

# Why a change is refused: a column of the CSV of refusals, `reason_code` in the API.
WHY = {
    "transition": gettext_lazy("Transition not allowed"),
    "prerequisite": gettext_lazy("Prerequisite not met"),
    "date": gettext_lazy("Date not allowed"),
    "reason": gettext_lazy("Reason missing"),
    "not_applicable": gettext_lazy("Solution does not apply"),
    "stale": gettext_lazy("Changed since the preview"),
    "unselected": gettext_lazy("No longer matches the filter"),
    "other": gettext_lazy("Other rule"),
}


@dataclass
class Outcome:
    """What the change does to one organisation. `version`: its status row's version when
    planned (0: no row), which applying after a preview expects to find unchanged."""

    organisation: Organisation
    from_status: str
    version: int
    kind: str
    why: str = ""
    message: str = ""

    @property
    def why_label(self) -> str:
        return str(WHY.get(self.why, self.why))


@dataclass
class BulkPlan:
    """The outcome of every selected organisation (by name), and whether the allowed
    changes were written (`applied`)."""

    solution: Solution
    to_status: str
    outcomes: list[Outcome] = field(default_factory=list)
    applied: bool = False
    # Applying after a preview: organisations selected now but not previewed, and
    # previewed ones no longer selected (the filter or the scope): both left alone.
    not_previewed: int = 0
    gone: int = 0

    @property
    def to_label(self) -> str:
        return Status(self.to_status).label

    def _of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]

    @property
    def changes(self) -> list[Outcome]:
        return self._of(CHANGE)

    @property
    def refused(self) -> list[Outcome]:
        return self._of(REFUSED)

    @property
    def already(self) -> list[Outcome]:
        return self._of(UNCHANGED)

    # The counts and refusals as the all-or-nothing bulk change always gave them.
    @property
    def changed(self) -> int:
        return len(self.changes)

    @property
    def unchanged(self) -> int:
        return len(self.already)

    @property
    def errors(self) -> list[tuple[Organisation, str]]:
        return [(o.organisation, o.message) for o in self.refused]

    @property
    def ok(self) -> bool:
        return not self.refused

    def by_from_status(self) -> list[tuple[str, int]]:
        """How many change from each status (all change to `to_status`)."""
        counts = Counter(o.from_status for o in self.changes)
        return [(Status(s).label, counts[s]) for s in STATUS_ORDER if counts[s]]

    def by_why(self) -> list[tuple[str, int]]:
        counts = Counter(o.why for o in self.refused)
        return [(WHY[w], counts[w]) for w in WHY if counts[w]]

    def by_municipality(self) -> list[tuple[str, int, int, int]]:
        """(municipality, to change, refused, already so), by name."""
        counts: dict[str, Counter] = {}
        for o in self.outcomes:
            counts.setdefault(o.organisation.municipality.name, Counter())[o.kind] += 1
        return [(name, c[CHANGE], c[REFUSED], c[UNCHANGED]) for name, c in sorted(counts.items())]


def bulk_change(
    *,
    user,
    organisation_ids: Iterable[int],
    solution: Solution,
    to_status: str,
    reason: str = "",
    effective_date: datetime.date | None = None,
    override_reason: str = "",
    source: str = Source.UI,
    apply: bool = False,
    allowed_only: bool = False,
    expected: dict[int, int] | None = None,
) -> BulkPlan:
    """Plan the change for every organisation (`apply=False`: a preview, nothing locked or
    written), or apply it: all or nothing (one refusal keeps every change out), or with
    `allowed_only` the allowed changes, the refused ones left as they are. A change to the
    status an organisation has already is no change and no refusal.

    Without `expected`, an organisation outside the user's editable scope raises
    Organisation.DoesNotExist and nothing is planned. With `expected` ({organisation id:
    the version its status row had in the preview}), the change is re-checked against
    what the preview saw: an organisation whose status changed since is refused, one not
    previewed is left alone, one in reach but no longer in `organisation_ids` (the filter
    evaluated again) is refused, and previewed ones no longer in reach are counted in
    `gone` (they keep an all-or-nothing change out)."""
    scope = scoping.scope_for(user)
    if not scope.can_edit:
        raise PermissionDenied(_("Your role cannot change rollout statuses."))
    ids = set(organisation_ids)
    plan = BulkPlan(solution=solution, to_status=to_status)
    unselected: set[int] = set()
    with transaction.atomic():
        wanted = ids | set(expected or ())
        reach = scope.filter_editable(Organisation.objects.filter(pk__in=wanted))
        if apply:  # the lock order of status_change: the organisations, then their rows
            reach = reach.select_for_update().order_by("pk")
        editable = set(reach.values_list("pk", flat=True))
        if expected is None and editable != ids:
            raise Organisation.DoesNotExist(_("Some organisations are outside your scope."))
        if expected is not None:
            plan.not_previewed = len((editable & ids) - expected.keys())
            plan.gone = len(expected.keys() - editable)
            editable &= expected.keys()
            unselected = editable - ids
        solutions = list(Solution.objects.prefetch_related("organisation_types", "requires"))
        solution = next(s for s in solutions if s.pk == solution.pk)
        facts = BatchFacts(editable, solutions, lock=apply)
        organisations = Organisation.objects.filter(pk__in=editable).select_related(
            "type", "municipality"
        )
        for organisation in organisations.order_by("name", "pk"):
            row = facts.status(organisation, solution)
            outcome = Outcome(organisation, row.status, row.version, CHANGE)
            plan.outcomes.append(outcome)
            if expected is not None and expected[organisation.pk] != row.version:
                outcome.kind, outcome.why = REFUSED, "stale"
                outcome.message = _(
                    "Changed by someone else after the preview (now “%(s)s”), so not "
                    "changed; preview again to include it."
                ) % {"s": Status(row.status).label}
                continue
            if organisation.pk in unselected:
                outcome.kind, outcome.why = REFUSED, "unselected"
                outcome.message = _(
                    "No longer matches the list's filter, so not changed; preview again to "
                    "include it."
                )
                continue
            if row.status == to_status:
                outcome.kind = UNCHANGED
                continue
            try:
                changed, history = services.plan_status_change(
                    facts=facts,
                    scope=scope,
                    user=user,
                    organisation=organisation,
                    solution=solution,
                    to_status=to_status,
                    reason=reason,
                    effective_date=effective_date,
                    override_reason=override_reason,
                    source=source,
                )
            except ValidationError as exc:
                outcome.kind, outcome.why = REFUSED, refusal_kind(exc, row.status, to_status)
                outcome.message = " ".join(exc.messages)
                continue
            facts.keep(changed, history)
        if apply and (allowed_only or (plan.ok and not plan.gone)):
            facts.write()
            plan.applied = True
    return plan


def refusal_kind(exc: ValidationError, from_status: str, to_status: str) -> str:
    """Which rule refused a change (a key of WHY), from the fields its error names."""
    fields = set(exc.error_dict) if hasattr(exc, "error_dict") else set()
    if not fields:
        return "not_applicable"  # the one refusal plan_status_change raises without a field
    if "to_status" in fields:
        return "prerequisite" if to_status in TRANSITIONS[from_status] else "transition"
    for name, kind in (
        ("override_reason", "prerequisite"),
        ("effective_date", "date"),
        ("reason", "reason"),
    ):
        if name in fields:
            return kind
    return "other"
