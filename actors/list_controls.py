"""What every long list of organisations offers above and below its table: column headers
that sort by the API's ordering names, a choice of rows per page, and links to download
every row that matches the filters (actors.list_export); the order is kept cheap on big
registries (an index, or actors.listing.OrderedByGroup)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .listing import OrderedByGroup, query_without

PAGE_SIZES = (25, 50, 100, 200)
PAGE_SIZE_PARAM = "page_size"  # as in the API (actors.api.pagination)
FORMAT_PARAM = "format"  # ?format=csv|xlsx: the list as a file, as in the API

# The orderings of OrganisationFilterSet (the API's names) and how a page reads each
# cheaply: by a small related table, group by group (each group through its index on
# (relation, name, orgnr)), then by name; by the organisation's own columns, through the
# index on them.
GROUPED = {  # name: (the group's order, the rows' column naming the group)
    "type": ("type__sort_order", "type_id"),
    "municipality": ("municipality__name", None),  # names repeat (Herøy): by name
    "health_trust": ("health_trust__short_name", "health_trust_id"),
}
PLAIN = {"name": ("name", "orgnr"), "orgnr": ("orgnr",), "updated": ("updated_at", "id")}


@dataclass(frozen=True)
class Col:
    """A column of a list: its heading and the ordering its header sets (None: the column
    does not sort); `num` right-aligns it."""

    label: str
    ordering: str | None = None
    num: bool = False


def chosen_ordering(filterset) -> str:
    """The `ordering` a valid filter form asked for ('' when none or not valid)."""
    if not filterset.is_valid():
        return ""
    chosen = filterset.form.cleaned_data.get("ordering") or []
    return chosen[0] if chosen else ""


def in_order(rows, ordering: str, sizes: list | None = None):
    """Organisations `rows` in the order `ordering` names (an API ordering name, '-' for
    descending), for `page_of`: a queryset, or an OrderedByGroup for the grouped ones
    (`sizes`: its group sizes when the caller knows them). An unknown name: by name."""
    name, sign = ordering.removeprefix("-"), "-" if ordering.startswith("-") else ""
    if name in GROUPED:
        group, key = GROUPED[name]
        return OrderedByGroup(rows, (sign + group, "name", "orgnr"), sizes=sizes, key=key)
    return rows.order_by(*(sign + f for f in PLAIN.get(name, PLAIN["name"])))


def page_size(request, default: int = 50) -> int:
    """The rows per page the query asks for (`?page_size=`), one of PAGE_SIZES; else
    `default`."""
    value = request.GET.get(PAGE_SIZE_PARAM, "")
    return int(value) if value in {str(n) for n in PAGE_SIZES} else default


def export_format(request) -> str | None:
    """'csv' or 'xlsx' when the query asks for the list as a file."""
    value = request.GET.get(FORMAT_PARAM)
    return value if value in ("csv", "xlsx") else None


def _link(query: str, param: str, anchor: str = "") -> str:
    """`?query&param#anchor`, for a link from a list to itself."""
    return "?" + "&".join(p for p in (query, param) if p) + anchor


def headers(
    request, columns: Sequence[Col], ordering: str, default: str = "", anchor: str = ""
) -> list[dict]:
    """The table's header cells: for a sortable column a link that sorts by it (again:
    the other way round), keeping the other parameters (not the page), its aria-sort and
    an arrow when the list is sorted by it. `default`: the order without `?ordering=`."""
    current = ordering or default
    base = query_without(request, "page", "ordering", FORMAT_PARAM)
    cells = []
    for col in columns:
        cell = {"label": col.label, "num": col.num, "url": None, "sort": None}
        if col.ordering:
            sort = None
            if current == col.ordering:
                sort = "ascending"
            elif current == f"-{col.ordering}":
                sort = "descending"
            target = f"-{col.ordering}" if sort == "ascending" else col.ordering
            cell["url"] = _link(base, f"ordering={target}", anchor)
            cell["sort"] = sort
            cell["title"] = (
                _("Sort by %(c)s, descending") if sort == "ascending" else _("Sort by %(c)s")
            ) % {"c": col.label.lower()}
        cells.append(cell)
    return cells


def controls(
    request,
    columns: Sequence[Col],
    ordering: str,
    size: int,
    default: str = "",
    anchor: str = "",
) -> dict:
    """The template context of the list controls (templates/actors/_sortable_header.html,
    _page_size.html, _export_links.html and _pagination.html). `anchor` (e.g. "#missing"):
    where on the page their links lead."""
    keep = query_without(request, "page", PAGE_SIZE_PARAM, FORMAT_PARAM)
    return {
        "headers": headers(request, columns, ordering, default, anchor),
        "page_sizes": [
            {"n": n, "url": _link(keep, f"{PAGE_SIZE_PARAM}={n}", anchor)} for n in PAGE_SIZES
        ],
        "anchor": anchor,
        "page_size": size,
        "export_query": keep,
        "query": query_without(request, "page", FORMAT_PARAM),
    }
