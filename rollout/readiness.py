"""A readiness report as the page, the services and the API read it: its rows in one
table order, the answers that follow from a status the application knows, the groups by
organisation type with their progress, filters and pages, what blocks a submission, and
the reviewer's summary of what is not ready."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actors.models import OrganisationType

from .choices import Answer, Status
from .models import Prerequisite, ReadinessAnswer, ReadinessReport, RolloutStatus

AREA = "omradet"  # the key of the group for the area as a whole
PAGE_SIZE = 25  # organisations per page of a group
ALL_OPEN_UP_TO = 60  # a report of at most this many rows opens every group
READY = frozenset({Answer.READY, Answer.NOT_RELEVANT})
FILTERS = {
    "ubesvarte": gettext_lazy("Only unanswered"),
    "ikke_klare": gettext_lazy("Only not ready"),
}
_NORWEGIAN = str.maketrans({"æ": "{", "ø": "|", "å": "}"})  # æ, ø, å after z


def _name_key(name: str) -> str:
    return (name or "").casefold().translate(_NORWEGIAN)


@dataclass(slots=True)
class Row:
    """One answer of the report: an item about the area or one organisation."""

    id: int
    prerequisite_id: int
    item: str
    item_order: int
    organisation_id: int | None
    organisation: str
    type_id: int | None
    answer: str
    comment: str
    expected_date: datetime.date | None
    from_status: str = ""  # the status the answer follows from; "" when asked
    follows_from: str = ""  # the solution whose status answers the item (short name)
    status: str = ""  # the organisation's status for that solution now
    problem: str = ""  # what blocks the submission, in a few words

    @property
    def asked(self) -> bool:
        return not self.from_status

    @property
    def where(self) -> str:
        return self.organisation or str(_("The area as a whole"))

    def answer_label(self) -> str:
        return Answer(self.answer).label if self.answer else "–"

    def status_label(self) -> str:
        return Status(self.status).label if self.status else ""

    def from_status_label(self) -> str:
        return Status(self.from_status).label if self.from_status else ""


@dataclass
class Group:
    """The rows of one organisation type (or of the area as a whole), in table order."""

    key: str
    name: str
    rows: list[Row] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def answered(self) -> int:
        return sum(1 for r in self.rows if r.answer)

    @property
    def ready(self) -> int:
        return sum(1 for r in self.rows if r.answer in READY)

    @property
    def organisations(self) -> int:
        return len({r.organisation_id for r in self.rows if r.organisation_id})

    @property
    def problems(self) -> int:
        return sum(1 for r in self.rows if r.problem)

    @property
    def complete(self) -> bool:
        return self.answered == self.total

    def progress(self) -> dict:
        return {"answered": self.answered, "ready": self.ready, "total": self.total}


@dataclass
class GroupPage:
    """The rows of a group that the filter keeps, one page of organisations."""

    group: Group
    rows: list[Row]
    number: int
    pages: int
    shown: int  # organisations (or area rows) the filter keeps
    filter: str

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


# --- rows and the answers that follow from a status ------------------------------------


def report_rows(report: ReadinessReport, *, live: bool | None = None) -> list[Row]:
    """The report's rows in table order: the area first, then by organisation type (sort
    order, name), organisation name, item. `live` (default: while the report can be
    changed) answers the items that follow from a status from the statuses as they stand
    now; otherwise the answers stay as they were submitted."""
    values = ReadinessAnswer.objects.filter(report=report).values_list(
        "pk",
        "prerequisite_id",
        "prerequisite__text",
        "prerequisite__sort_order",
        "organisation_id",
        "organisation__name",
        "organisation__type_id",
        "answer",
        "comment",
        "expected_date",
        "from_status",
    )
    rows = [Row(*v) for v in values]
    types = type_order()
    rows.sort(
        key=lambda r: (
            r.organisation_id is not None,
            types.get(r.type_id, (0, ""))[0],
            _name_key(r.organisation),
            r.organisation_id or 0,
            r.item_order,
            r.prerequisite_id,
        )
    )
    derive(report, rows, live=report.is_editable if live is None else live)
    return rows


def type_order() -> dict[int, tuple[int, str, str]]:
    """{type id: (position, code, name)} in the types' order (sort order, name)."""
    return {
        pk: (i, code, name)
        for i, (pk, code, name) in enumerate(
            OrganisationType.objects.order_by("sort_order", "name").values_list(
                "pk", "code", "name"
            )
        )
    }


def derive(report: ReadinessReport, rows: list[Row], *, live: bool) -> list[Row]:
    """Answer the rows whose item follows from a status (Prerequisite.follows_from and
    answer_from, the one definition) and return those whose answer changed. Live, an
    item whose status no longer answers it is asked again (its earlier answer from the
    status is dropped); not live, the status it was answered from is only named."""
    items = {
        p.pk: p
        for p in Prerequisite.objects.filter(
            solution_id=report.solution_id, follows_from__isnull=False
        )
        .select_related("follows_from")
        .prefetch_related("follows_from__organisation_types")
    }
    following = [r for r in rows if r.prerequisite_id in items and r.organisation_id]
    if not following:
        return []
    for r in following:
        r.follows_from = items[r.prerequisite_id].follows_from.short_name
    if not live:
        for r in following:
            r.status = r.from_status
        return []
    sources = {p.follows_from_id for p in items.values()}
    statuses = {
        (org, sol): status
        for org, sol, status in RolloutStatus.objects.filter(
            solution_id__in=sources, organisation_id__in={r.organisation_id for r in following}
        ).values_list("organisation_id", "solution_id", "status")
    }
    applies = {
        p.follows_from_id: {t.pk for t in p.follows_from.organisation_types.all()}
        for p in items.values()
    }
    changed = []
    for r in following:
        item = items[r.prerequisite_id]
        applies_here = r.type_id in applies[item.follows_from_id]
        status = statuses.get((r.organisation_id, item.follows_from_id), Status.NOT_STARTED)
        r.status = status if applies_here else Status.NOT_RELEVANT
        answer = item.answer_from(status, applies_here)
        before = (r.answer, r.from_status)
        if answer:
            r.answer, r.from_status, r.expected_date = answer, r.status, None
        elif r.from_status:  # answered from a status that no longer answers it: ask again
            r.answer, r.from_status = "", ""
        if (r.answer, r.from_status) != before:
            changed.append(r)
    return changed


