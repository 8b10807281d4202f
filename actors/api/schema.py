"""The error answers every operation may give, declared once in the OpenAPI schema.

drf-spectacular documents the success answers each view declares. The errors come from one
place (actors/api/errors.py, DRF's authentication, permissions and pagination), so their
shapes are added here to every operation by a postprocessing hook, where a view has not
described them itself (its description is kept, the body's shape is added). The API fuzz
test (tests/test_api_fuzz.py) holds every answer to this: an undeclared status or a body
of another shape fails it.
"""

from __future__ import annotations

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# Field messages ({"field": ["message", …]}), {"detail": …}, or a list of messages.
VALIDATION = {
    "oneOf": [
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {"type": "string"}},
    ]
}
CONFLICT = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "current_version": {
            # An integer version, or a user's access fingerprint (a string).
            "oneOf": [{"type": "integer"}, {"type": "string"}],
            "description": "The version stored now: send it (quoted) as If-Match to save over it.",
        },
    },
    "required": ["detail"],
}
COMPONENTS = {"ErrorDetail": DETAIL, "ValidationErrors": VALIDATION, "VersionConflict": CONFLICT}

ANSWERS = {
    "400": ("ValidationErrors", "The input is not valid; the messages say what to fix."),
    "401": ("ErrorDetail", "Not signed in: send a token (Authorization: Token …) or a session."),
    "403": ("ErrorDetail", "Your role or scope does not allow this; `detail` says why."),
    "404": ("ErrorDetail", "No such record within your reach (or no such page of a list)."),
}
WRITE_ANSWERS = {
    "412": ("VersionConflict", "Changed by someone else since you read it (If-Match)."),
    "428": ("ErrorDetail", "Send If-Match with the ETag you read."),
}
WRITES = {"post", "put", "patch", "delete"}


def error_answers(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error answers on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, shape in COMPONENTS.items():
        schemas.setdefault(name, shape)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = {**ANSWERS, **(WRITE_ANSWERS if method in WRITES else {})}
            for code, (component, description) in answers.items():
                response = operation["responses"].setdefault(code, {"description": description})
                response.setdefault(
                    "content",
                    {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                )
    return result
