"""seed_rollout writes the rollout demo once, in order: stand-in users, vendor support,
phases and areas, the status history from the plan, readiness reports."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from actors.choices import Role
from actors.models import Notification, User
from actors.scoping import SYSTEM_USER

from .. import services
from ..choices import Source
from ..models import StatusChange
from .kjernejournal import KjernejournalPlan
from .medication import MedicationPlan
from .phases import _area_rollouts, _national_phases
from .readiness import _readiness_reports
from .sharing import SharingPlan
from .vendors import _record_system_support

SYSTEM_USERNAMES = ("demo-system-koordinator", "demo-system-kommunekontakt")


@dataclass
class Summary:
    changes: int
    organisations: int
    reports: int
    areas: int
    phases: int


def already_seeded() -> bool:
    return StatusChange.objects.filter(
        source=Source.SYSTEM, organisation__is_synthetic=True
    ).exists()


def seed_rollout(seed: int) -> Summary | None:
    """Write the rollout demo data once; None if it is already there."""
    if already_seeded():
        return None
    today = services.today()
    with transaction.atomic():
        coordinator, contact = _system_users()
        _record_system_support()
        phases = _national_phases(coordinator)
        areas = _area_rollouts()
        plan = Plan(seed, today)
        plan.build()
        changes = services.status_history_load(
            user=SYSTEM_USER, changes=plan.entries(), source=Source.SYSTEM
        )
        reports = _readiness_reports(seed, contact, coordinator)
        # The demo-system users acted only to write these records; nobody can sign in as them.
        users = [coordinator.pk, contact.pk]
        Notification.objects.filter(user__in=users).delete()
        User.objects.filter(pk__in=users).update(is_active=False)
    return Summary(changes, len(plan.touched_orgs()), reports, areas, phases)


class Plan(KjernejournalPlan, MedicationPlan, SharingPlan):
    """Every solution's status histories, in an order where each can build on the last."""

    def build(self) -> None:
        self.kjernejournal()
        pll_sfm_first = self.pll()
        self.sfm(pll_sfm_first)
        self.e_multidose()
        self.critical_information()
        self.document_sharing()
        self.data_sharing()


def _system_users() -> tuple[User, User]:
    """A national coordinator and a municipality contact that stand for "the system" where a
    service needs a real user (national phases, readiness reports). Active only inside the
    seeding transaction; they have no password."""
    users = []
    for username, role, last in (
        (SYSTEM_USERNAMES[0], Role.COORDINATOR, "koordinator"),
        (SYSTEM_USERNAMES[1], Role.MUNICIPALITY_CONTACT, "kommunekontakt"),
    ):
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = "Demodata", f"({last})"
        user.role, user.is_active = role, True
        user.national_scope = role == Role.COORDINATOR
        user.set_unusable_password()
        user.save()
        users.append(user)
    return users[0], users[1]
