from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "benefits"
    verbose_name = _("Agreements and benefits")

    def ready(self) -> None:
        # The integrity check of rollout also compares the stored coverage figures.
        from . import integrity

        integrity.register()
