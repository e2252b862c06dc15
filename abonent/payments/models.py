"""Payments: a customer's payment with its lines per ЛС and service, saved cards, the
acquirer's notifications (deduplicated), refunds and autopay settings.

A payment's state only moves forward (see `state.py`); posting to the ledger happens once
per line (`LedgerEntry.source_ref = payment:<id>:<line>`), in the transaction that moves the
payment to «succeeded». Card numbers are never stored: only the acquirer's token, the brand,
the last four digits and the expiry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("создан")
    PENDING = "pending", _("ожидает подтверждения")
    WAITING_FOR_CAPTURE = "waiting_for_capture", _("средства заблокированы")
    SUCCEEDED = "succeeded", _("оплачен")
    FAILED = "failed", _("не прошёл")
    CANCELED = "canceled", _("отменён")
    REFUNDED = "refunded", _("возвращён")
    PARTIALLY_REFUNDED = "partially_refunded", _("возвращён частично")


class PaymentPurpose(models.TextChoices):
    DUES = "dues", _("оплата услуг")
    CARD_CHECK = "card_check", _("проверка карты")


class PaymentSource(models.TextChoices):
    CUSTOMER = "customer", _("клиент")
    AUTOPAY = "autopay", _("автоплатёж")


class Payment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("клиент"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    purpose = models.CharField(
        _("назначение"), max_length=12, choices=PaymentPurpose.choices, default=PaymentPurpose.DUES
    )
    source = models.CharField(
        _("кто начал"), max_length=10, choices=PaymentSource.choices, default=PaymentSource.CUSTOMER
    )
    # The client's key: the same key and body give the same payment; another body is refused.
    idempotency_key = models.CharField(_("ключ идемпотентности"), max_length=64)
    request_hash = models.CharField(_("хеш запроса"), max_length=64)
    status = models.CharField(
        _("статус"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    refunded_amount = models.DecimalField(
        _("возвращено, ₽"), max_digits=14, decimal_places=2, default=0
    )
    gateway = models.CharField(_("эквайер"), max_length=20)
    # NULL until the acquirer answers; unique per gateway once set.
    gateway_payment_id = models.CharField(  # noqa: DJ001
        _("id платежа у эквайера"), max_length=64, null=True, blank=True
    )
    confirmation_url = models.URLField(_("страница оплаты"), max_length=500, blank=True)
    fiscal_receipt_url = models.URLField(_("чек 54-ФЗ"), max_length=500, blank=True)
    card = models.ForeignKey(
        "SavedCard",
        verbose_name=_("сохранённая карта"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
    )
    save_card = models.BooleanField(_("сохранить карту"), default=False)
    card_brand = models.CharField(_("платёжная система"), max_length=20, blank=True)
    card_last4 = models.CharField(_("последние цифры карты"), max_length=4, blank=True)
    failure_reason = models.CharField(_("причина отказа"), max_length=40, blank=True)
    consent_at = models.DateTimeField(_("согласие с правилами"), null=True, blank=True)
    created_at = models.DateTimeField(_("создан"))
    updated_at = models.DateTimeField(_("изменён"))
    paid_at = models.DateTimeField(_("оплачен"), null=True, blank=True)
    # When reconciliation last asked the acquirer about this payment.
    checked_at = models.DateTimeField(_("сверен с эквайером"), null=True, blank=True)

    class Meta:
        verbose_name = _("платёж")
        verbose_name_plural = _("платежи")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "updated_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="payment_idempotency_per_user"
            ),
            models.UniqueConstraint(
                fields=["gateway", "gateway_payment_id"],
                condition=Q(gateway_payment_id__isnull=False),
                name="payment_gateway_id_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PaymentStatus]),
                name="payment_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["succeeded", "partially_refunded", "refunded"])
                | Q(paid_at__isnull=False),
                name="payment_paid_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"№ {self.pk} · {self.amount} ₽ · {self.get_status_display()}"


class PaymentLine(models.Model):
    payment = models.ForeignKey(
        Payment, verbose_name=_("платёж"), on_delete=models.CASCADE, related_name="lines"
    )
    account = models.ForeignKey(
        "accounts.PersonalAccount", verbose_name=_("ЛС"), on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(
        "billing.Service", verbose_name=_("услуга"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    refunded_amount = models.DecimalField(
        _("возвращено, ₽"), max_digits=14, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("строка платежа")
        verbose_name_plural = _("строки платежа")
        ordering = ["payment", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_line_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="payment_line_refund_within_amount",
            ),
            models.UniqueConstraint(
                fields=["payment", "account", "service"], name="payment_line_unique_service"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} · {self.service}: {self.amount}"


class SavedCard(models.Model):
    """A card the customer saved: the acquirer's token and what may be shown, never a PAN."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("клиент"),
        on_delete=models.CASCADE,
        related_name="saved_cards",
    )
    gateway = models.CharField(_("эквайер"), max_length=20)
    token = models.CharField(_("токен эквайера"), max_length=100)
    brand = models.CharField(_("платёжная система"), max_length=20)
    last4 = models.CharField(_("последние 4 цифры"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("месяц окончания"))
    exp_year = models.PositiveSmallIntegerField(_("год окончания"))
    title = models.CharField(_("название"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("добавлена"))
    deleted_at = models.DateTimeField(_("удалена"), null=True, blank=True)

    class Meta:
        verbose_name = _("сохранённая карта")
        verbose_name_plural = _("сохранённые карты")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "gateway", "token"],
                condition=Q(deleted_at__isnull=True),
                name="saved_card_token_once",
            ),
            models.CheckConstraint(condition=Q(last4__regex=r"^\d{4}$"), name="saved_card_last4"),
            models.CheckConstraint(
                condition=Q(exp_month__gte=1) & Q(exp_month__lte=12), name="saved_card_exp_month"
            ),
            models.CheckConstraint(
                condition=Q(exp_year__gte=2000) & Q(exp_year__lte=2100),
                name="saved_card_exp_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} •• {self.last4}"


class GatewayEvent(models.Model):
    """An acquirer's notification, stored once per (gateway, event id): a repeat is a no-op."""

    gateway = models.CharField(_("эквайер"), max_length=20)
    event_id = models.CharField(_("id события"), max_length=100)
    kind = models.CharField(_("событие"), max_length=40)
    gateway_payment_id = models.CharField(_("id платежа у эквайера"), max_length=64, blank=True)
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("платёж"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    payload = models.JSONField(_("тело"), default=dict)
    received_at = models.DateTimeField(_("получено"))
    outcome = models.CharField(_("результат"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("уведомление эквайера")
        verbose_name_plural = _("уведомления эквайера")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="gateway_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.event_id} {self.kind}"


class RefundStatus(models.TextChoices):
    CREATED = "created", _("создан")
    SUCCEEDED = "succeeded", _("выполнен")
    FAILED = "failed", _("отклонён")


class Refund(models.Model):
    payment = models.ForeignKey(
        Payment, verbose_name=_("платёж"), on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    status = models.CharField(
        _("статус"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.CREATED
    )
    gateway_refund_id = models.CharField(_("id возврата у эквайера"), max_length=64, blank=True)
    reason = models.CharField(_("причина"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто оформил"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("создан"))
    finished_at = models.DateTimeField(_("завершён"), null=True, blank=True)

    class Meta:
        verbose_name = _("возврат")
        verbose_name_plural = _("возвраты")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.amount} ₽"


class AutopayMode(models.TextChoices):
    DAY = "day", _("в выбранный день месяца")
    ON_BILL = "on_bill", _("когда придёт квитанция")


class AutopaySetting(models.Model):
    """Autopay of one ЛС by one customer: the day (or on a new bill), the cap and the card."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("клиент"),
        on_delete=models.CASCADE,
        related_name="autopay_settings",
    )
    account = models.ForeignKey(
        "accounts.PersonalAccount", verbose_name=_("ЛС"), on_delete=models.CASCADE, related_name="+"
    )
    card = models.ForeignKey(
        SavedCard, verbose_name=_("карта"), on_delete=models.CASCADE, related_name="autopays"
    )
    mode = models.CharField(_("когда платить"), max_length=8, choices=AutopayMode.choices)
    day = models.PositiveSmallIntegerField(_("день месяца"), null=True, blank=True)
    cap = models.DecimalField(_("не больше, ₽"), max_digits=14, decimal_places=2)
    enabled = models.BooleanField(_("включён"), default=True)
    created_at = models.DateTimeField(_("создан"))
    updated_at = models.DateTimeField(_("изменён"))

    class Meta:
        verbose_name = _("автоплатёж")
        verbose_name_plural = _("автоплатежи")
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="autopay_once_per_account"),
            models.CheckConstraint(condition=Q(cap__gt=0), name="autopay_cap_positive"),
            models.CheckConstraint(
                condition=Q(mode="day", day__gte=1, day__lte=28)
                | Q(mode="on_bill", day__isnull=True),
                name="autopay_day_matches_mode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} · {self.get_mode_display()}"


class AutopayRunStatus(models.TextChoices):
    NOTIFIED = "notified", _("клиент предупреждён")
    STARTED = "started", _("платёж отправлен")
    PAID = "paid", _("оплачено")
    NOTHING_DUE = "nothing_due", _("нечего платить")
    FAILED = "failed", _("не удалось")


class AutopayRun(models.Model):
    """One autopay attempt per setting and month: a failed one stays failed (no blind retry)."""

    setting = models.ForeignKey(
        AutopaySetting, verbose_name=_("автоплатёж"), on_delete=models.CASCADE, related_name="runs"
    )
    month = models.DateField(_("месяц"))
    status = models.CharField(_("статус"), max_length=12, choices=AutopayRunStatus.choices)
    payment = models.ForeignKey(
        Payment, verbose_name=_("платёж"), null=True, blank=True, on_delete=models.SET_NULL
    )
    message = models.CharField(_("подробности"), max_length=300, blank=True)
    notified_at = models.DateTimeField(_("предупреждён"), null=True, blank=True)
    finished_at = models.DateTimeField(_("завершён"), null=True, blank=True)

    class Meta:
        verbose_name = _("запуск автоплатежа")
        verbose_name_plural = _("запуски автоплатежей")
        ordering = ["-month", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["setting", "month"], name="autopay_run_once_a_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="autopay_run_month_first"),
        ]

    def __str__(self) -> str:
        return f"{self.setting} {self.month:%m.%Y}: {self.get_status_display()}"


class ReconciliationReport(models.Model):
    """The daily comparison of our ledger with the acquirer: what did not match."""

    day = models.DateField(_("день"))
    gateway = models.CharField(_("эквайер"), max_length=20)
    checked = models.PositiveIntegerField(_("проверено платежей"), default=0)
    mismatches = models.JSONField(_("расхождения"), default=list)
    created_at = models.DateTimeField(_("сформирован"))

    class Meta:
        verbose_name = _("сверка с эквайером")
        verbose_name_plural = _("сверки с эквайером")
        ordering = ["-day", "gateway"]
        constraints = [
            models.UniqueConstraint(fields=["day", "gateway"], name="reconciliation_report_once")
        ]

    def __str__(self) -> str:
        return f"{self.day:%d.%m.%Y} {self.gateway}: {len(self.mismatches)}"
