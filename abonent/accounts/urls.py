from django.urls import path

from abonent.accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/", views.accounts_view, name="list"),
    path("accounts/link/", views.link_view, name="link"),
    path("accounts/<id:account_id>/", views.detail_view, name="detail"),
    path("accounts/<id:account_id>/rename/", views.rename_view, name="rename"),
    path("accounts/<id:account_id>/unlink/", views.unlink_view, name="unlink"),
]
