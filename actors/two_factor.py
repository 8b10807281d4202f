"""Second factor (TOTP, django-otp) for administrators who sign in with a local password
while ADMIN_REQUIRE_2FA is on (actors.access_middleware.needs_second_factor).

/to-faktor/ has two steps in one page: without a confirmed device the administrator sets
up an authenticator app (QR code and the secret for typing in) on an unconfirmed device,
and the first right code confirms it; with a confirmed device they give a code only. A
right code verifies the session (django_otp.login), which ends when they log out.
django-otp throttles wrong codes per device (1, 2, 4, ... seconds). One device per
administrator: a lost one is deleted in the Django admin (OTP_TOTP > TOTP devices) by
another administrator, and the owner sets up a new one at the next sign-in.
"""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import quote, urlencode

import django_otp
import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .access_middleware import needs_second_factor


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the app"),
        regex=r"^\s*\d{6}\s*$",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8}
        ),
        error_messages={
            "required": _("Type the six-digit code the app shows."),
            "invalid": _("The code is six digits."),
        },
    )


def device_for(user) -> TOTPDevice:
    """The administrator's confirmed device, or the unconfirmed one being set up (made on
    the first visit and kept, so reloading the page shows the same QR code)."""
    device = TOTPDevice.objects.filter(user=user).order_by("-confirmed", "id").first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=gettext("Authenticator app"), confirmed=False
        )
    return device


def setup_context(device: TOTPDevice) -> dict:
    """What an authenticator app needs: the otpauth:// URL as a QR code (an <img> with a
    data: URL, which the Content-Security-Policy allows) and the secret in groups of four."""
    secret = b32encode(device.bin_key).decode()
    issuer = gettext("E-health rollout")
    label = quote(f"{issuer}:{device.user.get_username()}")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    qr = segno.make(f"otpauth://totp/{label}?{query}", error="m")
    return {
        "qr_data_uri": qr.svg_data_uri(scale=5, border=2),
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }


def safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def check_code(request, device: TOTPDevice, code: str) -> str | None:
    """Verify the code on the device (in a transaction, the device row locked, as
    django-otp does it); return an error message, or None after verifying the session."""
    allowed, why = device.verify_is_allowed()
    if not allowed:
        until = (why or {}).get("locked_until") or timezone.now()
        wait = max(1, int((until - timezone.now()).total_seconds()) + 1)
        return ngettext(
            "Too many wrong codes. Wait %(seconds)s second and try again with a new code.",
            "Too many wrong codes. Wait %(seconds)s seconds and try again with a new code.",
            wait,
        ) % {"seconds": wait}
    verified = django_otp.verify_token(request.user, device.persistent_id, code)
    if verified is None:
        return gettext(
            "The code was wrong or has expired. Type the code the app shows now; "
            "check that the clock on your phone is right."
        )
    if not verified.confirmed:
        verified.confirmed = True
        verified.save(update_fields=["confirmed"])
    request.session.cycle_key()
    django_otp.login(request, verified)
    return None


@login_required
def two_factor(request):
    if not needs_second_factor(request):
        return redirect("actors:home")
    device = device_for(request.user)
    error = None
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            error = check_code(request, device, form.cleaned_data["code"].strip())
            if error is None:
                return redirect(safe_next(request) or "actors:home")
        else:
            error = form.errors["code"][0]
    context = {
        "form": CodeForm(),  # never echo a code back
        "error": error,
        "setup": not device.confirmed,
        "next": safe_next(request),
    }
    if not device.confirmed:
        context.update(setup_context(device))
    return render(request, "account/two_factor.html", context)
