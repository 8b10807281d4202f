"""URLs of programme governance (namespace `governance`), under /innforing/styring/ as
before the move from rollout (config/urls.py mounts them at innforing/)."""

from . import urls_decisions, urls_dependencies

app_name = "governance"

urlpatterns = [*urls_decisions.urlpatterns, *urls_dependencies.urlpatterns]
