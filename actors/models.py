"""Reference structure (regions, trusts, counties, municipalities), organisations,
record systems and users."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.no import orgnr as stdnum_orgnr

from . import scoping
from .append_only import append_only
from .choices import OrganisationTypeCode, Role, Source


class ScopedQuerySet(models.QuerySet):
    """Querysets that answer `visible_to(user)` and `editable_by(user)` from scoping.py."""

    def visible_to(self, user):
        return scoping.scope_for(user).filter_visible(self)

    def editable_by(self, user):
        return scoping.scope_for(user).filter_editable(self)


STRUCTURE_START = datetime.date(2020, 1, 1)


class DatedQuerySet(ScopedQuerySet):
    """Counties and municipalities exist for a period (valid_from to valid_to, both
    inclusive; no valid_to: still there). Lists show the structure of today by default."""

    def on(self, day: datetime.date):
        return self.filter(valid_from__lte=day).filter(
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=day)
        )

    def current(self):
        return self.on(timezone.localdate())


class RegionalHealthAuthority(models.Model):
    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("regional health authority")
        verbose_name_plural = _("regional health authorities")

    def __str__(self) -> str:
        return self.name


class HealthTrust(models.Model):
    """A health trust (HF). Its catchment area (opptaksområde) is a rollout area."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=40)
    regional_health_authority = models.ForeignKey(
        RegionalHealthAuthority,
        on_delete=models.PROTECT,
        related_name="health_trusts",
        verbose_name=_("regional health authority"),
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("health trust")
        verbose_name_plural = _("health trusts")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("actors:healthtrust_detail", args=[self.code])


class County(models.Model):
    number = models.CharField(
        _("county number"), max_length=2, unique=True, validators=[RegexValidator(r"^\d{2}$")]
    )
    name = models.CharField(_("name"), max_length=100)
    valid_from = models.DateField(_("valid from"), default=STRUCTURE_START)
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("Empty while the county exists.")
    )

    objects = DatedQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("county")
        verbose_name_plural = _("counties")

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    number = models.CharField(
        _("municipality number"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^\d{4}$", _("A municipality number has four digits."))],
    )
    name = models.CharField(_("name"), max_length=100)
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("county")
    )
    # The latest year's population (MunicipalityPopulation has every year).
    population = models.PositiveIntegerField(_("population"))
    population_67_plus = models.PositiveIntegerField(_("population aged 67 and over"))
    population_year = models.PositiveSmallIntegerField(_("population year"), default=2023)
    health_trusts = models.ManyToManyField(
        HealthTrust,
        through="Catchment",
        related_name="municipalities",
        verbose_name=_("health trusts"),
    )
    # A municipality keeps its identity when it is renumbered or renamed (number, name and
    # county above are today's; MunicipalityVersion has every period's). A part split off
    # is a new municipality with its predecessor recorded (1580 Haram from 1507 Ålesund).
    valid_from = models.DateField(_("valid from"), default=STRUCTURE_START)
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("Empty while the municipality exists.")
    )
    predecessors = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="successors",
        verbose_name=_("split from or merged from"),
    )

    objects = DatedQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("actors:municipality_detail", args=[self.number])

    @property
    def identity_key(self) -> str:
        """What identifies the municipality across renumbering: the number of its first
        version (prefetch `versions` to read many at once)."""
        versions = sorted(self.versions.all(), key=lambda v: v.valid_from)
        return versions[0].number if versions else self.number


class MunicipalityVersion(models.Model):
    """A municipality's number, name and county for a period (both ends inclusive)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("municipality"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    number = models.CharField(_("municipality number"), max_length=4, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county")
    )

    class Meta:
        ordering = ["municipality", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "valid_from"], name="municipality_version_unique"
            )
        ]
        verbose_name = _("municipality version")
        verbose_name_plural = _("municipality versions")

    def __str__(self) -> str:
        return f"{self.number} {self.name} ({self.valid_from:%d.%m.%Y}–)"


class MunicipalityPopulation(models.Model):
    """Residents on 1 January of a year, in the structure of that year (SSB 07459)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="populations",
        verbose_name=_("municipality"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    population = models.PositiveIntegerField(_("population"))
    population_67_plus = models.PositiveIntegerField(_("population aged 67 and over"))

    class Meta:
        ordering = ["municipality", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year"], name="municipality_population_unique"
            )
        ]
        verbose_name = _("population")
        verbose_name_plural = _("population")

    def __str__(self) -> str:
        return f"{self.municipality_id}: {self.population} ({self.year})"


