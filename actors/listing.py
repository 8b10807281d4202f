"""Long lists on pages: the page of rows that `?page=` asks for, and the query that keeps
the list's filters in its page links."""

from __future__ import annotations

from django.core.paginator import Page, Paginator


def page_of(request, rows, size: int, param: str = "page") -> Page:
    """The page of `rows` the query's `param` asks for: the first when it names none or
    no number, the last when it is past the end."""
    return Paginator(rows, size).get_page(request.GET.get(param))


def query_without(request, *names: str) -> str:
    """The request's query string without the parameters `names` (e.g. `page`), for
    links that keep everything else."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
