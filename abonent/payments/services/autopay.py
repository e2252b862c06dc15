"""Autopay per ЛС: on a chosen day (or the day after a new bill), with a notice the day
before, up to the customer's cap, with a saved card. One attempt per month: a failed
autopay is reported to the customer and not retried blindly."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from abonent.accounts.selectors import account_link_for_user
from abonent.billing.models import Bill
from abonent.billing.selectors import balances_for_accounts
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.money import format_rub, money
from abonent.core.services import audit_record
from abonent.notices.models import NotificationKind
from abonent.notices.services import NotificationDraft, notifications_create
from abonent.payments.models import (
    AutopayMode,
    AutopayRun,
    AutopayRunStatus,
    AutopaySetting,
    PaymentSource,
    PaymentStatus,
)
from abonent.payments.services.payments import payment_start
from abonent.payments.services.validation import LineInput, card_for_user

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
DONE = frozenset({AutopayRunStatus.PAID, AutopayRunStatus.FAILED, AutopayRunStatus.NOTHING_DUE})


def autopay_save(
    *,
    user: Any,
    account_id: int,
    card_id: int,
    mode: str,
    day: int | None,
    cap: Decimal | str,
    enabled: bool,
    now: datetime,
    ip: str | None = None,
) -> AutopaySetting:
    link = account_link_for_user(user=user, account_id=account_id)
    card = card_for_user(user=user, card_id=card_id)
    if mode not in AutopayMode.values:
        raise ValidationFailed(_("Выберите, когда платить."), code="invalid_mode")
    if mode == AutopayMode.DAY:
        if day is None or not 1 <= day <= 28:
            message = _("День месяца — от 1 до 28.")
            raise ValidationFailed(message, code="invalid_day", fields={"day": [message]})
    else:
        day = None
    value = money(cap)
    if value <= 0 or value > Decimal(settings.PAYMENTS_TOTAL_MAX):
        message = _("Лимит — больше нуля и не больше %(limit)s.") % {
            "limit": format_rub(Decimal(settings.PAYMENTS_TOTAL_MAX))
        }
        raise ValidationFailed(message, code="invalid_cap", fields={"cap": [message]})
    setting, _created = AutopaySetting.objects.update_or_create(
        user=user,
        account=link.account,
        defaults={
            "card": card,
            "mode": mode,
            "day": day,
            "cap": value,
            "enabled": enabled,
            "updated_at": now,
        },
        create_defaults={
            "card": card,
            "mode": mode,
            "day": day,
            "cap": value,
            "enabled": enabled,
            "created_at": now,
            "updated_at": now,
        },
    )
    audit_record(
        now=now,
        action="payments.autopay_save",
        actor=user,
        target=setting,
        ip=ip,
        data={"mode": mode, "day": day, "cap": f"{value:.2f}", "enabled": enabled},
    )
    return setting


def autopay_delete(*, user: Any, account_id: int, now: datetime, ip: str | None = None) -> None:
    link = account_link_for_user(user=user, account_id=account_id)
    deleted, _ = AutopaySetting.objects.filter(user=user, account=link.account).delete()
    if deleted:
        audit_record(
            now=now,
            action="payments.autopay_delete",
            actor=user,
            ip=ip,
            data={"account": link.account_id},
        )


def _local(setting: AutopaySetting, now: datetime) -> date:
    return now.astimezone(ZoneInfo(setting.account.branch.timezone)).date()


def _bill_issued_on(setting: AutopaySetting, day: date) -> bool:
    zone = ZoneInfo(setting.account.branch.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return Bill.objects.filter(
        account=setting.account, issued_at__gte=start, issued_at__lt=start + timedelta(days=1)
    ).exists()


def _charges_on(setting: AutopaySetting, day: date) -> bool:
    if setting.mode == AutopayMode.DAY:
        return day.day == setting.day
    return _bill_issued_on(setting, day - timedelta(days=1))


def _enabled() -> Any:
    return AutopaySetting.objects.filter(
        enabled=True, card__deleted_at__isnull=True
    ).select_related("account__branch", "card")


def _notice(setting: AutopaySetting, *, key: str, title: str, body: str, now: datetime) -> None:
    notifications_create(
        drafts=[
            NotificationDraft(
                user_id=setting.user_id,
                kind=NotificationKind.PAYMENT,
                title=title,
                body=body,
                link=reverse("payments:autopay"),
                dedupe_key=key,
            )
        ],
        now=now,
    )


def autopay_notify(*, now: datetime) -> int:
    """The notice the day before each autopay (run daily; a repeat notifies nobody twice)."""
    sent = 0
    for setting in _enabled():
        tomorrow = _local(setting, now) + timedelta(days=1)
        if not _charges_on(setting, tomorrow):
            continue
        month = tomorrow.replace(day=1)
        with transaction.atomic():
            _run, created = AutopayRun.objects.get_or_create(
                setting=setting,
                month=month,
                defaults={"status": AutopayRunStatus.NOTIFIED, "notified_at": now},
            )
            if not created:
                continue
            _notice(
                setting,
                key=f"autopay:{setting.pk}:{month:%Y%m}:notice",
                title=_("Завтра автоплатёж по ЛС %(number)s") % {"number": setting.account.number},
                body=_("Спишем сумму к оплате, но не больше %(cap)s, с карты %(card)s.")
                % {"cap": format_rub(setting.cap), "card": f"•• {setting.card.last4}"},
                now=now,
            )
            sent += 1
    return sent


def _lines_up_to_cap(setting: AutopaySetting) -> list[LineInput]:
    balances = balances_for_accounts(account_ids=[setting.account_id]).get(setting.account_id, [])
    left = setting.cap
    lines = []
    for balance in balances:
        if balance.balance <= 0 or left <= 0:
            continue
        part = min(balance.balance, left)
        lines.append(LineInput(setting.account_id, balance.service_id, part))
        left -= part
    return lines


def _finish(run: AutopayRun, status: str, message: str, now: datetime) -> None:
    run.status = status
    run.message = message[:300]
    run.finished_at = now
    run.save(update_fields=["status", "message", "finished_at"])


def autopay_charge(*, now: datetime, site_url: str) -> dict[str, int]:
    """Pay what is due today, once a month per setting. Runs started earlier whose payment
    had no final answer yet are looked at again (their payment, not a new one)."""
    counts = {"paid": 0, "failed": 0, "nothing_due": 0, "waiting": 0}
    for setting in _enabled():
        today = _local(setting, now)
        month = today.replace(day=1)
        run = AutopayRun.objects.filter(setting=setting, month=month).first()
        if run is None and not _charges_on(setting, today):
            continue
        if run is None:
            run = AutopayRun.objects.create(
                setting=setting, month=month, status=AutopayRunStatus.STARTED
            )
        if run.status in DONE:
            continue
        if run.status == AutopayRunStatus.NOTIFIED and not _charges_on(setting, today):
            continue
        payment = run.payment
        if payment is None:
            lines = _lines_up_to_cap(setting)
            if not lines:
                _finish(run, AutopayRunStatus.NOTHING_DUE, "", now)
                counts["nothing_due"] += 1
                continue
            try:
                payment = payment_start(
                    user=setting.user,
                    lines=lines,
                    consent=True,
                    card_id=setting.card_id,
                    save_card=False,
                    idempotency_key=f"autopay-{setting.pk}-{month:%Y%m}",
                    site_url=site_url,
                    now=now,
                    source=PaymentSource.AUTOPAY,
                ).payment
            except DomainError as exc:
                _finish(run, AutopayRunStatus.FAILED, exc.message, now)
                _failed_notice(setting, month, exc.message, now)
                counts["failed"] += 1
                continue
            run.payment = payment
            run.status = AutopayRunStatus.STARTED
            run.save(update_fields=["payment", "status"])
        if payment.status == PaymentStatus.SUCCEEDED:
            _finish(run, AutopayRunStatus.PAID, "", now)
            counts["paid"] += 1
        elif payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
            _finish(run, AutopayRunStatus.FAILED, payment.failure_reason, now)
            _failed_notice(setting, month, _("Банк не провёл платёж."), now)
            counts["failed"] += 1
        elif payment.status == PaymentStatus.PENDING:
            # The bank wants the customer (3-D Secure): an autopay cannot do that unattended.
            _finish(run, AutopayRunStatus.FAILED, "confirmation_required", now)
            _failed_notice(setting, month, _("Банк просит подтвердить оплату."), now)
            counts["failed"] += 1
        else:
            counts["waiting"] += 1  # no answer yet: reconciliation settles the payment
    return counts


def _failed_notice(setting: AutopaySetting, month: date, reason: str, now: datetime) -> None:
    _notice(
        setting,
        key=f"autopay:{setting.pk}:{month:%Y%m}:failed",
        title=_("Автоплатёж по ЛС %(number)s не прошёл") % {"number": setting.account.number},
        body=_("%(reason)s Повторно списывать не будем — оплатите вручную в разделе «Оплата».")
        % {"reason": reason},
        now=now,
    )
