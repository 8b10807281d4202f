from django.db import models
from django.utils.translation import gettext_lazy as _

from actors.choices import ReportStatus  # noqa: F401  (one review workflow: actors/review.py)


class AgreementStatus(models.TextChoices):
    DRAFT = "utkast", _("Draft")
    SENT = "sendt", _("Sent")
    SIGNED = "signert", _("Signed")
    ENDED = "avsluttet", _("Ended")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class MeasurementKind(models.TextChoices):
    BASELINE = "nullpunkt", _("Baseline")
    FOLLOW_UP = "oppfolging", _("Follow-up")


class TargetUnit(models.TextChoices):
    ORGANISATIONS = "organisations", _("Organisations")
    MUNICIPALITIES = "municipalities", _("Municipalities")


class Denominator(models.TextChoices):
    """What a target counts against."""

    ALL = "all", _("All active organisations of the types (all municipalities)")
    RELEVANT = (
        "relevant",
        _(
            "Active organisations of the types not marked “not relevant” (municipalities with at "
            "least one such organisation)"
        ),
    )


class MunicipalityRule(models.TextChoices):
    """When a municipality counts for a municipality-level target."""

    ALL = "all", _("Every relevant organisation of the types has an achieved status")
    ANY = "any", _("At least one organisation of the types has an achieved status")


class Level(models.TextChoices):
    """The levels a coverage snapshot is computed for."""

    NATION = "nation", _("Nation")
    REGION = "rha", _("Regional health authority")
    AREA = "area", _("Health-trust area")
    COUNTY = "county", _("County")
    MUNICIPALITY = "municipality", _("Municipality")


class Verdict(models.TextChoices):
    REACHED = "reached", _("Reached")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Not on track")
    UNKNOWN = "unknown", _("Too little history")
