from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from actors import demo
from actors.choices import Source
from actors.imports import validate_rows
from actors.models import Job, Municipality, Organisation, OrganisationChange
from actors.reference import PERIOD_INVARIANTS
from actors.scoping import SYSTEM_SCOPE, SYSTEM_USER
from actors.services import organisations_write_import
from benefits import demo as benefits_demo
from rollout import demo as rollout_demo
from rollout.models import StatusChange
from rollout.services import today as rollout_today


def structure_of_today_loaded() -> bool:
    """The reference data holds today's structure (357 municipalities since 2024), not an
    earlier one (356 in 2020–2023) or none: load_reference_data has run."""
    latest = max(PERIOD_INVARIANTS)
    return Municipality.objects.current().count() == PERIOD_INVARIANTS[latest][0]


def refresh_planner_statistics() -> None:
    """After tens of thousands of rows are bulk-inserted, PostgreSQL's planner still
    believes the tables are empty and picks plans that take minutes; ANALYZE fixes that."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class Command(BaseCommand):
    help = (
        "Generate the synthetic demo registry (every record flagged synthetic), its "
        "rollout history since 2021, intention agreements and benefit reports. Deterministic "
        "for a given --seed; running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete synthetic organisations made with another seed first.",
        )
        parser.add_argument(
            "--no-coverage-history",
            action="store_true",
            help="Compute today's coverage only, without the monthly history (faster).",
        )

    def handle(self, *args, seed, reset, no_coverage_history=False, **options):
        if not structure_of_today_loaded():
            raise CommandError("Load the reference data first: manage.py load_reference_data")
        registry = demo.build_registry(seed)
        wanted = {row["organisasjonsnummer"] for _line, row in registry.rows}
        stale = Organisation.objects.filter(is_synthetic=True).exclude(orgnr__in=wanted)
        with transaction.atomic():
            if stale.exists():
                if not reset:
                    raise CommandError(
                        f"{stale.count()} synthetic organisations come from another seed. "
                        "Run with --reset to replace them."
                    )
                if (
                    StatusChange.objects.filter(organisation__in=stale).exists()
                    or OrganisationChange.objects.filter(organisation__in=stale).exists()
                ):
                    raise CommandError(
                        "The synthetic organisations of the other seed have a rollout or "
                        "registry history, which is kept forever and cannot be deleted. Start "
                        "from an empty database to use another seed."
                    )
                stale.delete()
            new, changed, unchanged, errors = validate_rows(
                registry.rows, SYSTEM_SCOPE, synthetic=True
            )
            if errors:
                raise CommandError(f"Generated registry failed validation: {errors[:5]}")
            for organisation in (*new, *(write.organisation for write in changed)):
                organisation.record_system = registry.record_systems.get(organisation.orgnr)
            organisations_write_import(
                user=SYSTEM_USER, new=new, changed=changed, source=Source.SYSTEM
            )
        if new or changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Synthetic demo registry (seed {seed}): {len(new)} created, "
                    f"{len(changed)} updated, {unchanged} unchanged."
                )
            )
        else:
            self.stdout.write(
                f"Synthetic demo registry (seed {seed}) already in place: nothing changed."
            )
        self._seed_rollout(seed)
        refresh_planner_statistics()
        self._seed_benefits(seed)
        self._seed_coverage(history=not no_coverage_history)
        self._seed_governance()

    def _seed_rollout(self, seed: int) -> None:
        summary = rollout_demo.seed_rollout(seed)
        if summary is None:
            self.stdout.write(
                f"Synthetic rollout history (seed {seed}) already in place: nothing changed."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Synthetic rollout history (seed {seed}): {summary.changes} status changes "
                f"for {summary.organisations} organisations, {summary.areas} PLL areas, "
                f"{summary.phases} national phase changes, {summary.reports} readiness reports."
            )
        )

    def _seed_benefits(self, seed: int) -> None:
        summary = benefits_demo.seed_benefits(seed)
        if summary is None:
            self.stdout.write(
                f"Synthetic agreements and benefits (seed {seed}) already in place: "
                "nothing changed."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Synthetic agreements and benefits (seed {seed}): {summary.agreements} "
                f"intention agreements ({summary.signed} signed, covering "
                f"{summary.coverage:.1%} of the population outside Helse Midt-Norge), "
                f"{summary.benefits} benefits, {summary.reports} benefit reports."
            )
        )

    def _seed_coverage(self, history: bool = True) -> None:
        """Month-end snapshots of every target since the history began, so the dashboard
        has trends and forecasts from the start (done here, not by a worker); without
        `history`, today's snapshots only."""
        from benefits.models import CoverageSnapshot
        from benefits.services import coverage_job_run

        if CoverageSnapshot.objects.filter(day__lt=rollout_today()).exists():
            self.stdout.write("Coverage history already in place: nothing changed.")
            return
        today = rollout_today().isoformat()
        job = Job.objects.create(
            kind=Job.Kind.COVERAGE_BACKFILL,
            params={"every": "month", "start": None if history else today, "end": today},
        )
        coverage_job_run(job)
        self.stdout.write(self.style.SUCCESS(f"Coverage history: {job.message}"))

    def _seed_governance(self) -> None:
        """The decision points of the programme's schedule, and the brief of the next one
        prepared from the data, so the governance pages have something to show."""
        from benefits.governance import briefs, decision_points
        from rollout.models import DecisionPoint, GovernanceSchedule

        if DecisionPoint.objects.exists():
            self.stdout.write("Decision points already in place: nothing changed.")
            return
        schedule = GovernanceSchedule.objects.first()
        if schedule is None:
            return
        points = decision_points.points_generate(user=SYSTEM_USER, schedule=schedule)
        upcoming = DecisionPoint.objects.filter(scheduled_for__gte=rollout_today()).order_by(
            "scheduled_for"
        )
        if upcoming.exists():
            briefs.brief_generate(user=SYSTEM_USER, point=upcoming.first())
        self.stdout.write(
            self.style.SUCCESS(
                f"Decision points: {len(points)} from the schedule, the next one's brief prepared."
            )
        )
