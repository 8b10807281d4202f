"""Solutions, their national and per-area phases, the rollout status of every organisation
for every solution that applies to it (with an append-only history), readiness checklists
and reports."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from actors.append_only import append_only
from actors.models import (
    HealthTrust,
    Municipality,
    Organisation,
    OrganisationType,
    RecordSystem,
    ScopedQuerySet,
)
from actors.review import ReviewedReport

from .choices import (
    Answer,
    Cadence,
    ChangeKind,
    CutStatus,
    DecisionKind,
    DecisionPointStatus,
    DependencyStatus,
    Phase,
    PrerequisiteScope,
    Source,
    Status,
    StatusChangeKind,
    VendorSupport,
)

SHARE = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


class Solution(models.Model):
    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=30)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    organisation_types = models.ManyToManyField(
        OrganisationType, related_name="solutions", verbose_name=_("applies to")
    )
    area_wise = models.BooleanField(
        _("rolled out area by area"),
        default=False,
        help_text=_("Rolled out per health-trust area, with actors in an area starting together."),
    )
    requires = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="required_by",
        verbose_name=_("requires"),
        help_text=_(
            "Solutions that must be in use at the same organisation before this one is "
            "tried or used there (where they apply to the organisation's type)."
        ),
    )
    national_phase = models.CharField(
        _("national phase"), max_length=30, choices=Phase, default=Phase.ASSIGNMENT
    )
    ready_share_threshold = models.DecimalField(
        _("readiness threshold"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.600"),
        validators=SHARE,
        help_text=_("Share of an area's actors (and of each type) that must be ready to start."),
    )
    agreement_share_threshold = models.DecimalField(
        _("agreement threshold"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.500"),
        validators=SHARE,
        help_text=_("Share of an area's actors that must be covered by an intention agreement."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("solution")
        verbose_name_plural = _("solutions")

    def __str__(self) -> str:
        return self.name


@append_only
class PhaseChange(models.Model):
    """Append-only: every change of a national or area phase."""

    solution = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="phase_changes", verbose_name=_("solution")
    )
    health_trust = models.ForeignKey(
        HealthTrust,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("health trust"),
    )
    from_phase = models.CharField(_("from phase"), max_length=30, choices=Phase)
    to_phase = models.CharField(_("to phase"), max_length=30, choices=Phase)
    note = models.TextField(_("note"), blank=True)
    changed_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("phase change")
        verbose_name_plural = _("phase changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.solution.short_name}: {self.from_phase} → {self.to_phase}"


class AreaRollout(models.Model):
    """The rollout of an area-wise solution (PLL) in one health-trust area."""

    solution = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="areas", verbose_name=_("solution")
    )
    health_trust = models.ForeignKey(
        HealthTrust, on_delete=models.PROTECT, related_name="rollouts", verbose_name=_("area")
    )
    phase = models.CharField(_("phase"), max_length=30, choices=Phase, default=Phase.PLANNING)
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    decision_date = models.DateField(_("start decision date"), null=True, blank=True)
    decision_reference = models.CharField(_("decision reference"), max_length=100, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_HEALTH_TRUST = "health_trust"

    class Meta:
        ordering = ["solution", "health_trust__name"]
        constraints = [
            models.UniqueConstraint(fields=["solution", "health_trust"], name="arearollout_unique")
        ]
        verbose_name = _("area rollout")
        verbose_name_plural = _("area rollouts")

    def __str__(self) -> str:
        return f"{self.solution.short_name} – {self.health_trust.short_name}"

    def get_absolute_url(self) -> str:
        return reverse("rollout:area_detail", args=[self.solution.code, self.health_trust.code])


class RolloutStatus(models.Model):
    """The current status of one organisation for one solution. No row means not started."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="rollout_statuses",
        verbose_name=_("organisation"),
    )
    solution = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="statuses", verbose_name=_("solution")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.NOT_STARTED
    )
    reason = models.TextField(_("reason"), blank=True)
    effective_date = models.DateField(_("date"))
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    objects = ScopedQuerySet.as_manager()
    SCOPE_ORGANISATION = "organisation"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "solution"], name="status_unique")
        ]
        indexes = [models.Index(fields=["solution", "status"])]
        verbose_name = _("rollout status")
        verbose_name_plural = _("rollout statuses")

    def __str__(self) -> str:
        return f"{self.organisation} – {self.solution.short_name}: {self.get_status_display()}"


