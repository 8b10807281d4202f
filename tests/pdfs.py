"""PDF files for upload tests, built with pypdf: a clean one, and ones that must be
refused (JavaScript, a launch action, an embedded file, encrypted, an HTML polyglot)."""

import io

from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject


def _bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _writer(title: str) -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    return writer


def clean_pdf(title: str = "Intensjonsavtale") -> bytes:
    """A plain one-page PDF; `title` makes files tell apart."""
    return _bytes(_writer(title))


def pdf_with_javascript() -> bytes:
    """JavaScript in the document-level name tree (/Names /JavaScript, /JS)."""
    writer = _writer("JavaScript")
    writer.add_open_action(JavaScript("app.alert('hei');"))
    return _bytes(writer)


def pdf_with_launch_action() -> bytes:
    """An /OpenAction that launches a program."""
    writer = _writer("Launch")
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )
    return _bytes(writer)


def pdf_with_embedded_file() -> bytes:
    writer = _writer("Vedlegg")
    writer.add_attachment("skjult.exe", b"MZ not really a program")
    return _bytes(writer)


def encrypted_pdf(password: str = "hemmelig") -> bytes:
    writer = _writer("Kryptert")
    writer.encrypt(user_password=password, owner_password=password)
    return _bytes(writer)


def html_polyglot() -> bytes:
    """An HTML page that starts with a PDF header, as a browser would still render it."""
    return b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n"


def pdf_html_polyglot() -> bytes:
    """A PDF that pypdf reads but that also holds an HTML page in a comment after its
    header: the check of its first bytes catches it."""
    data = clean_pdf("Polyglot")
    header, rest = data.split(b"\n", 1)
    return header + b"\n%<html><script>alert(1)</script></html>\n" + rest
