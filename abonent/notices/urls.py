from django.conf import settings
from django.urls import path, re_path

from abonent.notices import views

app_name = "notices"

urlpatterns = [
    # The section's front page is web:info (/info/).
    path("info/notifications/", views.notifications_view, name="list"),
    path("info/notifications/read-all/", views.notifications_read_all_view, name="read_all"),
    path(
        "info/notifications/<id:notification_id>/read/",
        views.notification_read_view,
        name="read",
    ),
    path("info/news/", views.news_list_view, name="news"),
    path("info/news/<id:news_id>/", views.news_detail_view, name="news_detail"),
    path("info/outages/<id:outage_id>/", views.outage_view, name="outage"),
    path("info/receipts/", views.receipts_view, name="receipts"),
    path("info/settings/", views.settings_view, name="settings"),
]

if not settings.PUBLIC_S3_BUCKET and settings.PUBLIC_MEDIA_URL.startswith("/"):
    prefix = settings.PUBLIC_MEDIA_URL.strip("/")
    urlpatterns.append(
        re_path(rf"^{prefix}/(?P<path>.+)$", views.public_media, name="public_media")
    )
