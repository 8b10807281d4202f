"""seed_benefits writes the benefits demo once, in order: the agreements, the benefit register,
the benefit reports reviewed by the rollout demo's coordinator stand-in."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import transaction

from actors.choices import Role
from actors.models import Notification, User
from rollout.demo import SYSTEM_USERNAMES

from ..choices import AgreementStatus
from ..models import IntentAgreement
from ..selectors import agreement_coverage
from .agreement_plan import MARKER
from .agreements import _agreement_plans
from .register import BENEFITS, _register
from .reports import _reports


@dataclass
class Summary:
    agreements: int
    signed: int
    coverage: float
    benefits: int
    reports: int


def already_seeded() -> bool:
    return IntentAgreement.objects.filter(notes__startswith=MARKER).exists()


def seed_benefits(seed: int) -> Summary | None:
    """Write the agreements, register and reports once; None if they are already there."""
    if already_seeded():
        return None
    rng = random.Random(seed * 1_000_033 + 2020)
    with transaction.atomic():
        reviewer = _stand_in_reviewer()
        plans = _agreement_plans(rng)
        for plan in plans:
            plan.save()
        benefits = _register()
        reports = 0
        for spec in BENEFITS:
            reports += _reports(rng, spec, benefits[spec.name], reviewer)
        # The stand-in acted only to review these reports; nobody can sign in as it.
        Notification.objects.filter(user=reviewer).delete()
        User.objects.filter(pk=reviewer.pk).update(is_active=False)
    signed = sum(p.status == AgreementStatus.SIGNED for p in plans)
    share = agreement_coverage().nation.share
    return Summary(len(plans), signed, share, len(benefits), reports)


def _stand_in_reviewer() -> User:
    """The rollout demo's national coordinator stand-in (benefit_report_review records a real
    reviewer). Active only inside the seeding transaction; it has no password."""
    user, _ = User.objects.get_or_create(username=SYSTEM_USERNAMES[0])
    user.first_name, user.last_name = "Demodata", "(koordinator)"
    user.role, user.is_active, user.national_scope = Role.COORDINATOR, True, True
    user.set_unusable_password()
    user.save()
    return user
