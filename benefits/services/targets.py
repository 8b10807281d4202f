"""Writes for coverage targets: creating or changing one, with the change log and the
back-fill of its snapshots."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from actors import scoping
from actors.choices import Role
from actors.models import Job

from ..models import CoverageTarget
from .coverage_jobs import coverage_job_request

TARGET_FIELDS = ("name", "solution_id", "unit", "achieved_statuses", "denominator",
                 "municipality_rule", "threshold", "deadline", "per_area", "is_active")  # fmt: skip
COUNTING_FIELDS = ("solution_id", "unit", "achieved_statuses", "denominator", "municipality_rule")


def target_save(
    *, user, target: CoverageTarget, organisation_types=None, reason: str = ""
) -> CoverageTarget:
    """Create or change a target, with its reason in the change log (a threshold change as
    such, any other change as a change of target). Its snapshots follow its rules: a new
    target, or one whose counting changed, gets its history back-filled (and old snapshots
    dropped)."""
    from benefits.governance.changelog import changelog_record

    scope = scoping.scope_for(user)
    if scope.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators change coverage targets."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the target is set or changed.")})
    with transaction.atomic():
        before = CoverageTarget.objects.filter(pk=target.pk).first() if target.pk else None
        target.full_clean()
        if before is not None:
            target.version = before.version + 1
        target.save()
        old_types = set(before.organisation_types.values_list("pk", flat=True)) if before else None
        if organisation_types is not None:
            target.organisation_types.set(organisation_types)
        new_types = set(target.organisation_types.values_list("pk", flat=True))
        fields = [f for f in TARGET_FIELDS if before and getattr(before, f) != getattr(target, f)]
        if before is not None and old_types != new_types:
            fields.append("organisation_types")
        for kind, title in _target_changes(before, target, fields):
            changelog_record(user=user, kind=kind, title=title, reason=reason, subject=target.code)
        if before is None or set(fields) & {*COUNTING_FIELDS, "organisation_types"}:
            target.snapshots.all().delete()
            coverage_job_request(
                user=user, kind=Job.Kind.COVERAGE_BACKFILL, params={"targets": [target.code]}
            )
    return target


def _target_changes(before, target: CoverageTarget, fields: list[str]):
    """(change-log kind, title) for a new target or for the fields that changed."""
    from rollout.choices import ChangeKind

    if before is None:
        yield ChangeKind.TARGET, _("New target: %(t)s") % {"t": target.name}
        return
    if "threshold" in fields:
        yield (
            ChangeKind.THRESHOLD,
            _("Threshold of %(t)s: %(a)s → %(b)s")
            % {
                "t": target.name,
                "a": f"{before.threshold:.1%}",
                "b": f"{target.threshold:.1%}",
            },
        )
    rest = [f for f in fields if f != "threshold"]
    if rest:
        names = ", ".join(
            str(CoverageTarget._meta.get_field(f.removesuffix("_id")).verbose_name) for f in rest
        )
        yield ChangeKind.TARGET, _("%(t)s changed: %(f)s") % {"t": target.name, "f": names}
