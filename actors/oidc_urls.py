"""The identity provider's sign-in: start and callback (actors/oidc.py)."""

urlpatterns: list = []
