from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """Who did what to whose data, append-only. Staff reads are recorded here too."""

    at = models.DateTimeField(_("время"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("действие"), max_length=64, db_index=True)
    subject_user_id = models.BigIntegerField(_("чьи данные"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("объект"), max_length=64, blank=True)
    object_id = models.CharField(_("id объекта"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    data = models.JSONField(_("подробности"), default=dict, blank=True)

    class Meta:
        verbose_name = _("запись журнала")
        verbose_name_plural = _("журнал действий")
        ordering = ["-at", "-id"]
        # «журнал по клиенту», a staff member's trail, and the read throttle.
        indexes = [
            models.Index(fields=["subject_user_id", "-at"], name="audit_subject_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class JobOutbox(models.Model):
    """A job the broker could not take (Redis down): kept here, in the database, and relayed
    to the broker once it is back (`core.tasks.outbox_relay` on beat, `manage.py
    relay_outbox`). A row is relayed once it has `relayed_at`; relayed rows are purged after
    a week. See docs/decisions/0014."""

    task = models.CharField(_("задача"), max_length=200)
    args = models.JSONField(_("аргументы"), default=list, blank=True)
    kwargs = models.JSONField(_("именованные аргументы"), default=dict, blank=True)
    eta = models.DateTimeField(_("не раньше"), null=True, blank=True)
    created_at = models.DateTimeField(_("записана"))
    attempts = models.PositiveIntegerField(_("попыток передачи"), default=0)
    last_error = models.CharField(_("последняя ошибка"), max_length=500, blank=True)
    relayed_at = models.DateTimeField(_("передана брокеру"), null=True, blank=True)

    class Meta:
        verbose_name = _("отложенная задача")
        verbose_name_plural = _("отложенные задачи (брокер был недоступен)")
        ordering = ["id"]
        indexes = [
            # The relay's scan: pending rows in order (a partial index stays tiny).
            models.Index(
                fields=["id"],
                name="core_outbox_pending",
                condition=models.Q(relayed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
