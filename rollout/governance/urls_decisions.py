"""URLs of rollout.governance (decisions); included by rollout/urls.py under styring/."""

urlpatterns: list = []
