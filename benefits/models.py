"""Intention agreements, the benefit register and benefit reports."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from actors.append_only import append_only
from actors.models import Municipality, Organisation, ScopedQuerySet
from actors.review import ReviewedReport
from rollout.models import Solution

from .choices import (
    AgreementStatus,
    Denominator,
    Direction,
    Level,
    MeasurementKind,
    MunicipalityRule,
    TargetUnit,
)

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
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

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

    @property
    def current_document(self) -> AgreementDocument | None:
        """The signed document in force (prefetch `documents` to read many at once)."""
        return next((d for d in self.documents.all() if d.is_current), None)


# The agreement's many-to-many terms whose changes are recorded with the parties added
# and removed (AgreementChange.details), so coverage on a past day can be replayed.
AGREEMENT_TERMS = ("municipalities", "organisations", "solutions")


@append_only
class AgreementChange(models.Model):
    """Append-only record of who changed an agreement, when and what."""

    agreement = models.ForeignKey(
        IntentAgreement,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("agreement"),
    )
    changed_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    summary = models.TextField(_("summary"))
    # What the change did to the agreement's parties and solutions, by field:
    # {"municipalities": {"added": [pk, ...], "removed": [pk, ...]}, ...}. Empty when it
    # changed none of them (and on the "Created" entry). Past agreement coverage replays
    # it backwards (benefits.selectors.agreement_terms_on).
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("agreement change")
        verbose_name_plural = _("agreement changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return self.summary


class AgreementDocument(models.Model):
    """A version of an agreement's signed document (PDF). Uploading a new one supersedes
    the current version, which stays listed and downloadable; files are never dropped."""

    agreement = models.ForeignKey(
        IntentAgreement,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("agreement"),
    )
    file = models.FileField(_("file"), upload_to="agreements/")
    file_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"))
    superseded_at = models.DateTimeField(
        _("superseded"), null=True, blank=True, help_text=_("Empty for the current version.")
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement"],
                condition=models.Q(superseded_at__isnull=True),
                name="one_current_agreement_document",
            )
        ]
        verbose_name = _("agreement document")
        verbose_name_plural = _("agreement documents")

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class BenefitGoal(models.Model):
    """One of the five benefit goals (delmål) of steg 2."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order"]
        verbose_name = _("benefit goal")
        verbose_name_plural = _("benefit goals")

    def __str__(self) -> str:
        return self.name


class Benefit(models.Model):
    goal = models.ForeignKey(
        BenefitGoal, on_delete=models.PROTECT, related_name="benefits", verbose_name=_("goal")
    )
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
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["goal__sort_order", "name"]
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("benefits:benefit_detail", args=[self.pk])


