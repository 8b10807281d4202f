"""The identity provider's sign-in: start and callback (actors/oidc.py)."""

from django.urls import path

from .oidc import AuthenticateView, CallbackView

urlpatterns = [
    path("authenticate/", AuthenticateView.as_view(), name="oidc_authentication_init"),
    path("callback/", CallbackView.as_view(), name="oidc_authentication_callback"),
]
