from django.urls import path

from abonent.identity import views

app_name = "identity"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup_view, name="signup"),
    path("signup/confirm/", views.signup_confirm_view, name="signup_confirm"),
    path("password/reset/", views.reset_view, name="reset"),
    path("password/reset/confirm/", views.reset_confirm_view, name="reset_confirm"),
    path("profile/", views.profile_view, name="profile"),
    path("profile/contact/<str:kind>/", views.contact_view, name="contact"),
    path("profile/contact-confirm/", views.contact_confirm_view, name="contact_confirm"),
    path("profile/password/", views.password_view, name="password"),
    path("profile/devices/<id:device_id>/revoke/", views.device_revoke_view, name="device_revoke"),
    path(
        "profile/devices/revoke-others/",
        views.devices_revoke_others_view,
        name="devices_revoke_others",
    ),
    path("profile/delete/", views.delete_view, name="delete"),
]
