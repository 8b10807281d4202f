from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RolloutConfig(AppConfig):
    name = "rollout"
    verbose_name = _("Rollout")

    def ready(self) -> None:
        # Rollout's part of actors' pages (start page, municipality, organisation).
        from . import pages, selectors

        pages.register()
        # The cached matrix counts follow every change of statuses and organisations.
        selectors.connect_matrix_signals()
        # Actors' long lists keep their counts in the same versioned cache.
        from actors.listing import register_counts_cache

        register_counts_cache(selectors.cached_figures)
