"""Downloads in the API: `?format=csv|xlsx` for the table exports (actors.exports)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation

from actors import exports

FORMAT = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(exports.FORMATS),
    description=(
        "`xlsx` (Excel, the default) or `csv` (UTF-8 with BOM, semicolon-separated, "
        "decimal comma, text quoted)."
    ),
)
FILE = {
    (200, exports.CONTENT_TYPES[exports.XLSX]): OpenApiTypes.BINARY,
    (200, "text/csv"): OpenApiTypes.BINARY,
    400: OpenApiResponse(description="Unknown format."),
}


class FileNegotiation(DefaultContentNegotiation):
    """For downloads: `?format=` names the file type (csv, xlsx), not a renderer, and the
    file is sent whatever the Accept header says. Errors answer as JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def export_format(request) -> str:
    fmt = request.query_params.get("format") or exports.XLSX
    if fmt not in exports.FORMATS:
        raise ValidationError({"format": [_("Choose csv or xlsx.")]})
    return fmt
