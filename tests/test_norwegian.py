"""Norwegian everywhere (issue 18): every entry of the catalogue is translated and compiled,
and a crawl of the pages each role reaches from its start page (and the admin's from the
admin index), on the synthetic demo, finds no English words in what a user reads: the text,
button values, titles, labels for screen readers and placeholders."""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from tests.conftest import ROLE_USERS, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.xdist_group("norwegian_crawl")

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "nb" / "LC_MESSAGES"

# Common English words that are not also Norwegian words (so not "for", "by", "at", "to",
# "under", "over", "per", "last", "import", "status", "type", "plan", "filter", "total",
# "relevant", "start", "i").
ENGLISH_WORDS = """
    the and with from this that these those your you are is was were be been being not
    of in on or all any none yes show hide save delete remove add edit change changes
    changed search page next previous back first descending ascending benefit
    benefits municipality municipalities organisation organisations organization
    organizations version versions agreement agreements solution solutions history date
    name county counties trust trusts health area areas user users role roles login logout
    password sign error errors required field fields which when where there have has will
    would should must may report reports reported target targets coverage ready planning
    trial blocked stopped started dashboard overview settings submit submitted approve
    approved reject rejected review reviewed download upload file files export
    imported select selected choose apply cancel close open yes no more less than
    each every new old value values unit units goal goals baseline figure figures
"""
ENGLISH = set(ENGLISH_WORDS.split())

MAX_PAGES_PER_ROLE = 250
MAX_PER_SHAPE = 2  # pages whose URL differs only in numbers (ids, pages) count as one shape
SKIP = re.compile(
    r"/(logg-ut|logout)/|/api/|/static/|/media/|/helse/|\.(csv|xlsx|pdf|zip|json)(\?|$)"
    r"|/(last-ned|nedlasting|download|fil|dokument|vedlegg)/|format="
    # django-otp's admin: its field help texts are not marked for translation at all.
    r"|/admin/otp_totp/"
)


class Visible(HTMLParser):
    """The text a user reads or hears on a page, and its links."""

    # Not language: code, and what the keyboard or a file takes literally.
    SILENT = {"script", "style", "template", "noscript", "code", "kbd", "samp"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._silent = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SILENT:
            self._silent += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for name in ("title", "aria-label", "placeholder", "alt"):
            if attrs.get(name):
                self.text.append(attrs[name])
        if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
            self.text.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.SILENT and self._silent:
            self._silent -= 1

    def handle_data(self, data):
        if not self._silent:
            self.text.append(data)


def english_words(text: str) -> list[str]:
    """The English words of a text. Not prose: identifiers (snake_case) and codes
    (helse-more-og-romsdal), JSON data, and values quoted «so» to be typed as they stand."""
    if text.lstrip().startswith(("{", "[")) or re.fullmatch(r"\s*[a-z0-9]+(-[a-z0-9]+)+\s*", text):
        return []
    text = re.sub(r"«[^»]*»", "", text)
    return [w for w in re.findall(r"\w+", text) if w.lower() in ENGLISH]


def _shape(url: str) -> str:
    return re.sub(r"\d+", "N", url)


def crawl(client, start: str) -> dict[str, list[tuple[str, str]]]:
    """{english word: [(page, the text it stands in)]} over the pages reachable from
    `start` (same site, GET, HTML), a few of each shape."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    queue, seen, shapes = [start], {start}, defaultdict(int)
    visited = 0
    while queue and visited < MAX_PAGES_PER_ROLE:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code in (301, 302) and response.get("Location"):
            queue.append(urljoin(url, response["Location"]))
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        visited += 1
        page = Visible()
        page.feed(response.content.decode())
        for piece in page.text:
            for word in english_words(piece):
                found[word].append((url, " ".join(piece.split())[:120]))
        for href in page.links:
            target = urljoin(url, href.split("#")[0])
            parts = urlsplit(target)
            if parts.netloc not in ("", "testserver") or not parts.path.startswith("/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen or SKIP.search(target):
                continue
            seen.add(target)
            shape = _shape(target)
            if shapes[shape] >= MAX_PER_SHAPE:
                continue
            shapes[shape] += 1
            queue.append(target)
    assert visited > 10, f"the crawl from {start} reached only {visited} pages"
    return found


def test_every_catalogue_entry_is_translated_and_compiled():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy (check and unmark): {fuzzy[:10]}"
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(CATALOGUE / "django.mo"))}
    stale = [
        e.msgid
        for e in po.translated_entries()
        if not e.msgid_plural and compiled.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert not stale, f"django.mo is older than django.po (compilemessages): {stale[:5]}"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        name = connection.settings_dict["NAME"]
        assert name.startswith("test_") or "memory" in name, f"not a test database: {name}"
        call_command("seed_demo", seed=1, no_coverage_history=True, verbosity=0)
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    "kind, start",
    [
        ("contact", "/"),
        ("coord_area", "/"),
        ("coord_nat", "/"),
        ("directorate", "/"),
        ("admin", "/"),
        ("admin", "/admin/"),
    ],
)
def test_a_crawl_of_what_each_role_reaches_finds_no_english(db, demo, kind, start):
    user = UserFactory(username=f"crawl-{kind}", **ROLE_USERS[kind])
    found = crawl(client_for(user), start)
    texts: dict[str, tuple[str, list[str]]] = {}  # text -> (first page, its English words)
    for word, places in found.items():
        for url, text in places:
            texts.setdefault(text, (url, []))[1].append(word)
    lines = [
        f"  {url}: “{text}” ({', '.join(sorted(set(words)))})"
        for text, (url, words) in texts.items()
    ]
    assert not found, f"English words as {kind} from {start}:\n" + "\n".join(lines)


@pytest.mark.django_db
def test_permissions_are_named_in_norwegian_after_migrate():
    from django.contrib.auth.models import Permission

    from actors.permission_names import permission_names

    add = Permission.objects.get(codename="add_municipality", content_type__app_label="actors")
    assert add.name == "Kan legge til kommune"
    assert Permission.objects.get(codename="view_session").name == "Kan se økt"
    # a name put back in English (as Django's create_permissions writes it) is renamed again
    Permission.objects.filter(pk=add.pk).update(name="Can add municipality")
    assert permission_names() == 1
    add.refresh_from_db()
    assert add.name == "Kan legge til kommune"
    assert not Permission.objects.filter(name__startswith="Can ").exists()
