"""In-app notices about payments and cards (through the notices app's service)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonent.core.money import format_rub
from abonent.notices.models import NotificationKind
from abonent.notices.services import NotificationDraft, notifications_create
from abonent.payments.models import Payment, PaymentPurpose, PaymentStatus


def payment_notify(payment: Payment, *, now: datetime) -> None:
    link = reverse("payments:detail", args=[payment.pk])
    amount = format_rub(payment.amount)
    title = body = ""
    if payment.purpose == PaymentPurpose.CARD_CHECK:
        if payment.status in (PaymentStatus.WAITING_FOR_CAPTURE, PaymentStatus.SUCCEEDED):
            card = f"{payment.card_brand} •• {payment.card_last4}".strip()
            title = _("Карта %(card)s сохранена") % {"card": card}
            body = _("Для проверки банк заблокировал 10 ₽ и сразу вернул их.")
            link = reverse("payments:cards")
        elif payment.status == PaymentStatus.FAILED:
            title = _("Карту не удалось добавить")
            body = _("Банк не подтвердил карту. Попробуйте ещё раз или другую карту.")
            link = reverse("payments:cards")
    elif payment.status == PaymentStatus.SUCCEEDED:
        title = _("Оплата %(amount)s прошла") % {"amount": amount}
        body = _("Платёж № %(id)s зачислен на лицевые счета. Квитанция об оплате — в платеже.") % {
            "id": payment.pk
        }
    elif payment.status == PaymentStatus.FAILED:
        title = _("Оплата %(amount)s не прошла") % {"amount": amount}
        body = _("Деньги не списаны. %(reason)s") % {"reason": failure_text(payment.failure_reason)}
    elif payment.status in (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED):
        title = _("Возврат по платежу № %(id)s") % {"id": payment.pk}
        body = _("Возвращено %(amount)s на карту.") % {
            "amount": format_rub(payment.refunded_amount)
        }
    if not title:
        return
    notifications_create(
        drafts=[
            NotificationDraft(
                user_id=payment.user_id,
                kind=NotificationKind.PAYMENT,
                title=title,
                body=body,
                link=link,
                dedupe_key=f"payment:{payment.pk}:{payment.status}:{payment.refunded_amount}",
            )
        ],
        now=now,
    )


FAILURE_TEXTS = {
    "card_declined": gettext_lazy("Банк отклонил операцию."),
    "insufficient_funds": gettext_lazy("На карте недостаточно средств."),
    "3d_secure_failed": gettext_lazy("Покупка не подтверждена кодом из SMS."),
    "card_expired": gettext_lazy("Срок действия карты истёк."),
    "expired_on_confirmation": gettext_lazy("Время на оплату истекло."),
    "canceled_by_merchant": gettext_lazy("Платёж отменён."),
    "invalid_card_token": gettext_lazy("Сохранённая карта больше не действует."),
}


def failure_text(reason: str) -> str:
    text = FAILURE_TEXTS.get(reason)
    return str(text) if text else _("Попробуйте ещё раз или другую карту.")
