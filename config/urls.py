from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from actors import oidc
from actors.api.urls import register as register_actors_api
from benefits.api.urls import register as register_benefits_api
from config import health
from rollout.api.urls import register as register_rollout_api

api_router = DefaultRouter()
register_actors_api(api_router)
register_rollout_api(api_router)
register_benefits_api(api_router)

# Swagger UI's page carries one small inline <style>; allow exactly that block by its hash.
SWAGGER_STYLE = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
swagger_view = csp_update({"style-src": [SWAGGER_STYLE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("login/", oidc.LoginView.as_view(), name="login"),
    path("logout/", oidc.LogoutView.as_view(), name="logout"),
    path("", include("actors.account_urls")),
    path("oidc/", include("actors.oidc_urls")),
    path("", include("actors.user_urls")),
    path("helse/", health.health, name="health"),
    path("helse/detaljer/", health.health_detail, name="health_detail"),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", swagger_view, name="api-docs"),
    path("api/v1/", include(api_router.urls)),
    path("innforing/", include("rollout.urls")),
    path("innforing/", include("benefits.governance.urls")),
    path("avtaler-og-gevinster/", include("benefits.urls")),
    path("", include("actors.urls")),
]

# A path under /api/ that matches nothing answers the API's JSON 404, not the site's page.
handler404 = "actors.api.errors.not_found"
