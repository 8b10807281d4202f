"""Own account: no access yet, password reset by e-mail, the administrators' second factor."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import account_views, two_factor

urlpatterns = [
    path("ingen-tilgang/", account_views.no_access, name="no_access"),
    path("to-faktor/", two_factor.two_factor, name="two_factor"),
    path(
        "passord/glemt/",
        auth_views.PasswordResetView.as_view(template_name="account/password_reset.html"),
        name="password_reset",
    ),
    path(
        "passord/glemt/sendt/",
        auth_views.PasswordResetDoneView.as_view(template_name="account/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "passord/ny/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="account/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "passord/ny/ferdig/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="account/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
