"""Password reset by e-mail for local accounts (demo, break-glass administrators).

Django's views and token do the work (actors/account_urls.py); this form adds the
link's validity to the e-mail and sends one address at most one e-mail per
MAIL_INTERVAL_SECONDS, so the form cannot be used to flood someone's inbox. Django's
PasswordResetForm mails only active users with a usable password: accounts that sign in
through the identity provider have none and get nothing, and the page after the form
says the same whether or not the address belongs to an account.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.utils import timezone
from django.utils.timesince import timeuntil

MAIL_INTERVAL_SECONDS = 5 * 60


def link_validity() -> str:
    """PASSWORD_RESET_TIMEOUT in words ("1 dag", "2 timer")."""
    now = timezone.now()
    return timeuntil(now + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT), now)


class ResetForm(PasswordResetForm):
    def get_users(self, email):
        for user in super().get_users(email):
            if cache.add(f"password-reset-mail:{user.pk}", True, MAIL_INTERVAL_SECONDS):
                yield user

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        context = {**context, "valid_for": link_validity()}
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)