def sync_derived(report: ReadinessReport) -> int:
    """Store the answers that follow from the statuses as they stand now (on opening,
    saving and submitting a report), so the stored answers agree with what the page
    shows. Returns the number of rows changed."""
    changed = derive(report, report_rows(report, live=False), live=True)
    ReadinessAnswer.objects.bulk_update(
        [
            ReadinessAnswer(
                pk=r.id, answer=r.answer, from_status=r.from_status, expected_date=r.expected_date
            )
            for r in changed
        ],
        ["answer", "from_status", "expected_date"],
    )
    return len(changed)


# --- groups, filters and pages ---------------------------------------------------------


def groups(rows: list[Row]) -> list[Group]:
    """The rows by organisation type, in table order; the area as a whole first."""
    types = type_order()
    by_key: dict[str, Group] = {}
    for r in rows:
        if r.type_id is None:
            key, name = AREA, str(_("The area as a whole"))
        else:
            _pos, key, name = types[r.type_id]
        by_key.setdefault(key, Group(key, name)).rows.append(r)
    return list(by_key.values())


def keep(row: Row, chosen: str) -> bool:
    """Whether the filter `chosen` (a key of FILTERS, or "" for all) keeps the row."""
    if chosen == "ubesvarte":
        return not row.answer
    if chosen == "ikke_klare":
        return row.answer == Answer.NOT_READY
    return True


def group_page(group: Group, *, chosen: str = "", number: int = 1) -> GroupPage:
    """The page `number` (PAGE_SIZE organisations; out of range: the nearest) of the
    group's rows that the filter keeps, an organisation's rows together."""
    kept = [r for r in group.rows if keep(r, chosen)]
    owners = list(dict.fromkeys(r.organisation_id or -r.id for r in kept))
    pages = max(1, -(-len(owners) // PAGE_SIZE))
    number = min(max(1, number), pages)
    on_page = set(owners[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    shown = [r for r in kept if (r.organisation_id or -r.id) in on_page]
    return GroupPage(group, shown, number, pages, len(owners), chosen)


def group_of(all_groups: list[Group], row: Row) -> Group:
    """The group that holds the row."""
    return next(g for g in all_groups if any(r is row for r in g.rows))


def page_of_row(group: Group, row_id: int, *, chosen: str = "") -> int:
    """The page of the group on which the row is (1 when the filter leaves it out)."""
    kept = [r for r in group.rows if keep(r, chosen)]
    owners = list(dict.fromkeys(r.organisation_id or -r.id for r in kept))
    row = next((r for r in kept if r.id == row_id), None)
    if row is None:
        return 1
    return owners.index(row.organisation_id or -row.id) // PAGE_SIZE + 1


# --- what blocks a submission ----------------------------------------------------------


def mark_problems(rows: list[Row]) -> list[Row]:
    """Mark each row that blocks the submission with what to do, and return those rows
    in table order."""
    marked = []
    for r in rows:
        if not r.answer:
            r.problem = _("Not answered.")
        elif r.answer == Answer.NOT_READY and not r.expected_date:
            r.problem = _("Give the date you expect it to be ready.")
        else:
            r.problem = ""
            continue
        marked.append(r)
    return marked


def problem_text(row: Row) -> str:
    """What blocks the submission, naming the organisation and the item."""
    values = {"where": row.where, "item": row.item}
    if not row.answer:
        return _("%(where)s: “%(item)s” is not answered.") % values
    return _("%(where)s: “%(item)s” is not ready – give the date you expect it to be.") % values


def report_problems(report: ReadinessReport) -> list[str]:
    """What must be filled in before the report can be submitted, in table order; the
    items that follow from a status are answered from it."""
    return [problem_text(r) for r in mark_problems(report_rows(report, live=True))]


# --- the reviewer's summary ------------------------------------------------------------


@dataclass
class Shortfall:
    """The rows of one group and one item that are not ready or not answered."""

    group: Group
    item: str
    not_ready: int = 0
    unanswered: int = 0
    first: datetime.date | None = None
    last: datetime.date | None = None


def not_ready_summary(all_groups: list[Group]) -> list[Shortfall]:
    """What is not ready, by organisation type and item, in table order."""
    found: dict[tuple[str, int], Shortfall] = {}
    for group in all_groups:
        for r in sorted(group.rows, key=lambda r: (r.item_order, r.prerequisite_id)):
            if r.answer in READY:
                continue
            s = found.setdefault((group.key, r.prerequisite_id), Shortfall(group, r.item))
            if not r.answer:
                s.unanswered += 1
                continue
            s.not_ready += 1
            if r.expected_date:
                s.first = min(filter(None, (s.first, r.expected_date)))
                s.last = max(filter(None, (s.last, r.expected_date)))
    return list(found.values())
