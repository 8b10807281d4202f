"""Intention agreements, the benefit register and benefit reports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from actors.models import Municipality, Organisation, ScopedQuerySet
from rollout.models import Solution

from .choices import AgreementStatus, Direction, MeasurementKind, ReportStatus

DEFAULT_PROGRAMME = "Helhetlig samhandling – steg 2"


class IntentAgreement(models.Model):
    """An intention agreement (intensjonsavtale) with one or more municipalities and/or
    organisations, covering benefit realisation, financing principles and risk sharing."""

    title = models.CharField(_("title"), max_length=200)
    programme = models.CharField(_("programme"), max_length=200, default=DEFAULT_PROGRAMME)
    solutions = models.ManyToManyField(
        Solution,
        blank=True,
        related_name="agreements",
        verbose_name=_("solutions"),
        help_text=_("Empty means the whole programme."),
    )
    municipalities = models.ManyToManyField(
        Municipality, blank=True, related_name="agreements", verbose_name=_("municipalities")
    )
    organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="agreements", verbose_name=_("organisations")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=AgreementStatus, default=AgreementStatus.DRAFT
    )
    sent_date = models.DateField(_("sent"), null=True, blank=True)
    signed_date = models.DateField(_("signed"), null=True, blank=True)
    ended_date = models.DateField(_("ended"), null=True, blank=True)
    clause_benefits = models.BooleanField(_("benefit realisation"), default=False)
    clause_financing = models.BooleanField(_("financing principles"), default=False)
    clause_risk_sharing = models.BooleanField(_("risk sharing"), default=False)
    document = models.FileField(_("signed document (PDF)"), upload_to="agreements/", blank=True)
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_MUNICIPALITY = ("municipalities", "organisations__municipality")

    class Meta:
        ordering = ["-signed_date", "title"]
        verbose_name = _("intention agreement")
        verbose_name_plural = _("intention agreements")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("benefits:agreement_detail", args=[self.pk])


class AgreementChange(models.Model):
    """Append-only record of who changed an agreement, when and what."""

    agreement = models.ForeignKey(IntentAgreement, on_delete=models.PROTECT, related_name="changes")
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    summary = models.TextField()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return self.summary


class BenefitGoal(models.Model):
    """One of the five benefit goals (delmål) of steg 2."""

    code = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=200)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order"]
        verbose_name = _("benefit goal")
        verbose_name_plural = _("benefit goals")

    def __str__(self) -> str:
        return self.name


class Benefit(models.Model):
    goal = models.ForeignKey(BenefitGoal, on_delete=models.PROTECT, related_name="benefits")
    name = models.CharField(_("benefit"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    indicator = models.CharField(_("indicator"), max_length=200)
    unit = models.CharField(_("unit"), max_length=50)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction)
    solutions = models.ManyToManyField(Solution, related_name="benefits", verbose_name=_("from"))
    owner = models.CharField(
        _("benefit owner"),
        max_length=200,
        help_text=_("The organisation or role responsible for realising the benefit."),
    )
    baseline_required = models.BooleanField(_("baseline required before rollout"), default=True)
    target_value = models.DecimalField(
        _("target value"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["goal__sort_order", "name"]
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("benefits:benefit_detail", args=[self.pk])


class BenefitReport(models.Model):
    """A measurement of a benefit's indicator for a period, by an organisation or a
    municipality: a baseline (nullpunktsmåling) or a follow-up."""

    benefit = models.ForeignKey(Benefit, on_delete=models.PROTECT, related_name="reports")
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="benefit_reports"
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="benefit_reports",
        help_text=_("Empty when the municipality reports for itself as a whole."),
    )
    kind = models.CharField(_("measurement"), max_length=20, choices=MeasurementKind)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    method = models.CharField(_("method"), max_length=300)
    evidence = models.TextField(_("evidence"), blank=True)
    attachment = models.FileField(_("attachment (PDF)"), upload_to="benefit-reports/", blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus, default=ReportStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_comment = models.TextField(_("review comment"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    SCOPE_MUNICIPALITY = "municipality"

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("benefit report")
        verbose_name_plural = _("benefit reports")

    def __str__(self) -> str:
        return f"{self.benefit} – {self.reporter_name} ({self.get_kind_display()})"

    def get_absolute_url(self) -> str:
        return reverse("benefits:report_detail", args=[self.pk])

    @property
    def reporter_name(self) -> str:
        return self.organisation.name if self.organisation_id else self.municipality.name
