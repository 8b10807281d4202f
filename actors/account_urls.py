"""Own account: no access yet, password reset by e-mail, the administrators' second factor."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import account_views, two_factor
from .password_reset import ResetForm, link_validity

urlpatterns = [
    path("ingen-tilgang/", account_views.no_access, name="no_access"),
    path("to-faktor/", two_factor.two_factor, name="two_factor"),
    path(
        "passord/glemt/",
        auth_views.PasswordResetView.as_view(
            template_name="account/password_reset.html",
            form_class=ResetForm,
            email_template_name="account/password_reset_email.txt",
            subject_template_name="account/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "passord/glemt/sendt/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="account/password_reset_done.html",
            extra_context={"valid_for": link_validity},
        ),
        name="password_reset_done",
    ),
    path(
        "passord/ny/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="account/password_reset_confirm.html",
            extra_context={"valid_for": link_validity},
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
