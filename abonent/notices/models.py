"""In-app notifications. (Channels — push, SMS, e-mail — and preferences come with issue 7.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    BILL = "bill", _("новая квитанция")
    PAYMENT = "payment", _("оплата")
    OUTAGE = "outage", _("отключение")
    READING = "reading", _("показания")
    VERIFICATION = "verification", _("поверка")
    APPEAL = "appeal", _("обращение")


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
    # What the notice is about, per recipient ("bill:42"): a retried job never notifies twice.
    dedupe_key = models.CharField(max_length=100)

    class Meta:
        verbose_name = _("оповещение")
        verbose_name_plural = _("оповещения")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once")
        ]

    def __str__(self) -> str:
        return self.title
