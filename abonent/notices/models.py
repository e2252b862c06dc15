"""Notices: notifications and their delivery per channel, preferences, push subscriptions,
company news and outages.

A Notification is the in-app record (always made); a Delivery is one attempt to bring it to
the customer on one more channel (push, SMS, e-mail) and exists at most once per
notification and channel; its idempotency key (`delivery:<id>`) makes a resend after a crash
a no-op where the channel honours it (decision 0015).
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    BILL = "bill", _("новая квитанция")
    PAYMENT = "payment", _("оплата")
    OUTAGE = "outage", _("отключение")
    READING = "reading", _("показания")
    VERIFICATION = "verification", _("поверка")
    APPEAL = "appeal", _("обращение")


class Channel(models.TextChoices):
    """Channels beyond the in-app list (which every notification gets)."""

    PUSH = "push", _("push-уведомление")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("e-mail")


# What a customer gets until they choose: SMS only where it matters (outages), it costs money.
DEFAULT_CHANNELS: dict[str, frozenset[str]] = {
    NotificationKind.BILL: frozenset({Channel.PUSH, Channel.EMAIL}),
    NotificationKind.PAYMENT: frozenset({Channel.PUSH, Channel.EMAIL}),
    NotificationKind.OUTAGE: frozenset({Channel.PUSH, Channel.SMS}),
    NotificationKind.READING: frozenset({Channel.PUSH}),
    NotificationKind.VERIFICATION: frozenset({Channel.PUSH, Channel.EMAIL}),
    NotificationKind.APPEAL: frozenset({Channel.PUSH, Channel.EMAIL}),
}
QUIET_FROM = time(22, 0)
QUIET_TO = time(8, 0)


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("получатель"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("вид"), max_length=16, choices=NotificationKind.choices)
    title = models.CharField(_("заголовок"), max_length=200)
    body = models.TextField(_("текст"), blank=True)
    link = models.CharField(_("ссылка"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("создано"))
    read_at = models.DateTimeField(_("прочитано"), null=True, blank=True)
    # Emergencies (an emergency outage) are delivered at night too.
    emergency = models.BooleanField(_("срочное"), default=False)
    # What the notice is about, per recipient ("bill:42"): a retried job never notifies twice.
    dedupe_key = models.CharField(max_length=100)

    class Meta:
        verbose_name = _("оповещение")
        verbose_name_plural = _("оповещения")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            # The unread badge: a count over the user's unread rows only.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            # A fan-out plans its deliveries by its key ("outage:7:published").
            models.Index(fields=["dedupe_key"], name="notification_key"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once")
        ]

    def __str__(self) -> str:
        return self.title


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("ждёт отправки")
    SENDING = "sending", _("отправляется")
    SENT = "sent", _("отправлено")
    FAILED = "failed", _("не доставлено")
    SKIPPED = "skipped", _("пропущено")


class Delivery(models.Model):
    """One notification on one channel. The row is claimed (pending → sending) before the
    message leaves; a claim whose job died goes back to pending after its lease and is sent
    again with the same key (decision 0015)."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    state = models.CharField(
        _("состояние"), max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("попыток"), default=0)
    due_at = models.DateTimeField(_("отправить не раньше"))
    # When a job was last asked to send it; the sweeper re-queues rows whose job got lost.
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("отправлено"), null=True, blank=True)
    last_error = models.CharField(_("ошибка"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("доставка")
        verbose_name_plural = _("доставки")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(state="pending"),
                name="delivery_pending_due",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=Q(state="sending"),
                name="delivery_sending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}/{self.channel}: {self.state}"


class NotificationSettings(models.Model):
    """Quiet hours (in the branch's time zone); absent row = the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    quiet_enabled = models.BooleanField(_("тихие часы"), default=True)
    quiet_from = models.TimeField(_("тихие часы с"), default=QUIET_FROM)
    quiet_to = models.TimeField(_("тихие часы до"), default=QUIET_TO)
    updated_at = models.DateTimeField(_("изменено"))

    class Meta:
        verbose_name = _("настройки оповещений")
        verbose_name_plural = _("настройки оповещений")
        constraints = [
            models.CheckConstraint(
                condition=~Q(quiet_from=F("quiet_to")), name="quiet_hours_not_empty"
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class ChannelPreference(models.Model):
    """The customer's choice for one kind and channel; absent = DEFAULT_CHANNELS."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_preferences"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    enabled = models.BooleanField()

    class Meta:
        verbose_name = _("выбор канала")
        verbose_name_plural = _("выбор каналов")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}={self.enabled}"


class PushSubscription(models.Model):
    """A browser's (the installed PWA's) Web Push subscription; one per endpoint."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(_("адрес push-сервиса"), max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(_("браузер"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("подписан"))
    last_success_at = models.DateTimeField(_("последняя доставка"), null=True, blank=True)

    class Meta:
        verbose_name = _("push-подписка")
        verbose_name_plural = _("push-подписки")
        indexes = [models.Index(fields=["user"])]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.endpoint[:60]}"


# ---------------------------------------------------------------- news


def _public_storage() -> object:
    return storages["public"]


class NewsKind(models.TextChoices):
    NEWS = "news", _("новость")
    PROMO = "promo", _("акция")


class News(models.Model):
    """A company news item or promotion. Draft: no publication time; scheduled: a future one."""

    kind = models.CharField(_("рубрика"), max_length=8, choices=NewsKind.choices, default="news")
    title = models.CharField(_("заголовок"), max_length=200)
    lead = models.CharField(_("кратко"), max_length=300, blank=True)
    body = models.TextField(_("текст"))
    picture = models.ImageField(
        _("картинка"), upload_to="news/%Y/%m/", storage=_public_storage, blank=True
    )
    picture_alt = models.CharField(_("описание картинки"), max_length=200, blank=True)
    published_at = models.DateTimeField(
        _("опубликовать"),
        null=True,
        blank=True,
        help_text=_("Пусто — черновик. Время в будущем — отложенная публикация."),
    )
    all_branches = models.BooleanField(_("для всех городов"), default=True)
    branches = models.ManyToManyField(
        "accounts.Branch", verbose_name=_("города"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("создано"))
    updated_at = models.DateTimeField(_("изменено"))

    class Meta:
        verbose_name = _("новость")
        verbose_name_plural = _("новости и акции")
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["-published_at"])]

    def __str__(self) -> str:
        return self.title


# ---------------------------------------------------------------- outages


class OutageKind(models.TextChoices):
    PLANNED = "planned", _("плановое")
    EMERGENCY = "emergency", _("аварийное")


class Outage(models.Model):
    """A planned or emergency outage of a service at some houses or whole streets of a branch."""

    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("город"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("вид"), max_length=10, choices=OutageKind.choices)
    service = models.ForeignKey(
        "billing.Service", verbose_name=_("услуга"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("заголовок"), max_length=200)
    description = models.TextField(_("описание"), blank=True)
    starts_at = models.DateTimeField(_("начало"))
    expected_end_at = models.DateTimeField(_("ожидаемое окончание"))
    ended_at = models.DateTimeField(_("фактическое окончание"), null=True, blank=True)
    published_at = models.DateTimeField(_("опубликовано"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("отменено"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("напоминание разослано"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("автор"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("создано"))
    updated_at = models.DateTimeField(_("изменено"))

    class Meta:
        verbose_name = _("отключение")
        verbose_name_plural = _("отключения")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["branch", "expected_end_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_end_at__gt=F("starts_at")),
                name="outage_end_after_start",
                violation_error_message=_(
                    "Ожидаемое окончание должно быть позже начала отключения."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("starts_at")),
                name="outage_ended_after_start",
                violation_error_message=_(
                    "Фактическое окончание не может быть раньше начала отключения."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def restore_at(self) -> object:
        return self.ended_at or self.expected_end_at


class OutageAddress(models.Model):
    """An affected house (street + house) or a whole street (house left empty)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="addresses")
    settlement = models.CharField(_("населённый пункт"), max_length=100)
    street = models.CharField(_("улица"), max_length=150)
    house = models.CharField(_("дом"), max_length=20, blank=True, help_text=_("Пусто — вся улица"))
    building = models.CharField(
        _("корпус"), max_length=10, blank=True, help_text=_("Пусто — все корпуса дома")
    )

    class Meta:
        verbose_name = _("адрес отключения")
        verbose_name_plural = _("адреса отключения")
        constraints = [
            models.UniqueConstraint(
                fields=["outage", "settlement", "street", "house", "building"],
                name="outage_address_once",
            ),
            models.CheckConstraint(
                condition=~Q(house="") | Q(building=""), name="outage_building_needs_house"
            ),
        ]

    def __str__(self) -> str:
        text = f"{self.settlement}, {self.street}"
        if self.house:
            text += f", д. {self.house}"
        if self.building:
            text += f", корп. {self.building}"
        return text


class OutageUpdate(models.Model):
    """News on the outage («бригада на месте», new expected time); each one is notified once."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="updates")
    text = models.TextField(_("сообщение"))
    created_at = models.DateTimeField(_("время"))
    notified_at = models.DateTimeField(_("разослано"), null=True, blank=True)

    class Meta:
        verbose_name = _("обновление")
        verbose_name_plural = _("обновления")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]
