"""The writes of agreements, benefit reports and coverage targets, and the jobs that
recompute coverage and export reports: the UI, API, tasks and demo data call these.

- `agreements`: intention agreements, who may change one, their documents and history;
- `benefit_reports`: benefit reports and their review workflow;
- `uploads`: the one check of every uploaded PDF;
- `targets`: creating and changing coverage targets (with the change log);
- `coverage_jobs`: recomputations and back-fills, asked for, run and stored;
- `after_change`: the debounced recomputation after registry and status changes (the
  receiver of actors.signals.coverage_inputs_changed, connected in BenefitsConfig.ready);
- `report_exports`: status report files, queued, built and purged.

This package re-exports the names the rest of the project uses as `services.<name>`
(`rollout_today` too: the services' today, rollout.services.today).
"""

from rollout.services import today as rollout_today

from .after_change import STALE_QUEUED, coverage_queue_after_change, recompute_after_change
from .agreements import (
    AGREEMENT_EDITORS,
    AGREEMENT_FIELDS,
    AgreementReach,
    agreement_edit_refusal,
    agreement_save,
)
from .benefit_reports import (
    BENEFIT_REVIEW,
    BENEFIT_REVIEWERS,
    REPORT_FIELDS,
    benefit_report_review,
    benefit_report_save,
    benefit_report_submit,
)
from .coverage_jobs import (
    EVERY,
    backfill_day_count,
    backfill_days,
    coverage_job_request,
    coverage_job_retrying,
    coverage_job_run,
    snapshots_store,
)
from .report_exports import report_export_request, report_files_purge, report_job_run
from .targets import target_save
from .uploads import MAX_PDF_BYTES, validate_pdf

__all__ = [
    "AGREEMENT_EDITORS",
    "AGREEMENT_FIELDS",
    "AgreementReach",
    "BENEFIT_REVIEW",
    "BENEFIT_REVIEWERS",
    "EVERY",
    "MAX_PDF_BYTES",
    "REPORT_FIELDS",
    "STALE_QUEUED",
    "agreement_edit_refusal",
    "agreement_save",
    "backfill_day_count",
    "backfill_days",
    "benefit_report_review",
    "benefit_report_save",
    "benefit_report_submit",
    "coverage_job_request",
    "coverage_job_retrying",
    "coverage_job_run",
    "coverage_queue_after_change",
    "recompute_after_change",
    "report_export_request",
    "report_files_purge",
    "report_job_run",
    "rollout_today",
    "snapshots_store",
    "target_save",
    "validate_pdf",
]
