from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Rollout coordinator")
    MUNICIPALITY_CONTACT = "municipality_contact", _("Municipality contact")
    DIRECTORATE = "directorate", _("Directorate")
    ADMIN = "admin", _("Administrator")


class OrganisationTypeCode(models.TextChoices):
    """The fixed organisation types; rows in OrganisationType carry these codes."""

    GP_OFFICE = "fastlegekontor", _("GP office")
    NURSING_HOME = "sykehjem", _("Nursing home")
    HOME_CARE = "hjemmetjeneste", _("Home care service")
    EMERGENCY_PRIMARY_CARE = "legevakt", _("Emergency primary care")
    MUNICIPAL_ACUTE_BEDS = "ohd", _("Municipal acute beds (ØHD/KAD)")
    PHARMACY = "apotek", _("Pharmacy")
    SPECIALIST = "avtalespesialist", _("Contracted specialist")
    HOSPITAL = "sykehus", _("Hospital")
    MUNICIPALITY = "kommune", _("Municipal health and care service")


class Source(models.TextChoices):
    """Where a recorded change came from (status history, registry history)."""

    UI = "ui", _("User interface")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


class ReportStatus(models.TextChoices):
    """Where a reviewed report stands (actors/review.py): readiness and benefit reports."""

    DRAFT = "utkast", _("Draft")
    SUBMITTED = "innsendt", _("Submitted")
    APPROVED = "godkjent", _("Approved")
    RETURNED = "returnert", _("Returned")