@append_only
class StatusChange(models.Model):
    """Append-only history of rollout statuses. The database refuses UPDATE and DELETE
    (triggers in migration 0002, for PostgreSQL and SQLite) and TRUNCATE (0006)."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="status_changes",
        verbose_name=_("organisation"),
    )
    solution = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="changes", verbose_name=_("solution")
    )
    from_status = models.CharField(_("from"), max_length=20, choices=Status)
    to_status = models.CharField(_("to"), max_length=20, choices=Status)
    reason = models.TextField(_("reason"), blank=True)
    effective_date = models.DateField(_("date"))
    changed_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source)
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=StatusChangeKind,
        default=StatusChangeKind.CHANGE,
        help_text=_(
            "A correction either records drift found by the integrity check (it changes "
            "nothing) or corrects a wrong entry (see “corrects”)."
        ),
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
        help_text=_(
            "The wrong entry this correction replaces from its date on (rollout/corrections.py)."
        ),
    )
    prerequisite_override = models.TextField(
        _("prerequisite override"),
        blank=True,
        help_text=_("Why a coordinator let the change through although a prerequisite is unmet."),
    )

    objects = ScopedQuerySet.as_manager()
    SCOPE_ORGANISATION = "organisation"

    class Meta:
        ordering = ["-effective_date", "-id"]
        indexes = [
            models.Index(fields=["solution", "effective_date", "id"]),
            # The history as recorded, newest first (the status-history list and API).
            models.Index(fields=["-changed_at", "-id"], name="statuschange_recorded"),
            # The chain of one pair in history order (integrity check, the last entry).
            models.Index(
                fields=["organisation", "solution", "effective_date", "id"],
                name="statuschange_chain",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(corrects__isnull=True)
                | models.Q(kind=StatusChangeKind.CORRECTION),
                name="statuschange_corrects_is_a_correction",
            )
        ]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.organisation_id}/{self.solution_id}: {self.from_status} → {self.to_status}"


class Prerequisite(models.Model):
    """A readiness checklist item for a solution (forutsetning)."""

    solution = models.ForeignKey(
        Solution, on_delete=models.CASCADE, related_name="prerequisites", verbose_name=_("solution")
    )
    text = models.CharField(_("prerequisite"), max_length=250)
    scope = models.CharField(_("about"), max_length=20, choices=PrerequisiteScope)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    follows_from = models.ForeignKey(
        Solution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered from the status of"),
        help_text=_(
            "For items about the organisation: the solution whose status answers the item. "
            "In use there: ready; the solution does not apply to the organisation's type: "
            "not relevant; otherwise the municipality is asked."
        ),
    )

    # The one place that says which statuses answer an item that follows from a status.
    READY_WHEN = frozenset({Status.IN_USE})

    class Meta:
        ordering = ["solution", "sort_order", "id"]
        verbose_name = _("prerequisite")
        verbose_name_plural = _("prerequisites")

    def __str__(self) -> str:
        return self.text

    def answer_from(self, status: str, applies: bool) -> str:
        """The answer that follows from the organisation's status for `follows_from`
        (`applies`: that solution applies to its type), or "" when it must be asked."""
        if self.follows_from_id is None:
            return ""
        if not applies:
            return Answer.NOT_RELEVANT
        return Answer.READY if status in self.READY_WHEN else ""


class RecordSystemSupport(models.Model):
    """Whether a record system (through its vendor) supports a solution."""

    solution = models.ForeignKey(
        Solution, on_delete=models.CASCADE, related_name="support", verbose_name=_("solution")
    )
    record_system = models.ForeignKey(
        RecordSystem,
        on_delete=models.CASCADE,
        related_name="solution_support",
        verbose_name=_("record system"),
    )
    support = models.CharField(_("support"), max_length=20, choices=VendorSupport)
    expected_date = models.DateField(_("expected"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=250, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["solution", "record_system"], name="support_unique")
        ]
        verbose_name = _("record-system support")
        verbose_name_plural = _("record-system support")

    def __str__(self) -> str:
        return f"{self.record_system} – {self.solution.short_name}: {self.support}"


class ReadinessReport(ReviewedReport):
    """A municipality's readiness report for one solution (beredskapsrapport), reviewed
    by a coordinator for the area (actors/review.py, rollout.services.READINESS_REVIEW)."""

    solution = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="reports", verbose_name=_("solution")
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="readiness_reports",
        verbose_name=_("municipality"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_MUNICIPALITY = "municipality"

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("readiness report")
        verbose_name_plural = _("readiness reports")

    def __str__(self) -> str:
        return f"{self.solution.short_name} – {self.municipality.name}"

    def get_absolute_url(self) -> str:
        return reverse("rollout:report_detail", args=[self.pk])


class ReadinessAnswer(models.Model):
    report = models.ForeignKey(
        ReadinessReport, on_delete=models.CASCADE, related_name="answers", verbose_name=_("report")
    )
    prerequisite = models.ForeignKey(
        Prerequisite, on_delete=models.PROTECT, related_name="+", verbose_name=_("prerequisite")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    answer = models.CharField(_("answer"), max_length=20, choices=Answer, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    expected_date = models.DateField(_("expected date"), null=True, blank=True)
    from_status = models.CharField(
        _("answered from status"),
        max_length=20,
        choices=Status,
        blank=True,
        help_text=_("The organisation's status the answer follows from; the item is not asked."),
    )

    class Meta:
        verbose_name = _("readiness answer")
        verbose_name_plural = _("readiness answers")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "prerequisite", "organisation"], name="answer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prerequisite}: {self.answer or '–'}"


# --- governance (evaluation and decision points, change log, cut list, dependencies) ---

PROGRAMME = "Helhetlig samhandling – steg 2"


class GovernanceSchedule(models.Model):
    """How often a programme holds evaluation and decision points."""

    programme = models.CharField(_("programme"), max_length=200, unique=True, default=PROGRAMME)
    cadence = models.CharField(_("cadence"), max_length=20, choices=Cadence)
    first_date = models.DateField(_("first point"))
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("decision-point schedule")
        verbose_name_plural = _("decision-point schedules")

    def __str__(self) -> str:
        return f"{self.programme}: {self.get_cadence_display()}"


class DecisionPoint(models.Model):
    """An evaluation and decision point (evaluerings- og beslutningspunkt): a brief prepared
    from the data, and the decisions taken."""

    programme = models.CharField(_("programme"), max_length=200, default=PROGRAMME)
    title = models.CharField(_("title"), max_length=200)
    scheduled_for = models.DateField(_("date"))
    held_on = models.DateField(_("held"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=DecisionPointStatus, default=DecisionPointStatus.PLANNED
    )
    brief = models.JSONField(_("brief"), default=dict, blank=True)
    brief_generated_at = models.DateTimeField(_("brief prepared"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    scope_until_next = models.TextField(_("scope until the next point"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        verbose_name = _("decision point")
        verbose_name_plural = _("decision points")

    def __str__(self) -> str:
        return self.title


@append_only
class Decision(models.Model):
    """A decision taken at a decision point. Starting or stopping an area updates the area's
    rollout record through the rollout services. Append-only (migration 0006): a decision
    is corrected by a later one, never rewritten."""

    decision_point = models.ForeignKey(
        DecisionPoint,
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("decision point"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DecisionKind)
    text = models.TextField(_("decision"))
    reason = models.TextField(_("reason"), blank=True)
    cost_benefit_note = models.TextField(_("cost and benefit"), blank=True)
    solution = models.ForeignKey(
        Solution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("solution"),
    )
    health_trust = models.ForeignKey(
        HealthTrust, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("area"),
    )  # fmt: skip
    effective_date = models.DateField(_("takes effect"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), auto_now_add=True)

    class Meta:
        ordering = ["decision_point", "id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"


@append_only
class ChangeLogEntry(models.Model):
    """The change log (endringslogg): every decision and every change of scope, target or
    threshold, with its reason. Append-only: the database refuses UPDATE and DELETE."""

    kind = models.CharField(_("kind"), max_length=20, choices=ChangeKind)
    title = models.CharField(_("change"), max_length=300)
    reason = models.TextField(_("reason"))
    cost_benefit_note = models.TextField(_("cost and benefit"), blank=True)
    subject = models.CharField(
        _("concerns"), max_length=200, blank=True, help_text=_("E.g. a target or solution code.")
    )
    decision_point = models.ForeignKey(
        DecisionPoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("decision point"),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("decision"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("change-log entry")
        verbose_name_plural = _("change log")

    def __str__(self) -> str:
        return self.title


class CutListItem(models.Model):
    """Optional scope that can be cut (kuttliste). For a solution rolled out area by area
    (PLL) an item is a whole area, never single organisations."""

    title = models.CharField(_("title"), max_length=200)
    justification = models.TextField(_("justification"))
    cost_consequence = models.TextField(_("consequence for cost"), blank=True)
    benefit_consequence = models.TextField(_("consequence for benefit"), blank=True)
    solution = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="cut_items", verbose_name=_("solution")
    )
    health_trust = models.ForeignKey(
        HealthTrust, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("area"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=20, choices=CutStatus, default=CutStatus.PROPOSED
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decision"),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["solution", "title"]
        verbose_name = _("cut-list item")
        verbose_name_plural = _("cut list")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.solution_id and self.solution.area_wise and not self.health_trust_id:
            raise ValidationError(
                {
                    "health_trust": _(
                        "%(s)s is rolled out area by area: a cut-list item is a whole area."
                    )
                    % {"s": self.solution.name}
                }
            )


class Dependency(models.Model):
    """An external delivery the rollout waits for (the steg 1 trust model, the kritisk
    informasjon standard, SFM for PLO, …)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    provider = models.CharField(_("delivered by"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=DependencyStatus, default=DependencyStatus.PLANNED
    )
    expected_date = models.DateField(_("expected"), null=True, blank=True)
    delivered_date = models.DateField(_("delivered"), null=True, blank=True)
    solutions = models.ManyToManyField(
        Solution, related_name="dependencies", verbose_name=_("solutions waiting for it")
    )
    health_trusts = models.ManyToManyField(
        HealthTrust,
        blank=True,
        related_name="dependencies",
        verbose_name=_("areas"),
        help_text=_("Empty: every area."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["expected_date", "name"]
        verbose_name = _("dependency")
        verbose_name_plural = _("dependencies")

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status != DependencyStatus.DELIVERED


# --- integrity of the history (rollout/integrity.py) ----------------------------------


class IntegrityCheckRun(models.Model):
    """One run of the integrity check: the history chain of every (organisation, solution)
    against the current statuses, and whatever the higher layers registered (the stored
    coverage snapshots against a live count). Findings are kept as JSON, as found."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Nightly")
        COMMAND = "command", _("Command")
        PAGE = "page", _("Page")
        REPAIR = "repair", _("After a repair")

    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("started by"),
    )  # fmt: skip
    finding_count = models.PositiveIntegerField(_("findings"), default=0)
    counts = models.JSONField(_("findings by kind"), default=dict, blank=True)
    findings = models.JSONField(_("findings"), default=list, blank=True)
    truncated = models.BooleanField(
        _("findings cut short"),
        default=False,
        help_text=_("More findings than are stored; the counts are complete."),
    )
    repaired = models.PositiveIntegerField(_("corrections written"), default=0)
    notified = models.PositiveIntegerField(_("administrators e-mailed"), default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("integrity check")
        verbose_name_plural = _("integrity checks")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}: {self.finding_count}"
