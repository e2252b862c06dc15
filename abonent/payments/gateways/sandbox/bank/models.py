"""The sandbox acquirer's own books: its payments, tokenised cards, refunds, notifications.

Nothing in Abonent reads these tables: our side knows the sandbox only through its HTTP API.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class Behaviour(models.TextChoices):
    SUCCESS = "success", "успешная оплата"
    DECLINE = "decline", "отказ банка"
    INSUFFICIENT = "insufficient", "недостаточно средств"
    THREE_DS = "3ds", "3-D Secure при первой оплате"
    THREE_DS_ALWAYS = "3ds_always", "3-D Secure каждый раз"


class BankCard(models.Model):
    token = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    behaviour = models.CharField(max_length=12, choices=Behaviour.choices)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "карта (песочница)"
        verbose_name_plural = "карты (песочница)"

    def __str__(self) -> str:
        return f"{self.brand} •• {self.last4}"


class BankStatus(models.TextChoices):
    PENDING = "pending", "ожидает карту или 3-DS"
    WAITING_FOR_CAPTURE = "waiting_for_capture", "заблокировано"
    SUCCEEDED = "succeeded", "списано"
    CANCELED = "canceled", "отменено"


class BankPayment(models.Model):
    public_id = models.CharField(max_length=40, unique=True)
    idempotence_key = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    capture = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=BankStatus.choices)
    cancellation_reason = models.CharField(max_length=40, blank=True)
    refunded_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    description = models.CharField(max_length=250, blank=True)
    return_url = models.URLField(max_length=500, blank=True)
    save_card = models.BooleanField(default=False)
    card = models.ForeignKey(BankCard, null=True, blank=True, on_delete=models.PROTECT)
    card_saved = models.BooleanField(default=False)
    three_ds_attempts = models.PositiveSmallIntegerField(default=0)
    receipt = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "платёж (песочница)"
        verbose_name_plural = "платежи (песочница)"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="bank_payment_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class BankRefund(models.Model):
    public_id = models.CharField(max_length=40, unique=True)
    idempotence_key = models.CharField(max_length=100, unique=True)
    payment = models.ForeignKey(BankPayment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=12)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "возврат (песочница)"
        verbose_name_plural = "возвраты (песочница)"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_refund_amount_positive")
        ]

    def __str__(self) -> str:
        return self.public_id


class BankNotification(models.Model):
    """An asynchronous notification to the merchant, kept until delivered."""

    event_id = models.CharField(max_length=40, unique=True)
    payment = models.ForeignKey(BankPayment, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    body = models.TextField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "уведомление (песочница)"
        verbose_name_plural = "уведомления (песочница)"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.kind}"
