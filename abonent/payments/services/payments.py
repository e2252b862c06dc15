"""Starting a payment and applying what the acquirer says about it.

The flow, so that money is never charged twice and never lost:
1. `payment_start` validates, then stores the Payment in state «created» under the client's
   idempotency key (same key + same body → the same payment; another body → refused). The
   acquirer is NOT called inside that transaction.
2. `payment_submit` calls the acquirer with a deterministic idempotence key
   (`abonent:payment:<id>:create`). A timeout leaves the payment «created»; the client's
   retry or the reconciliation job repeats the same call and the acquirer answers with the
   payment it already made, so there is one charge.
3. `payment_apply` records the acquirer's answer under a row lock: the state only moves
   forward (`state.py`), and the move to «succeeded» posts every line to the ledger in the
   same transaction (unique source_ref: exactly once).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from abonent.accounts.models import PersonalAccount
from abonent.billing.services.ledger import ledger_post_payment
from abonent.core.errors import Conflict, ValidationFailed
from abonent.core.services import audit_record
from abonent.payments.gateways import gateway_get
from abonent.payments.gateways.protocol import (
    DECLINE_REASONS,
    CreatePayment,
    GatewayError,
    GatewayPayment,
    GatewayStatus,
    GatewayUnavailable,
    PayeeOrder,
    Receipt,
    ReceiptItem,
)
from abonent.payments.models import (
    Payment,
    PaymentLine,
    PaymentPurpose,
    PaymentSource,
    PaymentStatus,
    SavedCard,
)
from abonent.payments.services.notify import payment_notify
from abonent.payments.services.validation import (
    LineInput,
    card_for_user,
    clean_key,
    clean_lines,
    request_hash,
)
from abonent.payments.state import OPEN, can_move

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
# A second submit of the same «created» payment waits this long for the first one's answer.
SUBMIT_LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class StartResult:
    payment: Payment
    created: bool


# ---------------------------------------------------------------- start


def payment_start(
    *,
    user: Any,
    lines: Sequence[LineInput],
    consent: bool,
    card_id: int | None,
    save_card: bool,
    idempotency_key: str,
    site_url: str,
    now: datetime,
    ip: str | None = None,
    source: str = PaymentSource.CUSTOMER,
) -> StartResult:
    """Pay dues of linked ЛС: one payment per idempotency key, then the acquirer."""
    key = clean_key(idempotency_key)
    if not consent:
        message = _("Подтвердите согласие с правилами оплаты.")
        raise ValidationFailed(message, code="consent_required", fields={"consent": [message]})
    cleaned = clean_lines(user=user, lines=lines)
    card = card_for_user(user=user, card_id=card_id) if card_id else None
    body_hash = request_hash(
        {
            "purpose": PaymentPurpose.DUES,
            "lines": [[a, s, f"{amount:.2f}"] for a, s, amount in cleaned],
            "card": card.pk if card else None,
            "save_card": bool(save_card) and card is None,
        }
    )
    payment, created = _payment_get_or_create(
        user=user,
        key=key,
        body_hash=body_hash,
        now=now,
        fields={
            "purpose": PaymentPurpose.DUES,
            "source": source,
            "amount": sum((a for _, _, a in cleaned), ZERO),
            "gateway": card.gateway if card else settings.PAYMENTS_GATEWAY,
            "card": card,
            "card_brand": card.brand if card else "",
            "card_last4": card.last4 if card else "",
            "save_card": bool(save_card) and card is None,
            "consent_at": now,
        },
        lines=cleaned,
        ip=ip,
    )
    if payment.status == PaymentStatus.CREATED and not payment.gateway_payment_id:
        payment = payment_submit(payment=payment, site_url=site_url, now=now)
    return StartResult(payment=payment, created=created)


def _payment_get_or_create(
    *,
    user: Any,
    key: str,
    body_hash: str,
    now: datetime,
    fields: dict[str, Any],
    lines: list[tuple[int, int, Decimal]],
    ip: str | None,
) -> tuple[Payment, bool]:
    """The payment under this key: the stored one (same body) or a new one. Concurrent
    requests with one key meet at the unique (user, key) constraint: one row wins."""
    existing = Payment.objects.filter(user=user, idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    user=user,
                    idempotency_key=key,
                    request_hash=body_hash,
                    status=PaymentStatus.CREATED,
                    created_at=now,
                    updated_at=now,
                    **fields,
                )
                PaymentLine.objects.bulk_create(
                    PaymentLine(payment=payment, account_id=a, service_id=s, amount=amount)
                    for a, s, amount in lines
                )
                audit_record(
                    now=now,
                    action="payments.payment_create",
                    actor=user,
                    target=payment,
                    ip=ip,
                    data={
                        "amount": f"{payment.amount:.2f}",
                        "purpose": payment.purpose,
                        "lines": len(lines),
                        "gateway": payment.gateway,
                    },
                )
            return payment, True
        except IntegrityError:
            existing = Payment.objects.filter(user=user, idempotency_key=key).first()
            if existing is None:
                raise
    if existing.request_hash != body_hash:
        raise Conflict(
            _("Этот ключ уже использован для другого платежа. Обновите страницу и повторите."),
            code="idempotency_key_reused",
        )
    return existing, False


# ---------------------------------------------------------------- the acquirer


def _local_today(account: PersonalAccount, now: datetime) -> Any:
    return now.astimezone(ZoneInfo(account.branch.timezone)).date()


def _receipt(payment: Payment, lines: list[PaymentLine]) -> Receipt:
    user = payment.user
    items = tuple(
        ReceiptItem(
            description=_("%(service)s, ЛС %(number)s")
            % {"service": line.service.name, "number": line.account.number},
            amount=line.amount,
            vat_code=settings.PAYMENTS_VAT_CODE,
        )
        for line in lines
    )
    return Receipt(
        items=items, email=user.email or "", phone="" if user.email else (user.phone or "")
    )


def _payee_order(payment: Payment, lines: list[PaymentLine], now: datetime) -> PayeeOrder | None:
    accounts = {line.account_id for line in lines}
    if len(accounts) != 1:
        return None
    account = lines[0].account
    branch = account.branch
    today = _local_today(account, now)
    return PayeeOrder(
        payee_name=branch.payee_name,
        payee_inn=branch.payee_inn,
        payee_kpp=branch.payee_kpp,
        bank_name=branch.bank_name,
        bank_bic=branch.bank_bic,
        bank_account=branch.payee_account,
        bank_corr_account=branch.bank_corr_account,
        account_number=account.number,
        purpose=_("Оплата коммунальных услуг по ЛС %(number)s за %(month)s")
        % {"number": account.number, "month": f"{today:%m.%Y}"},
        month=today.month,
        year=today.year,
        amount=payment.amount,
    )


def _description(payment: Payment, lines: list[PaymentLine]) -> str:
    if payment.purpose == PaymentPurpose.CARD_CHECK:
        return _("Проверка карты (сумма будет возвращена)")
    numbers = sorted({line.account.number for line in lines})
    return _("Оплата по ЛС %(numbers)s, платёж № %(id)s") % {
        "numbers": ", ".join(numbers),
        "id": payment.pk,
    }


def return_url_for(payment: Payment, site_url: str) -> str:
    if payment.purpose == PaymentPurpose.CARD_CHECK:
        path = reverse("payments:card_result", args=[payment.pk])
    else:
        path = reverse("payments:result", args=[payment.pk])
    return f"{site_url.rstrip('/')}{path}"


def payment_submit(*, payment: Payment, site_url: str, now: datetime) -> Payment:
    """Send a «created» payment to the acquirer (safe to repeat: same idempotence key)."""
    claimed = (
        Payment.objects.filter(
            pk=payment.pk, status=PaymentStatus.CREATED, gateway_payment_id__isnull=True
        )
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lt=now - SUBMIT_LEASE))
        .update(checked_at=now)
    )
    if not claimed:  # another request is talking to the acquirer about it right now
        payment.refresh_from_db()
        return payment
    lines = list(payment.lines.select_related("account__branch", "service").order_by("pk"))
    card = payment.card
    request = CreatePayment(
        idempotence_key=f"abonent:payment:{payment.pk}:create",
        amount=payment.amount,
        description=_description(payment, lines),
        return_url=return_url_for(payment, site_url),
        capture=payment.purpose == PaymentPurpose.DUES
        or settings.PAYMENTS_CARD_CHECK_MODE == "charge_refund",
        save_card=payment.save_card or payment.purpose == PaymentPurpose.CARD_CHECK,
        card_token=card.token if card else "",
        receipt=_receipt(payment, lines) if lines else None,
        payee_order=_payee_order(payment, lines, now) if lines else None,
        metadata={"abonent_payment_id": str(payment.pk)},
    )
    gateway = gateway_get(payment.gateway)
    try:
        state = gateway.create_payment(request)
    except GatewayUnavailable:
        # No answer: the outcome is unknown. Left «created» with the lease released, so the
        # client's retry (or reconciliation) repeats the same call under the same key.
        logger.warning("payment %s: acquirer gave no answer; left created", payment.pk)
        Payment.objects.filter(pk=payment.pk).update(checked_at=None)
        payment.refresh_from_db()
        return payment
    except GatewayError as exc:
        return payment_fail(payment_id=payment.pk, reason=exc.code, now=now)
    return payment_apply(payment_id=payment.pk, state=state, now=now)


def payment_fail(*, payment_id: int, reason: str, now: datetime) -> Payment:
    """The acquirer refused the request outright: nothing was charged."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if can_move(payment.status, PaymentStatus.FAILED):
            payment.status = PaymentStatus.FAILED
            payment.failure_reason = reason[:40]
            payment.updated_at = now
            payment.save(update_fields=["status", "failure_reason", "updated_at"])
            payment_notify(payment, now=now)
    return payment


