"""Permission names in Norwegian.

Django names each model's permissions in English when it creates them ("Can add
municipality") and stores the names in the database, where the admin's group and user forms
show them. After every migrate they are renamed from the models' translated verbose names
("Kan legge til kommune"); permissions a project defines itself keep their names."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import translation
from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "add": _("Can add %(name)s"),
    "change": _("Can change %(name)s"),
    "delete": _("Can delete %(name)s"),
    "view": _("Can view %(name)s"),
}
NAME_LENGTH = 255  # auth.Permission.name


def permission_names(using: str = DEFAULT_DB_ALIAS) -> int:
    """Renames the default permissions of every model; returns how many changed."""
    from django.contrib.auth.models import Permission

    changed = []
    with translation.override(settings.LANGUAGE_CODE):
        for permission in Permission.objects.using(using).select_related("content_type"):
            action, _sep, model_name = permission.codename.partition("_")
            model = permission.content_type.model_class()
            if action not in ACTIONS or model is None or model_name != model._meta.model_name:
                continue
            name = (str(ACTIONS[action]) % {"name": model._meta.verbose_name})[:NAME_LENGTH]
            if permission.name != name:
                permission.name = name
                changed.append(permission)
    Permission.objects.using(using).bulk_update(changed, ["name"])
    return len(changed)


def after_migrate(app_config, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver: acts once per migrate, after the last app's permissions were
    created (auth's receiver, connected before this one, runs first for each app)."""
    if app_config is list(apps.get_app_configs())[-1]:
        permission_names(using)
