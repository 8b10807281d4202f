from .choices import Role
from .scoping import scope_for


def navigation(request):
    """The signed-in user's scope, for menus and role-specific links. Administrators and
    coordinators give access to others (actors.access.reach_of), so the user pages are
    theirs; said here from the scope alone, without a query."""
    scope = scope_for(getattr(request, "user", None))
    return {
        "scope": scope,
        "can_manage_users": scope.role in (Role.ADMIN, Role.COORDINATOR),
    }