def _target_status(payment: Payment, state: GatewayPayment) -> str:
    if state.status == GatewayStatus.PENDING:
        return PaymentStatus.PENDING
    if state.status == GatewayStatus.WAITING_FOR_CAPTURE:
        return PaymentStatus.WAITING_FOR_CAPTURE
    if state.status == GatewayStatus.SUCCEEDED:
        return PaymentStatus.SUCCEEDED
    if state.status == GatewayStatus.CANCELED:
        if state.cancellation_reason in DECLINE_REASONS:
            return PaymentStatus.FAILED
        return PaymentStatus.CANCELED
    return payment.status


def _save_card(payment: Payment, state: GatewayPayment, now: datetime) -> SavedCard | None:
    info = state.card
    if info is None or not info.token or not state.card_saved:
        return None
    if not (payment.save_card or payment.purpose == PaymentPurpose.CARD_CHECK):
        return None
    card = SavedCard.objects.filter(
        user_id=payment.user_id, gateway=payment.gateway, token=info.token, deleted_at__isnull=True
    ).first()
    if card is None:
        card = SavedCard.objects.create(
            user_id=payment.user_id,
            gateway=payment.gateway,
            token=info.token,
            brand=info.brand[:20],
            last4=info.last4,
            exp_month=info.exp_month,
            exp_year=info.exp_year,
            created_at=now,
        )
        audit_record(
            now=now,
            action="payments.card_saved",
            actor=None,
            subject_user_id=payment.user_id,
            target=card,
            data={"payment": payment.pk, "brand": card.brand, "last4": card.last4},
        )
    return card


