"""Downloads in the API: `?format=csv|xlsx` for the table exports, whose files
actors.exports writes; `export_action` makes a viewset's `export/` action."""

import functools

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
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


def export_action(*parameters: OpenApiParameter, filters: bool | None = None):
    """Make `export(self, request, fmt)` a viewset's `GET …/export/?format=` action: it is
    called with the checked format (an unknown one answers 400) and its file is sent
    whatever the Accept header says. The schema shows `format`, then `parameters`, and
    with `filters=True` the list's filters; the method's docstring describes it."""

    def decorate(method):
        @functools.wraps(method)
        def export(self, request, *args, **kwargs):
            return method(self, request, export_format(request), *args, **kwargs)

        export = action(
            detail=False,
            methods=["get"],
            url_path="export",
            url_name="export",
            content_negotiation_class=FileNegotiation,
        )(export)
        return extend_schema(parameters=[FORMAT, *parameters], responses=FILE, filters=filters)(
            export
        )

    return decorate
