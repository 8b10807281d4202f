from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "benefits"
    verbose_name = _("Agreements and benefits")

    def ready(self) -> None:
        # The integrity check of rollout also compares the stored coverage figures.
        from actors.signals import coverage_inputs_changed
        from rollout import conditions

        from . import integrity, jobs, selectors, services, structure_hooks
        from .governance import dependencies, pages

        integrity.register()
        # Imports (actors, rollout) queue their background jobs through this hook.
        jobs.register_queue()
        # The area readiness verdict of rollout also judges agreements and dependencies.
        conditions.register("agreements", selectors.agreement_condition, order=20)
        conditions.register("dependencies", dependencies.dependencies_condition, order=50)
        # Agreements follow a structure change applied as an operation (actors).
        structure_hooks.register()
        # Governance's parts of the start page and a solution's page.
        pages.register()
        # Registry and status changes (actors, rollout) ask for a recomputation by signal.
        coverage_inputs_changed.connect(
            services.recompute_after_change, dispatch_uid="benefits-recompute-after-change"
        )
