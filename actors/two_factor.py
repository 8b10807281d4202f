"""Second factor (TOTP) for administrators' local accounts: placeholder."""

from django.http import HttpResponse


def two_factor(request):
    return HttpResponse("Second factor: not built yet", status=503)
