from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActorsConfig(AppConfig):
    name = "actors"
    verbose_name = _("Actors and reference structure")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .permission_names import after_migrate

        post_migrate.connect(after_migrate, dispatch_uid="actors.permission_names")
