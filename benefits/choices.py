from django.db import models
from django.utils.translation import gettext_lazy as _


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


class ReportStatus(models.TextChoices):
    DRAFT = "utkast", _("Draft")
    SUBMITTED = "innsendt", _("Submitted")
    APPROVED = "godkjent", _("Approved")
    RETURNED = "returnert", _("Returned")