class Catchment(models.Model):
    """Which health trust's catchment area a municipality's residents belong to.

    Every municipality has one row, except Oslo, which is split between two trusts.
    """

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="catchments",
        verbose_name=_("municipality"),
    )
    health_trust = models.ForeignKey(
        HealthTrust,
        on_delete=models.PROTECT,
        related_name="catchments",
        verbose_name=_("health trust"),
    )
    # The share of the municipality's residents in the trust's catchment (1 except Oslo),
    # and those residents in the municipality's latest population year.
    share = models.DecimalField(_("share"), max_digits=7, decimal_places=6, default=1)
    population = models.PositiveIntegerField(_("population"))

    class Meta:
        ordering = ["municipality__number", "health_trust__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "health_trust"], name="catchment_unique_pair"
            )
        ]
        verbose_name = _("catchment area share")
        verbose_name_plural = _("catchment area shares")

    def __str__(self) -> str:
        return f"{self.municipality} → {self.health_trust} ({self.population})"


class OrganisationType(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True, choices=OrganisationTypeCode)
    name = models.CharField(_("name"), max_length=100, unique=True)
    aliases = models.CharField(
        _("other names"),
        max_length=200,
        blank=True,
        help_text=_("Comma-separated names also accepted in imports."),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("organisation type")
        verbose_name_plural = _("organisation types")

    def __str__(self) -> str:
        return self.name

    def lookup_names(self) -> set[str]:
        names = {self.code, self.name, *self.aliases.split(",")}
        return {n.strip().casefold() for n in names if n.strip()}


class IndustryCode(models.Model):
    """Which organisation type an industry code (næringskode, SN2007/NACE) of
    Enhetsregisteret means. Data, editable in the admin; shipped with sourced defaults
    (actors/data/naeringskoder.csv). A code not listed here is not a type we track: an
    import skips such units and counts them."""

    code = models.CharField(
        _("industry code"),
        max_length=10,
        unique=True,
        validators=[
            RegexValidator(r"^\d{2}\.\d{1,3}$", _("Write the code as in SN2007, e.g. 86.211."))
        ],
    )
    description = models.CharField(_("description"), max_length=200)
    organisation_type = models.ForeignKey(
        OrganisationType,
        on_delete=models.PROTECT,
        related_name="industry_codes",
        verbose_name=_("organisation type"),
    )
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry code")
        verbose_name_plural = _("industry codes")

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Vendor(models.Model):
    """A record-system vendor (EPJ-leverandør)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    orgnr = models.CharField(_("organisation number"), max_length=9, blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")

    def __str__(self) -> str:
        return self.name


class RecordSystem(models.Model):
    """A vendor's product (EPJ, kurve or pharmacy system) that organisations use."""

    vendor = models.ForeignKey(
        Vendor, on_delete=models.PROTECT, related_name="products", verbose_name=_("vendor")
    )
    name = models.CharField(_("name"), max_length=100)
    organisation_types = models.ManyToManyField(
        OrganisationType, blank=True, verbose_name=_("used by organisation types")
    )

    class Meta:
        ordering = ["vendor__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="recordsystem_unique_name")
        ]
        verbose_name = _("record system")
        verbose_name_plural = _("record systems")

    def __str__(self) -> str:
        return f"{self.name} ({self.vendor.name})"


def validate_orgnr(value: str) -> None:
    if not value.isdigit() or len(value) != 9:
        raise ValidationError(
            _("An organisation number has nine digits; got “%(value)s”."),
            code="orgnr_format",
            params={"value": value},
        )
    if not stdnum_orgnr.is_valid(value):
        raise ValidationError(
            _("“%(value)s” is not a valid organisation number: the check digit is wrong."),
            code="orgnr_checksum",
            params={"value": value},
        )


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    type = models.ForeignKey(
        OrganisationType,
        on_delete=models.PROTECT,
        related_name="organisations",
        verbose_name=_("type"),
    )
    orgnr = models.CharField(
        _("organisation number"), max_length=9, unique=True, validators=[validate_orgnr]
    )
    her_id = models.PositiveIntegerField(
        _("HER-id"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="organisations",
        verbose_name=_("municipality"),
    )
    health_trust = models.ForeignKey(
        HealthTrust,
        on_delete=models.PROTECT,
        related_name="organisations",
        blank=True,
        verbose_name=_("health-trust area"),
        help_text=_("Derived from the municipality unless the municipality has two areas."),
    )
    record_system = models.ForeignKey(
        RecordSystem,
        on_delete=models.PROTECT,
        related_name="organisations",
        null=True,
        blank=True,
        verbose_name=_("record system"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_synthetic = models.BooleanField(
        _("synthetic"), default=False, help_text=_("Generated demo data, not a real organisation.")
    )
    search_text = models.CharField(
        _("search text"), max_length=300, editable=False, db_index=True, default=""
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "orgnr"]
        indexes = [
            # The default ordering: lists page through it without sorting every row.
            models.Index(fields=["name", "orgnr"], name="organisation_name_order"),
            models.Index(fields=["municipality", "type"]),
            models.Index(fields=["health_trust", "type"]),
        ]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("actors:organisation_detail", args=[self.pk])

    def clean_fields(self, exclude=None):
        if self.orgnr:
            self.orgnr = stdnum_orgnr.compact(str(self.orgnr))
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        if self.municipality_id is not None:
            trusts = list(self.municipality.health_trusts.all())
            if self.health_trust_id is None:
                if len(trusts) == 1:
                    self.health_trust = trusts[0]
                else:
                    raise ValidationError(
                        {
                            "health_trust": _(
                                "%(municipality)s belongs to more than one health-trust area "
                                "(%(areas)s); choose one."
                            )
                            % {
                                "municipality": self.municipality.name,
                                "areas": ", ".join(t.short_name for t in trusts),
                            }
                        }
                    )
            elif self.health_trust_id not in {t.pk for t in trusts}:
                raise ValidationError(
                    {
                        "health_trust": _(
                            "%(municipality)s is not in the catchment area of %(trust)s."
                        )
                        % {"municipality": self.municipality.name, "trust": self.health_trust.name}
                    }
                )
        self.search_text = search_text(self.name, self.orgnr, self.her_id)


def search_text(name: str, orgnr: str, her_id: int | None) -> str:
    """What the organisation search matches: name, organisation number and HER-id."""
    return " ".join(part for part in (name, orgnr, str(her_id or "")) if part).casefold()[:300]


@append_only
class OrganisationChange(models.Model):
    """Append-only registry history (registerendring): one row per changed field of an
    organisation, written in the same transaction as the change by actors.services. The
    database refuses UPDATE, DELETE and TRUNCATE (triggers in migrations 0008 and 0011)."""

    class Kind(models.TextChoices):
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        MOVE = "move", _("Moved")
        DEACTIVATE = "deactivate", _("Deactivated")
        REACTIVATE = "reactivate", _("Reactivated")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="registry_changes",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    field = models.CharField(
        _("field"), max_length=40, blank=True, help_text=_("Empty for a creation.")
    )
    old_value = models.TextField(_("from"), blank=True)
    new_value = models.TextField(_("to"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source)
    changed_at = models.DateTimeField(_("recorded"), default=timezone.now, db_index=True)
    changed_by = models.ForeignKey(
        "User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    objects = ScopedQuerySet.as_manager()
    SCOPE_ORGANISATION = "organisation"

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["organisation", "changed_at", "id"])]
        verbose_name = _("registry change")
        verbose_name_plural = _("registry changes")

    def __str__(self) -> str:
        return (
            f"{self.organisation_id} {self.kind} {self.field}: {self.old_value} → {self.new_value}"
        )

    @property
    def field_label(self) -> str:
        if not self.field:
            return ""
        return str(Organisation._meta.get_field(self.field).verbose_name)

    @staticmethod
    def _display(value: str) -> str:
        return {"true": _("yes"), "false": _("no")}.get(value, value)

    @property
    def old_display(self) -> str:
        return self._display(self.old_value)

    @property
    def new_display(self) -> str:
        return self._display(self.new_value)


@append_only
class OrganisationVersion(models.Model):
    """The registry as it was (issue 15): an organisation's type, municipality, health-trust
    area and active flag from `valid_from` on, one row per change of any of them, written
    with the change by actors.services. An organisation's state on a day is its latest
    version from that day or before; before its first version, the first one (the registry
    does not say where an organisation was before it was registered here). Append-only."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="registry_versions",
        verbose_name=_("organisation"),
    )
    valid_from = models.DateField(_("valid from"))
    type = models.ForeignKey(
        OrganisationType, on_delete=models.PROTECT, related_name="+", verbose_name=_("type")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    health_trust = models.ForeignKey(
        HealthTrust,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("health-trust area"),
    )
    is_active = models.BooleanField(_("active"))
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["organisation", "valid_from", "id"]
        indexes = [models.Index(fields=["organisation", "valid_from", "id"])]
        verbose_name = _("registry version")
        verbose_name_plural = _("registry versions")

    def __str__(self) -> str:
        return f"{self.organisation_id} from {self.valid_from}"


@append_only
class StructureChange(models.Model):
    """A change to the municipal structure applied as an operation (issue 15, see
    actors/structure_changes.py): who applied which change list, when, from which day, and
    what it did. `details` lets load_reference_data replay it on the shipped structure.
    Append-only."""

    effective_from = models.DateField(_("takes effect"))
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    content = models.TextField(_("change list"))
    summary = models.TextField(_("summary"))
    details = models.JSONField(_("details"), default=dict)
    applied_at = models.DateTimeField(_("applied"), default=timezone.now)
    applied_by = models.ForeignKey(
        "User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["-applied_at", "-id"]
        verbose_name = _("structure change")
        verbose_name_plural = _("structure changes")

    def __str__(self) -> str:
        return f"{self.effective_from:%d.%m.%Y} {self.file_name}"


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=30, choices=Role, blank=True)
    national_scope = models.BooleanField(
        _("national scope"),
        default=False,
        help_text=_("For coordinators: follow the whole country rather than assigned areas."),
    )
    health_trusts = models.ManyToManyField(
        HealthTrust,
        blank=True,
        related_name="coordinators",
        verbose_name=_("health-trust areas"),
        help_text=_("For coordinators: the areas they follow."),
    )
    municipalities = models.ManyToManyField(
        Municipality,
        blank=True,
        related_name="contacts",
        verbose_name=_("municipalities"),
        help_text=_("For municipality contacts: the municipalities they report for."),
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # Sign-in through the identity provider (actors/oidc.py): the provider's stable subject,
    # the organisation number it vouches for, and the provider group a role came from
    # (blank when the role was granted in the application; see actors/access.py).
    oidc_subject = models.CharField(
        _("identity-provider subject"), max_length=255, unique=True, null=True, blank=True
    )
    # Defaults in the database too, so rows written by code that predates the columns
    # (older migrations' states, raw inserts) stay valid.
    orgnr = models.CharField(
        _("organisation number"), max_length=9, blank=True, default="", db_default=""
    )
    role_from_group = models.CharField(
        _("role from identity-provider group"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


@append_only
class AccessChange(models.Model):
    """Append-only log of who may do what (tilgangslogg): one row per granted, changed or
    removed role, national scope, area or municipality of a user, written by actors.access
    in the same transaction as the change, whatever the path (pages, API, admin, sign-in).
    The database refuses UPDATE, DELETE and TRUNCATE (migration 0021)."""

    class Kind(models.TextChoices):
        ROLE = "role", _("Role")
        NATIONAL_SCOPE = "national_scope", _("National scope")
        AREA_ADDED = "area_added", _("Area added")
        AREA_REMOVED = "area_removed", _("Area removed")
        MUNICIPALITY_ADDED = "municipality_added", _("Municipality added")
        MUNICIPALITY_REMOVED = "municipality_removed", _("Municipality removed")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        TOKENS_REVOKED = "tokens_revoked", _("API keys revoked")
        ACTIVE = "active", _("Account active")

    class Source(models.TextChoices):
        UI = "ui", _("User interface")
        API = "api", _("API")
        ADMIN = "admin", _("Administration")
        IDP = "idp", _("Identity provider")
        INVITATION = "invitation", _("Invitation")
        SYSTEM = "system", _("System")

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="access_changes", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind)
    old_value = models.CharField(_("from"), max_length=200, blank=True)
    new_value = models.CharField(_("to"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source)
    changed_at = models.DateTimeField(_("recorded"), default=timezone.now, db_index=True)
    changed_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["user", "changed_at", "id"])]
        verbose_name = _("access change")
        verbose_name_plural = _("access changes")

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.old_value} → {self.new_value}"


class Invitation(models.Model):
    """Access waiting for a person: sent by e-mail with a link that expires, and, with
    sign-in through the identity provider, granted when that e-mail address signs in.
    Only the token's SHA-256 is stored. Rules and effects: actors.access."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Withdrawn")

    email = models.EmailField(_("e-mail address"), db_index=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=30, choices=Role)
    national_scope = models.BooleanField(_("national scope"), default=False)
    health_trusts = models.ManyToManyField(
        HealthTrust, blank=True, related_name="+", verbose_name=_("health-trust areas")
    )
    municipalities = models.ManyToManyField(
        Municipality, blank=True, related_name="invitations", verbose_name=_("municipalities")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accepted_invitations",
        verbose_name=_("accepted by"),
    )
    revoked_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return self.State.ACCEPTED
        if self.revoked_at:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.PENDING

    def get_state_display(self) -> str:
        return self.State(self.state).label


class Notification(models.Model):
    """A message to a user (also e-mailed): what happened and where to look."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    text = models.CharField(_("message"), max_length=500)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.text


class JobQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scoping.jobs_visible(user, self)


class Job(models.Model):
    """Progress of long work done by Celery (recomputations, back-fills, exports). The
    result backend does not exist in eager mode, so this table is what the UI polls."""

    class Kind(models.TextChoices):
        COVERAGE_RECOMPUTE = "coverage_recompute", _("Recompute coverage targets")
        COVERAGE_BACKFILL = "coverage_backfill", _("Back-fill coverage history")
        REPORT_EXPORT = "report_export", _("Status report")
        ORGANISATION_IMPORT = "organisation_import", _("Registry import")
        STATUS_IMPORT = "status_import", _("Status import")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=40, choices=Kind)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.QUEUED)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The outbox: a job is written with the change that asks for it, and sent to the broker
    # once committed. `sent_at` stays empty while the broker cannot be reached; the sweep
    # (benefits.services.jobs_sweep) sends what is pending and resends what was lost.
    sent_at = models.DateTimeField(_("sent to the queue"), null=True, blank=True)
    run_after = models.DateTimeField(_("run after"), null=True, blank=True)
    # Written by the worker at the start and at each step; a running job whose heartbeat
    # stops has lost its worker (stalled).
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "state"])]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display()})"

    @property
    def progress(self) -> float:
        if self.state == self.State.DONE:
            return 1.0
        return self.done / self.total if self.total else 0.0

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @staticmethod
    def stalled_before() -> datetime.datetime:
        """A running job with no sign of life since this moment has lost its worker."""
        return timezone.now() - datetime.timedelta(seconds=settings.JOB_STALLED_AFTER_SECONDS)

    @property
    def is_stalled(self) -> bool:
        last = self.heartbeat_at or self.started_at
        running = self.state == self.State.RUNNING
        return running and last is not None and last < self.stalled_before()

    @property
    def state_label(self) -> str:
        return str(_("Stalled")) if self.is_stalled else self.get_state_display()

    @property
    def has_file(self) -> bool:
        """A finished export whose file is still kept (see benefits.services)."""
        return self.state == self.State.DONE and bool(self.result.get("file"))

    @property
    def is_import(self) -> bool:
        """An uploaded file imported in the background (actors.import_jobs)."""
        return self.kind in (self.Kind.ORGANISATION_IMPORT, self.Kind.STATUS_IMPORT)


class ScheduledTaskRun(models.Model):
    """When each task of the beat schedule last finished (recorded by config/celery.py),
    so the health page can flag a beat that has stopped."""

    task = models.CharField(_("task"), max_length=200, unique=True)
    finished_at = models.DateTimeField(_("finished"))

    class Meta:
        ordering = ["task"]
        verbose_name = _("scheduled task run")
        verbose_name_plural = _("scheduled task runs")

    def __str__(self) -> str:
        return self.task


@append_only
class ReminderSent(models.Model):
    """A reminder e-mailed (and shown in the app) to a user: what was due, and when, so
    the same reminder is sent at most once per interval. Append-only (migration 0011): the
    throttle reads `sent_at`, so a rewritten row would let a reminder go twice or never;
    a user who was reminded is deactivated, not deleted (PROTECT)."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="reminders", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=40)
    items = models.JSONField(_("what was due"), default=list)
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["user", "kind", "sent_at"])]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")

    def __str__(self) -> str:
        return f"{self.user} – {self.kind} ({self.sent_at:%d.%m.%Y})"
