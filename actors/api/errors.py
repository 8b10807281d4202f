"""JSON errors a person can act on: services' ValidationError and version conflicts
become 400 and 412 with the field messages."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from actors.concurrency import VersionConflict


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        # One answer for whatever is not found or out of reach: not Django's "No <Model>
        # matches the given query." (English, and it names the model).
        exc = NotFound()
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": str(exc) or _("Permission denied.")}, status=403)
    if isinstance(exc, VersionConflict):
        return Response(
            {"detail": str(exc), "current_version": exc.current_version},
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """Django's 404 (handler404): under /api/ the API's JSON answer, the same as for a
    record that does not exist or is outside one's reach; elsewhere the site's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)
