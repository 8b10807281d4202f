"""Pages about one's own account: no access yet."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .scoping import scope_for


@login_required
def no_access(request):
    """A signed-in person without a role: who they are, and that a coordinator must give
    them access. Nothing else of the application is shown."""
    if scope_for(request.user).role:
        return redirect("actors:home")
    return render(request, "account/no_access.html", status=403)
