"""Request parsers: DRF's own, refusing text with the NUL character anywhere in the body.

PostgreSQL cannot store or even compare text (or JSON) holding NUL, so such a value would
otherwise fail deep inside a query with a server error; here it is a 400 saying what to fix,
the same for every field of every endpoint."""

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

NUL = "\x00"


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class _RefuseNul:
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        data = getattr(result, "data", result)  # multipart: DataAndFiles
        values = data.lists() if hasattr(data, "lists") else [data]
        if any(_has_nul(v) for v in values):
            raise ParseError(_("Text may not contain the NUL character (\\u0000); remove it."))
        return result


class JSONParser(_RefuseNul, parsers.JSONParser):
    pass


class FormParser(_RefuseNul, parsers.FormParser):
    pass


class MultiPartParser(_RefuseNul, parsers.MultiPartParser):
    pass
