"""Check that the status history and the current statuses (and the stored coverage figures)
agree; print the findings; exit with status 1 when there are any (for operators and
monitoring). With --repair (and a --reason), add the corrections and ask for the
recomputations, then check again: the exit status is that of the second check."""

from django.core.management.base import BaseCommand, CommandError

from actors import scoping
from rollout import integrity
from rollout.models import IntegrityCheckRun


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Repair what is found (needs --reason)."
        )
        parser.add_argument("--reason", default="", help="Why the history is corrected.")

    def handle(self, *args, repair=False, reason="", **options):
        if repair and not reason.strip():
            raise CommandError("--repair needs --reason: say why the history is corrected.")
        run = integrity.run_check(trigger=IntegrityCheckRun.Trigger.COMMAND)
        self._print(run)
        if repair and run.finding_count:
            outcome = integrity.repair_findings(user=scoping.SYSTEM_USER, reason=reason, keys=None)
            self.stdout.write(
                f"Repair: {outcome.repaired} corrections written or recomputations asked for."
            )
            run = outcome.run
            self.stdout.write("Checked again:")
            self._print(run)
        if run.finding_count:
            raise CommandError(f"{run.finding_count} findings.", returncode=1)

    def _print(self, run: IntegrityCheckRun) -> None:
        for f in run.findings:
            first = f.get("organisation") or f.get("target")
            second = f.get("solution") if f.get("check") == "history" else f.get("place")
            where = " / ".join(str(x) for x in (first, second) if x)
            self.stdout.write(f"[{f['check']}.{f['kind']}] {where}: {integrity.describe(f)}")
        if run.truncated:
            self.stdout.write("(more findings than are stored; the counts are complete)")
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(run.counts.items())) or "none"
        self.stdout.write(f"{run.finding_count} findings ({counts}).")
