"""URLs of governance dependencies and reminders, under styring/; collected by
benefits/governance/urls.py."""

from django.urls import path

from . import dependency_views as views

urlpatterns: list = [
    path("styring/avhengigheter/", views.dependency_list, name="dependency_list"),
    path("styring/avhengigheter/ny/", views.dependency_edit, name="dependency_create"),
    path("styring/avhengigheter/<int:pk>/", views.dependency_detail, name="dependency_detail"),
    path("styring/avhengigheter/<int:pk>/endre/", views.dependency_edit, name="dependency_edit"),
    path("styring/paminnelser/", views.reminder_list, name="reminder_list"),
]
