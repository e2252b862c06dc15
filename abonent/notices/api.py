"""Notices API: notifications, notification settings, Web Push subscriptions, news, outages."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BaseModel, ConfigDict

from abonent.core import clock
from abonent.core.http import client_ip
from abonent.core.pagination import Pagination
from abonent.identity.api import ErrorOut
from abonent.identity.auth import customer_auth
from abonent.notices import selectors, services
from abonent.notices.models import Channel, News, Notification, NotificationKind

router = Router(tags=["Информация: оповещения, новости, отключения"])

ERRORS = {401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
KIND_TEXT = dict(NotificationKind.choices)

KindName = Literal["bill", "payment", "outage", "reading", "verification", "appeal"]


# ---------------------------------------------------------------- notifications


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="bill, payment, outage, reading, verification, appeal")
    kind_title: str
    title: str
    body: str
    link: str = Field(description="Путь на сайте, куда ведёт оповещение")
    created_at: datetime
    read_at: datetime | None
    is_read: bool
    emergency: bool

    @staticmethod
    def resolve_kind_title(obj: Notification) -> str:
        return str(KIND_TEXT.get(obj.kind, obj.kind))

    @staticmethod
    def resolve_is_read(obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationFilter(Schema):
    kind: KindName | None = Field(None, description="Только этого вида")
    unread: bool = Field(False, description="Только непрочитанные")


class UnreadOut(Schema):
    unread: int


class ReadAllIn(Schema):
    kind: KindName | None = Field(None, description="Только этого вида; пусто — все")


class ReadAllOut(Schema):
    marked: int
    unread: int


@router.get(
    "/notifications",
    response={200: list[NotificationOut], 401: ErrorOut, 422: ErrorOut},
    auth=customer_auth,
    summary="Мои оповещения: сначала непрочитанные, затем новые",
)
@paginate(Pagination)
def notifications_list(request: HttpRequest, filters: Query[NotificationFilter]) -> Any:
    return selectors.notification_list_for_user(
        user=request.user, kind=filters.kind, unread_only=filters.unread
    )


@router.get(
    "/notifications/unread",
    response={200: UnreadOut, 401: ErrorOut},
    auth=customer_auth,
    summary="Сколько непрочитанных (значок в меню)",
)
def notifications_unread(request: HttpRequest) -> Any:
    return {"unread": selectors.notification_unread_count(user=request.user)}


@router.post(
    "/notifications/read-all",
    response={200: ReadAllOut, **ERRORS},
    auth=customer_auth,
    summary="Отметить все прочитанными",
)
def notifications_read_all(request: HttpRequest, filters: Query[ReadAllIn]) -> Any:
    marked = services.notifications_mark_all_read(
        user=request.user, now=clock.now(), kind=filters.kind
    )
    return {"marked": marked, "unread": selectors.notification_unread_count(user=request.user)}


@router.post(
    "/notifications/{id:notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    auth=customer_auth,
    summary="Отметить прочитанным",
)
def notifications_read(request: HttpRequest, notification_id: int) -> Any:
    return services.notification_mark_read(
        user=request.user, notification_id=notification_id, now=clock.now()
    )


# ---------------------------------------------------------------- settings


class QuietHours(BaseModel):  # a plain model: Ninja's Schema would read a list as defaults
    model_config = ConfigDict(strict=True)  # JSON: `0` is not `false`

    enabled: bool = True
    start: str = Field("22:00", description="Начало, местное время филиала, ЧЧ:ММ")
    end: str = Field("08:00", description="Конец, ЧЧ:ММ")


class ChannelOut(Schema):
    channel: str
    title: str
    available: bool = Field(description="Можно доставить: есть телефон, e-mail, подписка")
    hint: str


class KindOut(Schema):
    kind: str
    title: str


class SettingsOut(Schema):
    channels: dict[str, list[str]] = Field(
        description="Каналы по видам оповещений (push, sms, email); в приложении — всегда"
    )
    quiet_hours: QuietHours
    time_zone: str
    kinds: list[KindOut]
    available_channels: list[ChannelOut]
    push_public_key: str = Field(
        description="VAPID-ключ для pushManager.subscribe; пусто — push выключен"
    )


class SettingsIn(Schema):
    channels: dict[str, list[str]] | None = Field(
        None,
        description="{вид: [каналы]}; виды, которых нет в запросе, не меняются",
        examples=[{"bill": ["push", "email"], "outage": ["push", "sms"]}],
    )
    quiet_hours: QuietHours | None = None


def _settings_out(user: Any) -> dict[str, Any]:
    prefs = selectors.notification_preferences(user=user)
    return {
        "channels": prefs.as_map(),
        "quiet_hours": {
            "enabled": prefs.quiet_enabled,
            "start": f"{prefs.quiet_from:%H:%M}",
            "end": f"{prefs.quiet_to:%H:%M}",
        },
        "time_zone": prefs.time_zone,
        "kinds": [{"kind": k.kind, "title": k.title} for k in prefs.kinds],
        "available_channels": [
            {
                "channel": c.channel,
                "title": str(c.title),
                "available": c.available,
                "hint": str(c.hint),
            }
            for c in prefs.channels
        ],
        "push_public_key": prefs.push_key,
    }


@router.get(
    "/me/notification-settings",
    response={200: SettingsOut, 401: ErrorOut},
    auth=customer_auth,
    summary="Каналы по видам оповещений и тихие часы",
)
def settings_get(request: HttpRequest) -> Any:
    return _settings_out(request.user)


@router.put(
    "/me/notification-settings",
    response={200: SettingsOut, **ERRORS},
    auth=customer_auth,
    summary="Изменить каналы и тихие часы",
    description=(
        "Каналы: push, sms, email (в приложении — всегда). Тихие часы — по времени филиала: "
        "ночью несрочные оповещения ждут утра, аварийные приходят сразу. Ошибка в любом "
        "значении — 422 и ничего не сохраняется."
    ),
)
def settings_put(request: HttpRequest, data: SettingsIn) -> Any:
    quiet = data.quiet_hours
    services.notification_settings_update(
        user=request.user,
        now=clock.now(),
        channels=data.channels,
        quiet_enabled=quiet.enabled if quiet else None,
        quiet_from=quiet.start if quiet else None,
        quiet_to=quiet.end if quiet else None,
        ip=client_ip(request),
    )
    return _settings_out(request.user)


# ---------------------------------------------------------------- push


class PushKeyOut(Schema):
    public_key: str = Field(description="applicationServerKey (base64url); пусто — push выключен")
    channels: list[str] = Field(default_factory=lambda: list(Channel.values))


class PushKeys(Schema):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class PushSubscribeIn(Schema):
    endpoint: str = Field(max_length=1000, description="PushSubscription.endpoint")
    keys: PushKeys


class PushSubscriptionOut(Schema):
    id: int
    endpoint: str
    user_agent: str
    created_at: datetime
    last_success_at: datetime | None


@router.get(
    "/push/key",
    response={200: PushKeyOut, 401: ErrorOut},
    auth=customer_auth,
    summary="Публичный VAPID-ключ для подписки на push",
)
def push_key(request: HttpRequest) -> Any:
    from abonent.notices.push import public_key

    return {"public_key": public_key()}


@router.get(
    "/push/subscriptions",
    response={200: list[PushSubscriptionOut], 401: ErrorOut},
    auth=customer_auth,
    summary="Мои устройства с push-уведомлениями",
)
@paginate(Pagination)
def push_subscriptions(request: HttpRequest) -> Any:
    return selectors.push_subscription_list_for_user(user=request.user)


@router.post(
    "/push/subscriptions",
    response={201: PushSubscriptionOut, **ERRORS},
    auth=customer_auth,
    summary="Подписать это устройство на push (PushSubscription.toJSON())",
    description=(
        "Тело — PushSubscription.toJSON() браузера. Адрес должен вести на push-сервис "
        "браузера; подписку, которую push-сервис отверг (404/410), сервер удаляет сам."
    ),
)
def push_subscribe(request: HttpRequest, data: PushSubscribeIn) -> Any:
    sub = services.push_subscribe(
        user=request.user,
        endpoint=data.endpoint,
        p256dh=data.keys.p256dh,
        auth=data.keys.auth,
        user_agent=request.headers.get("User-Agent", ""),
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(201, sub)


@router.delete(
    "/push/subscriptions/{id:subscription_id}",
    response={204: None, **ERRORS},
    auth=customer_auth,
    summary="Отписать устройство",
)
def push_unsubscribe(request: HttpRequest, subscription_id: int) -> Any:
    services.push_unsubscribe(
        user=request.user, subscription_id=subscription_id, now=clock.now(), ip=client_ip(request)
    )
    return Status(204, None)


# ---------------------------------------------------------------- news


class NewsOut(Schema):
    id: int
    kind: str = Field(description="news — новость, promo — акция")
    title: str
    lead: str
    picture_url: str | None
    picture_alt: str
    published_at: datetime

    @staticmethod
    def resolve_picture_url(obj: News, context: Any) -> str | None:
        if not obj.picture:
            return None
        return context["request"].build_absolute_uri(obj.picture.url)


class NewsDetailOut(NewsOut):
    body: str


@router.get(
    "/news",
    response={200: list[NewsOut], 401: ErrorOut},
    auth=customer_auth,
    summary="Новости и акции компании для моего города",
)
@paginate(Pagination)
def news_list(request: HttpRequest) -> Any:
    return selectors.news_list_for_user(user=request.user, now=clock.now())


@router.get(
    "/news/{id:news_id}",
    response={200: NewsDetailOut, **ERRORS},
    auth=customer_auth,
    summary="Новость",
)
def news_detail(request: HttpRequest, news_id: int) -> Any:
    return selectors.news_for_user(user=request.user, news_id=news_id, now=clock.now())


# ---------------------------------------------------------------- outages


class OutageUpdateOut(Schema):
    text: str
    created_at: datetime


class OutageOut(Schema):
    id: int
    kind: str = Field(description="planned — плановое, emergency — аварийное")
    status: str = Field(description="upcoming, current, finished, cancelled")
    service: str
    title: str
    description: str
    starts_at: datetime
    expected_end_at: datetime
    ended_at: datetime | None
    restore_at: datetime = Field(description="Когда подача восстановлена или ожидается")
    my_addresses: list[str] = Field(description="Мои адреса, которых касается отключение")
    updates: list[OutageUpdateOut]


def _outage_out(view: selectors.OutageView) -> dict[str, Any]:
    o = view.outage
    return {
        "id": o.pk,
        "kind": o.kind,
        "status": view.status,
        "service": o.service.name,
        "title": o.title,
        "description": o.description,
        "starts_at": o.starts_at,
        "expected_end_at": o.expected_end_at,
        "ended_at": o.ended_at,
        "restore_at": view.restore_at,
        "my_addresses": view.places,
        "updates": [{"text": u.text, "created_at": u.created_at} for u in o.updates.all()],
    }


@router.get(
    "/outages",
    response={200: list[OutageOut], 401: ErrorOut},
    auth=customer_auth,
    summary="Отключения по моим адресам: текущие, предстоящие и завершённые за сутки",
)
@paginate(Pagination)
def outages_list(request: HttpRequest) -> Any:
    views = selectors.outage_list_for_user(user=request.user, now=clock.now())
    return [_outage_out(v) for v in views]


@router.get(
    "/outages/{id:outage_id}",
    response={200: OutageOut, **ERRORS},
    auth=customer_auth,
    summary="Отключение по моему адресу",
)
def outages_detail(request: HttpRequest, outage_id: int) -> Any:
    return _outage_out(
        selectors.outage_for_user(user=request.user, outage_id=outage_id, now=clock.now())
    )
