"""External dependencies (avhengigheter) and reminders (påminnelser): services and selectors.

Dependencies are programme-wide reference records: every user with a role reads them;
national coordinators and administrators record and change them.

What is due, and for whom (the one place where "overdue" is decided):

- Municipality contacts, kind ``readiness``:
  * a municipality of theirs lies in an area whose rollout of an area-wise solution (PLL)
    has not started and plans to start within ``REMINDER_READINESS_LEAD_DAYS`` days
    (or should have started already), and the municipality has no submitted or approved
    readiness report for that solution;
  * a draft or returned readiness report of theirs not updated for
    ``REMINDER_STALE_DAYS`` days.
- Municipality contacts, kind ``benefit``:
  * an organisation of theirs started using a solution whose benefit needs a baseline
    without a submitted or approved baseline (benefits.selectors.missing_baselines);
  * a draft or returned benefit report of theirs not updated for ``REMINDER_STALE_DAYS``.
- Coordinators, kind ``review``: readiness reports and benefit reports submitted
  (innsendt) in their areas, waiting for review.

Everything is read through the user's own scope, so nobody is reminded of what they
cannot see. A user gets at most one reminder of a kind per ``REMINDER_INTERVAL_DAYS``
(settings; ReminderSent records what was sent).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from actors import scoping
from actors.choices import Role
from actors.concurrency import check_version
from actors.models import Catchment, HealthTrust, Municipality, ReminderSent, User
from rollout.choices import DecisionPointStatus, DependencyStatus, Phase, ReportStatus
from rollout.conditions import AreaFacts, Condition
from rollout.models import AreaRollout, DecisionPoint, Dependency, ReadinessReport, Solution

# --- dependencies ---------------------------------------------------------------------

DEPENDENCY_FIELDS = (
    "name",
    "description",
    "provider",
    "status",
    "expected_date",
    "delivered_date",
)


def can_edit_dependencies(user) -> bool:
    """National coordinators and administrators."""
    scope = scoping.scope_for(user)
    return scope.edits_all and scope.role in (Role.COORDINATOR, Role.ADMIN)


def dependencies_visible(user):
    """Every dependency for users with a role, nothing for others."""
    qs = Dependency.objects.prefetch_related("solutions", "health_trusts")
    return qs if scoping.scope_for(user).role else qs.none()


def applicable_dependencies(solution: Solution, trust: HealthTrust | None = None):
    """Dependencies of the solution (delivered or not); with `trust`, those that apply to
    that area (named for it, or for every area)."""
    qs = Dependency.objects.filter(solutions=solution)
    if trust is not None:
        qs = qs.filter(Q(health_trusts__isnull=True) | Q(health_trusts=trust))
    return qs.distinct().prefetch_related("health_trusts").order_by("expected_date", "name")


def open_dependencies(solution: Solution, trust: HealthTrust | None = None):
    """Undelivered dependencies the solution (in the area `trust`) waits for."""
    return applicable_dependencies(solution, trust).exclude(status=DependencyStatus.DELIVERED)


def dependencies_condition(facts: AreaFacts) -> Condition:
    """The area readiness condition governance adds (rollout/conditions.py): it fails while
    an external delivery the solution waits for (in this area or in every area) is not
    delivered; `failing` lists the open ones."""
    deps = list(applicable_dependencies(facts.solution, facts.trust))
    waiting = [d for d in deps if d.is_open]
    return Condition(
        "dependencies",
        _("The external deliveries the solution depends on have been delivered"),
        _("External deliveries it depends on are not delivered"),
        passed=not waiting,
        met=len(deps) - len(waiting),
        total=len(deps),
        failing=waiting,
    )


def dependency_save(
    *,
    user,
    dependency_id: int | None,
    expected_version: int | None,
    fields: dict,
    solutions: Iterable[Solution] | None = None,
    health_trusts: Iterable[HealthTrust] | None = None,
) -> Dependency:
    """Create (dependency_id None) or change a dependency. `solutions`/`health_trusts`
    None keep the saved ones."""
    if not can_edit_dependencies(user):
        raise PermissionDenied(_("Only national coordinators record dependencies."))
    unknown = set(fields) - set(DEPENDENCY_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        if dependency_id is None:
            dependency = Dependency(version=0)
        else:
            dependency = Dependency.objects.select_for_update().get(pk=dependency_id)
            check_version(dependency, expected_version)
        for name, value in fields.items():
            setattr(dependency, name, value)
        if dependency.status == DependencyStatus.DELIVERED and not dependency.delivered_date:
            raise ValidationError(
                {"delivered_date": _("Give the date the dependency was delivered.")}
            )
        if dependency.status != DependencyStatus.DELIVERED and dependency.delivered_date:
            raise ValidationError(
                {"delivered_date": _("Only a delivered dependency has a delivery date.")}
            )
        if dependency_id is None and not solutions:
            raise ValidationError({"solutions": _("Choose the solutions that wait for it.")})
        dependency.version += 1
        dependency.full_clean()
        dependency.save()
        if solutions is not None:
            if not list(solutions):
                raise ValidationError({"solutions": _("Choose the solutions that wait for it.")})
            dependency.solutions.set(solutions)
        if health_trusts is not None:
            dependency.health_trusts.set(health_trusts)
    return dependency


# --- reminders: what is due -----------------------------------------------------------

READINESS = "readiness"
BENEFIT = "benefit"
REVIEW = "review"
KINDS_BY_ROLE = {Role.MUNICIPALITY_CONTACT: (READINESS, BENEFIT), Role.COORDINATOR: (REVIEW,)}


def kind_label(kind: str) -> str:
    return {
        READINESS: _("Readiness reports"),
        BENEFIT: _("Benefit reports and baselines"),
        REVIEW: _("Reports waiting for your review"),
    }.get(kind, kind)


def interval_days() -> int:
    return settings.REMINDER_INTERVAL_DAYS


def lead_days() -> int:
    return settings.REMINDER_READINESS_LEAD_DAYS


def stale_days() -> int:
    return settings.REMINDER_STALE_DAYS


def _item(text: str, link: str) -> dict:
    return {"text": text, "link": link}


def _readiness_due(user, today: datetime.date) -> list[dict]:
    items = []
    municipalities = Municipality.objects.visible_to(user)
    areas = (
        AreaRollout.objects.visible_to(user)
        .filter(
            solution__area_wise=True,
            actual_start__isnull=True,
            planned_start__isnull=False,
            planned_start__lte=today + datetime.timedelta(days=lead_days()),
            phase__in=[Phase.ASSIGNMENT, Phase.PLANNING],
        )
        .select_related("solution", "health_trust")
        .order_by("planned_start", "health_trust__name")
    )
    for area in areas:
        in_area = municipalities.filter(
            pk__in=Catchment.objects.filter(health_trust=area.health_trust).values(
                "municipality_id"
            )
        )
        reported = ReadinessReport.objects.filter(
            solution=area.solution,
            status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED],
        ).values("municipality_id")
        for m in in_area.exclude(pk__in=reported).order_by("name"):
            items.append(
                _item(
                    _("%(m)s: readiness report for %(s)s – %(a)s plans to start %(d)s")
                    % {
                        "m": m.name,
                        "s": area.solution.short_name,
                        "a": area.health_trust.short_name,
                        "d": area.planned_start.strftime("%d.%m.%Y"),
                    },
                    reverse("rollout:report_create"),
                )
            )
    stale = timezone.now() - datetime.timedelta(days=stale_days())
    for report in (
        ReadinessReport.objects.visible_to(user)
        .filter(status__in=[ReportStatus.DRAFT, ReportStatus.RETURNED], updated_at__lt=stale)
        .select_related("solution", "municipality")
        .order_by("updated_at")
    ):
        items.append(
            _item(
                _("%(m)s: %(s)s readiness report is %(st)s since %(d)s")
                % {
                    "m": report.municipality.name,
                    "s": report.solution.short_name,
                    "st": report.get_status_display().lower(),
                    "d": timezone.localtime(report.updated_at).strftime("%d.%m.%Y"),
                },
                report.get_absolute_url(),
            )
        )
    return items


def _benefit_due(user, today: datetime.date) -> list[dict]:
    from benefits.choices import ReportStatus as BenefitReportStatus
    from benefits.models import BenefitReport
    from benefits.selectors import missing_baselines

    items = []
    for row in missing_baselines(user, limit=100):
        items.append(
            _item(
                _("%(o)s (%(m)s): baseline for “%(b)s” missing – started %(d)s")
                % {
                    "o": row["organisation"].name,
                    "m": row["organisation"].municipality.name,
                    "b": row["benefit"].name,
                    "d": row["start"].strftime("%d.%m.%Y"),
                },
                reverse("benefits:report_create"),
            )
        )
    stale = timezone.now() - datetime.timedelta(days=stale_days())
    for report in (
        BenefitReport.objects.visible_to(user)
        .filter(
            status__in=[BenefitReportStatus.DRAFT, BenefitReportStatus.RETURNED],
            updated_at__lt=stale,
        )
        .select_related("benefit", "municipality", "organisation")
        .order_by("updated_at")
    ):
        items.append(
            _item(
                _("%(r)s: benefit report is %(st)s since %(d)s")
                % {
                    "r": report,
                    "st": report.get_status_display().lower(),
                    "d": timezone.localtime(report.updated_at).strftime("%d.%m.%Y"),
                },
                report.get_absolute_url(),
            )
        )
    return items


def _review_due(user, today: datetime.date) -> list[dict]:
    """What waits for the user's review; never what they submitted themselves."""
    from benefits.services import BENEFIT_REVIEW
    from rollout.services import READINESS_REVIEW

    items = []
    for report in (
        READINESS_REVIEW.waiting_for(user)
        .select_related("solution", "municipality")
        .order_by("submitted_at", "id")
    ):
        items.append(
            _item(
                _("Readiness report %(s)s – %(m)s, submitted %(d)s")
                % {
                    "s": report.solution.short_name,
                    "m": report.municipality.name,
                    "d": _date(report.submitted_at),
                },
                report.get_absolute_url(),
            )
        )
    for report in (
        BENEFIT_REVIEW.waiting_for(user)
        .select_related("benefit", "municipality", "organisation")
        .order_by("submitted_at", "id")
    ):
        items.append(
            _item(
                _("Benefit report %(r)s, submitted %(d)s")
                % {"r": report, "d": _date(report.submitted_at)},
                report.get_absolute_url(),
            )
        )
    return items


