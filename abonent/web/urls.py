from django.urls import path

from abonent.appeals.views import appeal_list_view
from abonent.meters.views import meters_view
from abonent.notices.views import info_view
from abonent.payments.views import pay_page
from abonent.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("meters/", meters_view, name="meters"),
    path("appeals/", appeal_list_view, name="appeals"),
    path("info/", info_view, name="info"),
    path("pay/", pay_page, name="pay"),
    path("terms/", views.terms, name="terms"),
    path("privacy/", views.privacy, name="privacy"),
    path("offline/", views.offline, name="offline"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
    path("healthz", views.health, name="health"),
    path("readyz", views.ready, name="ready"),
]
