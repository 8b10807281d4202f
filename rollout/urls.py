from django.urls import path

app_name = "rollout"

urlpatterns: list = []
