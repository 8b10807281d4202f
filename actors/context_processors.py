from .access_middleware import needs_second_factor
from .choices import Role
from .scoping import scope_for


def navigation(request):
    """The signed-in user's scope, for menus and role-specific links. Administrators and
    coordinators give access to others (actors.access.reach_of), so the user pages are
    theirs; said here from the scope alone, without a query. An administrator who still
    owes the second factor gets no menu: every link would lead back to /to-faktor/."""
    scope = scope_for(getattr(request, "user", None))
    pending = hasattr(request, "user") and hasattr(request, "session")
    return {
        "scope": scope,
        "can_manage_users": scope.role in (Role.ADMIN, Role.COORDINATOR),
        "second_factor_pending": pending and needs_second_factor(request),
    }
