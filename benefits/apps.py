from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "benefits"
    verbose_name = _("Agreements and benefits")

    def ready(self) -> None:
        # The integrity check of rollout also compares the stored coverage figures.
        from actors.signals import coverage_inputs_changed
        from rollout.selectors import register_agreement_coverage

        from . import integrity, selectors, services

        integrity.register()
        # The area readiness verdict of rollout counts the organisations agreements cover.
        register_agreement_coverage(selectors.covered_organisation_ids)
        # Registry and status changes (actors, rollout) ask for a recomputation by signal.
        coverage_inputs_changed.connect(
            services.recompute_after_change, dispatch_uid="benefits-recompute-after-change"
        )
