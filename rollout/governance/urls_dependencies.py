"""URLs of rollout.governance (dependencies); included by rollout/urls.py under styring/."""

urlpatterns: list = []
