from django.urls import path

from abonent.privacy import views

app_name = "privacy"

urlpatterns = [
    path("profile/export/", views.export_view, name="export"),
]
