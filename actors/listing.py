"""Long lists on pages: the page of rows that `?page=` asks for, the query that keeps
the list's filters in its page links, and filter forms whose <select>s render quickly."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.forms import Select
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe

# How counts that depend on the registry are kept between requests: rollout registers its
# versioned cache of counted figures (rollout.selectors.cached_figures, a new version with
# every committed change of organisations or statuses); without it they are counted.
_counts_cache: Callable | None = None


def register_counts_cache(cached: Callable) -> None:
    """`cached(name, parts, compute)`: compute()'s answer for these parts, from a cache
    that forgets it when the registry changes."""
    global _counts_cache
    _counts_cache = cached


def counted(name: str, parts, compute: Callable):
    return compute() if _counts_cache is None else _counts_cache(name, parts, compute)


def page_of(request, rows, size: int, param: str = "page", count: int | None = None) -> Page:
    """The page of `rows` the query's `param` asks for: the first when it names none or
    no number, the last when it is past the end; `page.numbers` are the page numbers to
    link to (templates/actors/_pagination.html). `count`: how many `rows` there are, when
    the caller knows (e.g. from a cache), so the paginator does not count them."""
    paginator = Paginator(rows, size)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is not computed
    page = paginator.get_page(request.GET.get(param))
    # The numbers the page links to (first, last and those around it; "…" between).
    page.numbers = list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def query_without(request, *names: str) -> str:
    """The request's query string without the parameters `names` (e.g. `page`), for
    links that keep everything else."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


class QuickSelect:
    """A <select> rendered in Python: the same HTML as Django's template for each
    <option>, at a fraction of the cost (a filter form's list of 357 municipalities took
    tens of milliseconds through the templates). Mixed into a form's Select widgets by
    `quick_selects`."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        chosen = self.format_value(value)
        chosen = {chosen} if isinstance(chosen, str) else {str(v) for v in chosen}
        parts = [format_html('<select name="{}"{}>', name, flatatt(attrs))]
        found = False
        for group, choices in self._quick_groups():
            if group is not None:
                parts.append(format_html('<optgroup label="{}">', group))
            for option, label in choices:
                option = "" if option is None else str(option)
                selected = option in chosen and (self.allow_multiple_selected or not found)
                found |= selected
                parts.append(
                    f'<option value="{escape(option)}"{" selected" if selected else ""}>'
                    f"{conditional_escape(label)}</option>"
                )
            if group is not None:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))

    def _quick_groups(self):
        for option, label in self.choices:
            if isinstance(label, list | tuple):
                yield option, label
            else:
                yield None, [(option, label)]


class QuickSelectWidget(QuickSelect, Select):
    """A Select that renders quickly, e.g. for a <select> a template built option by option."""


_QUICK: dict[type, type] = {Select: QuickSelectWidget}


def quick_selects(form):
    """Render the form's <select>s with QuickSelect (same HTML, no template per option);
    returns the form."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, Select) and not isinstance(widget, QuickSelect):
            kind = type(widget)
            if kind not in _QUICK:
                _QUICK[kind] = type(f"Quick{kind.__name__}", (QuickSelect, kind), {})
            widget.__class__ = _QUICK[kind]
    return form


class OrderedByGroup:
    """A long list ordered by a group first (organisations by municipality name, then type
    and name), paged without sorting every row: the rows are counted per group once (in
    the group's order), and a page reads and sorts only the rows of the groups it overlaps.
    `ordering` is the whole list's order and starts with the group (e.g.
    "municipality__name" or "-municipality__name"). The rows must not repeat (no join to
    many). For `page_of` (it counts and slices like a queryset)."""

    def __init__(
        self,
        rows: QuerySet,
        ordering: Sequence[str],
        sizes: list | None = None,
        key: str | None = None,
    ):
        """`sizes`: [(group, rows)] in the list's order, when the caller has them; else
        they are counted (and kept in the registered counts cache, keyed by the query).
        `key`: the rows' own column naming their group (e.g. "type_id" when ordered by
        "type__sort_order"), then ties of the group's order are broken by it, and a page
        within one group is read through the index on (key, rest of the ordering)."""
        self.rows, self.key = rows, key
        if key:
            sign = "-" if ordering[0].startswith("-") else ""
            ordering = (ordering[0], sign + key, *ordering[1:])
        self.ordering = ordering
        self.group = key or ordering[0].removeprefix("-")
        if sizes is None:
            by_group = (
                rows.order_by()
                .values_list(self.group)
                .annotate(n=Count("pk"))
                .order_by(*ordering[: 2 if key else 1])
            )
            try:
                parts = by_group.query.sql_with_params()
            except EmptyResultSet:  # a filter that can match nothing
                sizes = []
            else:
                sizes = counted("group_sizes", parts, lambda: [tuple(r) for r in by_group])
        self.sizes = sizes

    def count(self) -> int:
        return sum(n for _group, n in self.sizes)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        start, stop, _step = index.indices(self.count())
        chosen, skip, seen = [], 0, 0
        for group, n in self.sizes:
            if seen < stop and seen + n > start:
                if not chosen:
                    skip = start - seen
                chosen.append(group)
            seen += n
        if not chosen:
            return []
        if self.key and len(chosen) == 1:
            # One group: its rows in their order, through its index (no sort).
            rows = self.rows.filter(**{self.key: chosen[0]}).order_by(*self.ordering[2:])
        else:
            rows = self.rows.filter(**{f"{self.group}__in": chosen}).order_by(*self.ordering)
        return list(rows[skip : skip + stop - start])
