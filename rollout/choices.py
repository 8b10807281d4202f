from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Re-exported: one set of sources for every history, one review workflow (actors/review.py).
from actors.choices import ReportStatus, Source  # noqa: F401


class Phase(models.TextChoices):
    ASSIGNMENT = "oppdrag", _("Assignment")
    PLANNING = "planlegging", _("Planning")
    LIMITED_ROLLOUT = "begrenset_bredding", _("Limited rollout")
    NATIONAL_ROLLOUT = "nasjonal_bredding", _("National rollout")


class Status(models.TextChoices):
    NOT_STARTED = "ikke_startet", _("Not started")
    PLANNING = "planlegging", _("Planning")
    TECHNICALLY_READY = "teknisk_klar", _("Technically ready")
    TRIAL = "i_utproving", _("In trial")
    IN_USE = "i_bruk", _("In use")
    BLOCKED = "blokkert", _("Blocked")
    NOT_RELEVANT = "ikke_relevant", _("Not relevant")
    STOPPED = "stanset", _("Stopped")


class StatusChangeKind(models.TextChoices):
    """What a status history row records: a change, or a correction that brings the history
    back in line with the current status after drift (rollout/integrity.py)."""

    CHANGE = "endring", pgettext_lazy("history kind", "Change")
    CORRECTION = "korreksjon", _("Correction")


S = Status
# The one place that says which status may follow which.
TRANSITIONS: dict[str, set[str]] = {
    S.NOT_STARTED: {S.PLANNING, S.TECHNICALLY_READY, S.TRIAL, S.IN_USE, S.BLOCKED, S.NOT_RELEVANT},
    S.PLANNING: {S.NOT_STARTED, S.TECHNICALLY_READY, S.TRIAL, S.IN_USE, S.BLOCKED, S.NOT_RELEVANT,
                 S.STOPPED},
    S.TECHNICALLY_READY: {S.PLANNING, S.TRIAL, S.IN_USE, S.BLOCKED, S.STOPPED},
    S.TRIAL: {S.TECHNICALLY_READY, S.IN_USE, S.BLOCKED, S.STOPPED},
    S.IN_USE: {S.BLOCKED, S.STOPPED},
    S.BLOCKED: {S.NOT_STARTED, S.PLANNING, S.TECHNICALLY_READY, S.TRIAL, S.IN_USE, S.STOPPED,
                S.NOT_RELEVANT},
    S.NOT_RELEVANT: {S.NOT_STARTED, S.PLANNING},
    S.STOPPED: {S.PLANNING, S.TECHNICALLY_READY, S.TRIAL, S.IN_USE},
}  # fmt: skip
# The usual road, one step at a time. A change forward along it that skips a step (ikke
# startet → i bruk) is allowed, but the person making it confirms it and its date.
PROGRESSION = [S.NOT_STARTED, S.PLANNING, S.TECHNICALLY_READY, S.TRIAL, S.IN_USE]


def skipped_steps(from_status: str, to_status: str) -> list[str]:
    """The steps of PROGRESSION a change jumps over ([]: a single step, a step back, or a
    change to or from a status off the road such as blocked)."""
    if from_status not in PROGRESSION or to_status not in PROGRESSION:
        return []
    return PROGRESSION[PROGRESSION.index(from_status) + 1 : PROGRESSION.index(to_status)]


# A reason is required when moving to these.
REASON_REQUIRED = {S.BLOCKED, S.NOT_RELEVANT, S.STOPPED}
# Entering these needs the solution's prerequisites (e.g. kjernejournal in use).
NEEDS_PREREQUISITES = {S.TRIAL, S.IN_USE}
# Counted as technically ready (for readiness verdicts) and as adopted.
READY_STATUSES = {S.TECHNICALLY_READY, S.TRIAL, S.IN_USE}
ADOPTED_STATUSES = {S.IN_USE}
# Display order and colours (charts, bars, legends). The colours follow Okabe and Ito's
# palette for colour-blind readers, darkened where needed: every pair stays apart (CIELAB
# distance at least 15) also as people with protanopia, deuteranopia or tritanopia see them
# (tests/rollout/test_status_colours.py), and the legend and the counts name each status.
STATUS_ORDER = [S.IN_USE, S.TRIAL, S.TECHNICALLY_READY, S.PLANNING, S.NOT_STARTED, S.BLOCKED,
                S.STOPPED, S.NOT_RELEVANT]  # fmt: skip
STATUS_COLOURS = {
    S.IN_USE: "#007a5a", S.TRIAL: "#56b4e9", S.TECHNICALLY_READY: "#0050a0",
    S.PLANNING: "#f0e442", S.NOT_STARTED: "#9a9a9a", S.BLOCKED: "#d55e00",
    S.STOPPED: "#8a3b78", S.NOT_RELEVANT: "#ececec",
}  # fmt: skip


class PrerequisiteScope(models.TextChoices):
    ORGANISATION = "organisation", _("The organisation")
    VENDOR = "vendor", _("The record-system vendor")
    AREA = "area", _("The area as a whole")


class Answer(models.TextChoices):
    READY = "klar", _("Ready")
    NOT_READY = "ikke_klar", _("Not ready")
    NOT_RELEVANT = "ikke_relevant", _("Not relevant")


class VendorSupport(models.TextChoices):
    SUPPORTED = "stottet", _("Supported")
    IN_DEVELOPMENT = "under_utvikling", _("In development")
    NOT_SUPPORTED = "ikke_stottet", _("Not supported")


# --- governance -----------------------------------------------------------------------


class Cadence(models.TextChoices):
    QUARTERLY = "kvartalsvis", _("Quarterly")
    HALF_YEARLY = "halvarlig", _("Half-yearly")
    YEARLY = "arlig", _("Yearly")


CADENCE_MONTHS = {Cadence.QUARTERLY: 3, Cadence.HALF_YEARLY: 6, Cadence.YEARLY: 12}


class DecisionPointStatus(models.TextChoices):
    PLANNED = "planlagt", _("Planned")
    PREPARED = "forberedt", _("Brief prepared")
    DECIDED = "besluttet", _("Decided")


class DecisionKind(models.TextChoices):
    START_AREA = "start_omrade", _("Start an area")
    STOP_AREA = "stans_omrade", _("Stop an area")
    SCOPE = "omfang", _("Change of scope")
    TARGET = "resultatmal", _("Change of a target")
    OTHER = "annet", _("Other adjustment")


class ChangeKind(models.TextChoices):
    DECISION = "beslutning", _("Decision")
    SCOPE = "omfang", _("Scope")
    TARGET = "resultatmal", _("Target")
    THRESHOLD = "terskel", _("Threshold")
    CUT_LIST = "kuttliste", _("Cut list")
    DEPENDENCY = "avhengighet", _("Dependency")


class CutStatus(models.TextChoices):
    PROPOSED = "foreslatt", _("Proposed")
    CUT = "kuttet", _("Cut")
    KEPT = "beholdt", _("Kept")


class DependencyStatus(models.TextChoices):
    PLANNED = "planlagt", _("Planned")
    IN_PROGRESS = "pagar", _("In progress")
    DELAYED = "forsinket", _("Delayed")
    DELIVERED = "levert", _("Delivered")
