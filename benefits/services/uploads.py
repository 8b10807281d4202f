"""The one check of every uploaded PDF (agreement documents, benefit-report attachments):
size, content, no HTML and nothing active."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

MAX_PDF_BYTES = 10 * 1024 * 1024


def validate_pdf(upload, field: str) -> None:
    """The one check of every uploaded PDF (agreement documents, benefit-report
    attachments): at most 10 MB, a PDF by its content (not only its name) that pypdf can
    read, not encrypted, with no HTML in its first bytes (a polyglot that a browser could
    run) and nothing active: no JavaScript, launch actions or embedded files."""
    if upload is None:
        return
    if upload.size > MAX_PDF_BYTES:
        raise ValidationError(
            {
                field: _("The file is %(mb).1f MB; the limit is 10 MB.")
                % {"mb": upload.size / 1024 / 1024}
            }
        )
    upload.seek(0)
    head = upload.read(HTML_SNIFF_BYTES)
    upload.seek(0)
    if not upload.name.lower().endswith(".pdf") or not head.startswith(b"%PDF-"):
        raise ValidationError(
            {field: _("Only PDF files can be uploaded; save the document as PDF.")}
        )
    if HTML_MARKERS.search(head):
        raise ValidationError(
            {
                field: _(
                    "The file holds HTML behind its PDF header, so a browser could run it as "
                    "a web page; save the document as PDF again."
                )
            }
        )
    try:
        problems = _pdf_problems(upload)
    finally:
        upload.seek(0)
    if problems:
        raise ValidationError({field: problems})


HTML_SNIFF_BYTES = 1024  # browsers that sniff look at the first 512 bytes or so
HTML_MARKERS = re.compile(rb"<\s*(!doctype|html|head|body|script|iframe|svg|img)", re.I)


def _pdf_problems(stream) -> list[str]:
    """What makes a PDF unacceptable, as messages (none: it is fine). Every object that a
    viewer can reach from the trailer is looked at, so an action hidden in a page,
    an annotation or a form field is found as well as one in the document catalogue."""
    try:
        reader = PdfReader(stream, strict=False)
        encrypted = reader.is_encrypted
        trailer = reader.trailer
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        return [
            _("The file cannot be read as a PDF (%(e)s); save the document as PDF again.")
            % {"e": str(exc)[:200] or type(exc).__name__}
        ]
    if encrypted:
        return [_("The PDF is encrypted or password-protected; upload a copy without protection.")]
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list = [trailer]
    try:
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                if (obj.idnum, obj.generation) in seen:
                    continue
                seen.add((obj.idnum, obj.generation))
                obj = obj.get_object()
            if isinstance(obj, DictionaryObject):
                found |= _active_content(obj)
                stack.extend(obj.values())
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
    except Exception as exc:
        return [
            _("The file cannot be read as a PDF (%(e)s); save the document as PDF again.")
            % {"e": str(exc)[:200] or type(exc).__name__}
        ]
    messages = {
        "javascript": _(
            "The PDF contains JavaScript, which could run when it is opened; save or print it "
            "as a new PDF without scripts."
        ),
        "launch": _(
            "The PDF contains a launch action, which could start a program when it is "
            "opened; save or print it as a new PDF."
        ),
        "embedded": _(
            "The PDF contains embedded files; upload them separately, or save the document "
            "as a new PDF without attachments."
        ),
    }
    return [message for kind, message in messages.items() if kind in found]


def _active_content(obj) -> set[str]:
    """The kinds of active content one PDF dictionary holds (see _pdf_problems)."""
    kinds = set()
    action = obj.get("/S")
    if "/JS" in obj or "/JavaScript" in obj or action == "/JavaScript":
        kinds.add("javascript")
    if action == "/Launch" or "/Launch" in obj:
        kinds.add("launch")
    if (
        "/EmbeddedFiles" in obj
        or "/EF" in obj
        or obj.get("/Type") == "/EmbeddedFile"
        or obj.get("/Subtype") == "/FileAttachment"
    ):
        kinds.add("embedded")
    return kinds
