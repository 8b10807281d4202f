"""What the apps above add to actors' pages (the start page, a municipality, an
organisation), without actors importing them: each app registers a provider for a page in
its AppConfig.ready(), and the page's view merges what the providers return into its
template context."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

_PROVIDERS: dict[str, list[Callable[..., dict]]] = defaultdict(list)


def contribute(page: str, provider: Callable[..., dict]) -> None:
    """Register `provider(request, **objects) -> dict` for `page` (idempotent)."""
    if provider not in _PROVIDERS[page]:
        _PROVIDERS[page].append(provider)


def contributions(page: str, request, **objects) -> dict:
    """The context every registered provider adds to `page`."""
    context: dict = {}
    for provider in _PROVIDERS[page]:
        context.update(provider(request, **objects))
    return context