class BenefitReport(ReviewedReport):
    """A measurement of a benefit's indicator for a period, by an organisation or a
    municipality: a baseline (nullpunktsmåling) or a follow-up. Reviewed by the
    directorate or a coordinator for the area (actors/review.py,
    benefits.services.BENEFIT_REVIEW)."""

    benefit = models.ForeignKey(
        Benefit, on_delete=models.PROTECT, related_name="reports", verbose_name=_("benefit")
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="benefit_reports",
        verbose_name=_("municipality"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="benefit_reports",
        help_text=_("Empty when the municipality reports for itself as a whole."),
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("measurement"), max_length=20, choices=MeasurementKind)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    method = models.CharField(_("method"), max_length=300)
    evidence = models.TextField(_("evidence"), blank=True)
    attachment = models.FileField(_("attachment (PDF)"), upload_to="benefit-reports/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

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


class CoverageTarget(models.Model):
    """A result target (resultatmål) as data: a ratio over organisations or municipalities,
    a threshold and a deadline. See benefits/coverage.py for how it is counted."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(
        _("source"), max_length=300, blank=True, help_text=_("Where the target is set.")
    )
    solution = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="targets", verbose_name=_("solution")
    )
    unit = models.CharField(_("counts"), max_length=20, choices=TargetUnit)
    organisation_types = models.ManyToManyField(
        "actors.OrganisationType", related_name="+", verbose_name=_("organisation types")
    )
    achieved_statuses = models.JSONField(
        _("achieved statuses"),
        default=list,
        help_text=_('The rollout statuses that count as achieved, e.g. ["i_bruk"].'),
    )
    denominator = models.CharField(
        _("denominator"), max_length=20, choices=Denominator, default=Denominator.ALL
    )
    municipality_rule = models.CharField(
        _("when a municipality counts"),
        max_length=10,
        choices=MunicipalityRule,
        default=MunicipalityRule.ALL,
        help_text=_("Only for targets that count municipalities."),
    )
    threshold = models.DecimalField(
        _("threshold"),
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1"))],
        help_text=_("Share to reach, e.g. 0.800 for 80 %."),
    )
    deadline = models.DateField(_("deadline"))
    per_area = models.BooleanField(
        _("tracked per area"),
        default=False,
        help_text=_("Each health-trust area is followed against the threshold on its own."),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["sort_order", "deadline", "name"]
        verbose_name = _("coverage target")
        verbose_name_plural = _("coverage targets")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("benefits:target_detail", args=[self.code])

    def clean(self) -> None:
        from rollout.choices import Status

        statuses = self.achieved_statuses
        if not isinstance(statuses, list) or not statuses:
            raise ValidationError(
                {"achieved_statuses": _("Name at least one status, as a list of codes.")}
            )
        unknown = [s for s in statuses if s not in Status.values]
        if unknown:
            raise ValidationError(
                {
                    "achieved_statuses": _("Unknown status %(s)s. Known: %(known)s.")
                    % {"s": ", ".join(map(str, unknown)), "known": ", ".join(Status.values)}
                }
            )
        if Status.NOT_STARTED in statuses or Status.NOT_RELEVANT in statuses:
            raise ValidationError(
                {
                    "achieved_statuses": _(
                        "“Not started” and “not relevant” cannot count as achieved."
                    )
                }
            )


class CoverageSnapshot(models.Model):
    """One target's numerator and denominator on one day at one level (the nation, a
    regional health authority, an area, a county or a municipality). Computed by Celery;
    recomputing a day replaces its rows."""

    # No index of its own: snapshot_unique begins with the target (one index less to
    # write for every snapshot row; a back-fill writes a million). No foreign-key
    # constraint in the database either: its check, one lookup per row at commit, was a
    # quarter of a year's back-fill (~3.5 of 15 s at ten times the registry). The rows are
    # derived figures that only the coverage jobs write, for the target they hold; targets
    # are retired, never deleted, and a deletion through Django still removes them
    # (on_delete runs in Django).
    target = models.ForeignKey(
        CoverageTarget,
        on_delete=models.CASCADE,
        related_name="snapshots",
        db_index=False,
        db_constraint=False,
        verbose_name=_("target"),
    )
    day = models.DateField(_("date"))
    level = models.CharField(_("level"), max_length=20, choices=Level)
    scope_id = models.PositiveIntegerField(
        _("scope"),
        default=0,
        help_text=_("The region, area, county or municipality; 0 for the nation."),
    )
    numerator = models.PositiveIntegerField(_("achieved"))
    denominator = models.PositiveIntegerField(_("of"))
    computed_at = models.DateTimeField(_("computed"), auto_now=True)

    class Meta:
        ordering = ["target", "level", "scope_id", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "day", "level", "scope_id"], name="snapshot_unique"
            )
        ]
        indexes = [models.Index(fields=["target", "level", "scope_id", "day"])]
        verbose_name = _("coverage snapshot")
        verbose_name_plural = _("coverage snapshots")

    def __str__(self) -> str:
        where = f"{self.level}:{self.scope_id}"
        return f"{self.target.code} {self.day} {where} {self.numerator}/{self.denominator}"

    @property
    def ratio(self) -> float:
        return self.numerator / self.denominator if self.denominator else 0.0