def _date(moment) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y") if moment else "–"


SELECTORS = {READINESS: _readiness_due, BENEFIT: _benefit_due, REVIEW: _review_due}


def reminders_due(user, today: datetime.date | None = None, kinds=None) -> dict[str, list]:
    """{kind: [{"text", "link"}]} of what is due for the user now, read through their
    scope; only kinds with something due. `kinds` narrows to those."""
    today = today or timezone.localdate()
    role = scoping.scope_for(user).role
    due = {}
    for kind in KINDS_BY_ROLE.get(role, ()):
        if kinds is not None and kind not in kinds:
            continue
        items = SELECTORS[kind](user, today)
        if items:
            due[kind] = items
    return due


# --- reminders: sending ---------------------------------------------------------------


def throttled_kinds(user, now: datetime.datetime | None = None) -> set[str]:
    """Kinds already sent to the user within the interval."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=interval_days())
    return set(
        ReminderSent.objects.filter(user=user, sent_at__gt=since).values_list("kind", flat=True)
    )


def reminder_send(user, now: datetime.datetime | None = None) -> list[ReminderSent]:
    """E-mail the user what is due, the kinds not sent within the interval, in one
    message; record each kind sent. Nothing due (or all throttled): nothing sent."""
    if not user.is_active:
        return []
    kinds = set(KINDS_BY_ROLE.get(scoping.scope_for(user).role, ())) - throttled_kinds(user, now)
    if not kinds:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        due = reminders_due(user, kinds=kinds)
        if not due:
            return []
        with transaction.atomic():
            sent = [ReminderSent.objects.create(user=user, kind=k, items=v) for k, v in due.items()]
        if user.email:
            subject, body = _message(due)
            transaction.on_commit(
                lambda: send_mail(
                    subject=subject,
                    message=body,
                    from_email=None,
                    recipient_list=[user.email],
                    fail_silently=True,
                )
            )
    return sent


def _message(due: dict[str, list]) -> tuple[str, str]:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    count = sum(len(v) for v in due.values())
    subject = _("Reminder: %(n)s things waiting for you") % {"n": count}
    lines = []
    for kind, items in due.items():
        lines += ["", f"{kind_label(kind)}:"]
        lines += [f"- {i['text']}" + (f" ({base}{i['link']})" if i["link"] else "") for i in items]
    lines += ["", _("All reminders: %(url)s") % {"url": base + reverse("governance:reminder_list")}]
    return subject, "\n".join(lines).strip()


def reminders_send(now: datetime.datetime | None = None) -> int:
    """The scheduled run: every active contact and coordinator. Returns how many users
    were reminded."""
    users = User.objects.filter(is_active=True, role__in=list(KINDS_BY_ROLE)).order_by("pk")
    return sum(1 for user in users.iterator() if reminder_send(user, now))


# --- start pages ----------------------------------------------------------------------

TARGET_HORIZON_DAYS = 365
DECISION_HORIZON_DAYS = 90


def upcoming_deadlines(today: datetime.date | None = None) -> dict:
    """Deadlines of active targets in the next 12 months and decision points in the next
    90 days not yet decided, by date (`rows`: {"date", "target" or "decision_point"}).
    Two queries; programme-wide (read by every role)."""
    from benefits.models import CoverageTarget

    today = today or timezone.localdate()
    targets = CoverageTarget.objects.filter(
        is_active=True,
        deadline__gte=today,
        deadline__lte=today + datetime.timedelta(days=TARGET_HORIZON_DAYS),
    ).order_by("deadline", "name")
    points = (
        DecisionPoint.objects.filter(
            scheduled_for__gte=today,
            scheduled_for__lte=today + datetime.timedelta(days=DECISION_HORIZON_DAYS),
        )
        .exclude(status=DecisionPointStatus.DECIDED)
        .order_by("scheduled_for", "id")
    )
    rows = [{"date": t.deadline, "target": t} for t in targets]
    rows += [{"date": p.scheduled_for, "decision_point": p} for p in points]
    return {"rows": sorted(rows, key=lambda r: r["date"])}
