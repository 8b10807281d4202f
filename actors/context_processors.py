from .scoping import scope_for


def navigation(request):
    """The signed-in user's scope, for menus and role-specific links."""
    return {"scope": scope_for(getattr(request, "user", None))}
