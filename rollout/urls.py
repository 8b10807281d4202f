app_name = "rollout"

urlpatterns: list = []
