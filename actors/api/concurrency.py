"""ETag / If-Match for versioned records in the API.

GET answers with `ETag: "<version>"`. PUT and PATCH must send `If-Match` with that
value: missing → 428, stale → 412 with the current version, so nothing is overwritten
silently. Used by every viewset of a versioned model.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException

# How the schema documents the header and its refusals, for every versioned write.
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of your last GET of this record, e.g. "3".',
)
STALE = {
    412: OpenApiResponse(description="If-Match is stale: someone changed the record since."),
    428: OpenApiResponse(description="If-Match is missing."),
}


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = _(
        "Send the If-Match header with the ETag from your last GET of this record, so that "
        "someone else's newer change is not overwritten."
    )
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("If-Match is not a valid ETag of this record; GET it again.")
    default_code = "precondition_failed"


def quoted(version) -> str:
    """A version as an ETag header's value."""
    return f'"{version}"'


def etag_for(obj) -> str:
    return quoted(obj.version)


def if_match(request) -> str:
    """The version If-Match names (unquoted); 428 when the header is missing."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired()
    return header.strip().removeprefix("W/").strip('"')


def expected_version(request) -> int:
    value = if_match(request)
    if not value.isdigit():
        raise PreconditionFailed()
    return int(value)


class ETagMixin:
    """For ModelViewSets of versioned models: sets ETag on retrieve, create and update
    (`etag_of` says what it is; the record's `version` unless overridden)."""

    def etag_of(self, instance) -> str:
        return etag_for(instance)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        instance = getattr(self, "_etag_instance", None)
        if instance is not None and response.status_code < 300:
            response["ETag"] = self.etag_of(instance)
        return response

    def retrieve(self, request, *args, **kwargs):
        self._etag_instance = self.get_object()
        return super().retrieve(request, *args, **kwargs)
