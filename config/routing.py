from django.urls import path, re_path

from abonent.appeals.consumers import AppealConsumer
from abonent.web.consumers import UserEventsConsumer

websocket_urlpatterns = [
    path("ws/events/", UserEventsConsumer.as_asgi()),
    re_path(r"^ws/appeals/(?P<appeal_id>\d+)/?$", AppealConsumer.as_asgi()),
]