def _post_lines(payment: Payment, now: datetime) -> int:
    posted = 0
    for line in payment.lines.select_related("account__branch").order_by("pk"):
        posted += ledger_post_payment(
            source_ref=f"payment:{payment.pk}:{line.pk}",
            account_id=line.account_id,
            service_id=line.service_id,
            amount=line.amount,
            at=now,
            local_date=_local_today(line.account, now),
            note=_("Оплата картой, платёж № %(id)s") % {"id": payment.pk},
        )
    return posted


def payment_apply(*, payment_id: int, state: GatewayPayment, now: datetime) -> Payment:
    """Record the acquirer's view of a payment. Never moves backwards; the move to
    «succeeded» posts the lines to the ledger in this same transaction."""
    release = False
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.gateway_payment_id and payment.gateway_payment_id != state.id:
            logger.warning("payment %s: state of another acquirer payment %s", payment.pk, state.id)
            return payment
        payment.gateway_payment_id = state.id
        payment.checked_at = now
        if state.fiscal_receipt_url:
            payment.fiscal_receipt_url = state.fiscal_receipt_url
        if state.card is not None:
            payment.card_brand = state.card.brand[:20]
            payment.card_last4 = state.card.last4
        target = _target_status(payment, state)
        moved = target != payment.status and can_move(payment.status, target)
        if moved:
            previous = payment.status
            payment.status = target
            if target in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
                payment.failure_reason = state.cancellation_reason[:40]
            if target == PaymentStatus.SUCCEEDED:
                payment.paid_at = now
            if target in OPEN:
                payment.confirmation_url = state.confirmation_url
        elif payment.status in OPEN and state.confirmation_url:
            payment.confirmation_url = state.confirmation_url
        if target in (PaymentStatus.WAITING_FOR_CAPTURE, PaymentStatus.SUCCEEDED):
            card = _save_card(payment, state, now)
            if card is not None and payment.card_id is None:
                payment.card = card
        payment.updated_at = now
        payment.save()
        if moved:
            posted = 0
            if target == PaymentStatus.SUCCEEDED and payment.purpose == PaymentPurpose.DUES:
                posted = _post_lines(payment, now)
            audit_record(
                now=now,
                action="payments.payment_state",
                actor=None,
                subject_user_id=payment.user_id,
                target=payment,
                data={"from": previous, "to": target, "posted": posted, "gateway": state.status},
            )
            payment_notify(payment, now=now)
            release = payment.purpose == PaymentPurpose.CARD_CHECK and target in (
                PaymentStatus.WAITING_FOR_CAPTURE,
                PaymentStatus.SUCCEEDED,
            )
        if release:
            transaction.on_commit(lambda: _card_check_release_later(payment.pk))
    return payment


def _card_check_release_later(payment_id: int) -> None:
    from abonent.payments.tasks import card_check_release

    try:
        card_check_release.delay(payment_id)
    except Exception:  # the reconciliation job releases it later
        logger.warning("card check %s: release not queued", payment_id, exc_info=True)


def payment_refresh(*, payment: Payment, now: datetime) -> Payment:
    """Ask the acquirer about an open payment (the result page, the reconciliation job)."""
    if payment.status not in OPEN or not payment.gateway_payment_id:
        return payment
    try:
        state = gateway_get(payment.gateway).get_payment(payment.gateway_payment_id)
    except GatewayError:
        logger.warning("payment %s: acquirer did not answer", payment.pk, exc_info=True)
        return payment
    return payment_apply(payment_id=payment.pk, state=state, now=now)
