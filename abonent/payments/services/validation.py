"""Checks on what a customer asks to pay: amounts, lines, keys, cards. Nothing is written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink, AccountService
from abonent.billing.models import LedgerEntry
from abonent.core.errors import NotFound, ValidationFailed
from abonent.core.money import format_rub, money
from abonent.payments.models import SavedCard

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineInput:
    account_id: int
    service_id: int
    amount: Decimal | str | int


def clean_amount(raw: Decimal | str | int, field: str) -> Decimal:
    try:
        amount = money(raw)
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message, code="invalid_amount", fields={field: [exc.message]}
        ) from exc
    except TypeError as exc:
        message = _("Сумма указана неверно.")
        raise ValidationFailed(message, code="invalid_amount", fields={field: [message]}) from exc
    if amount < 0:
        message = _("Сумма не может быть отрицательной.")
        raise ValidationFailed(message, code="negative_amount", fields={field: [message]})
    limit = Decimal(settings.PAYMENTS_LINE_MAX)
    if amount > limit:
        message = _("Не больше %(limit)s по одной услуге.") % {"limit": format_rub(limit)}
        raise ValidationFailed(message, code="amount_too_large", fields={field: [message]})
    return amount


def clean_lines(*, user: Any, lines: Sequence[LineInput]) -> list[tuple[int, int, Decimal]]:
    """Amounts checked, zero lines dropped, every ЛС linked and every service on it."""
    if not lines:
        raise ValidationFailed(
            _("Выберите, что оплатить."), code="no_lines", fields={"lines": [_("Пусто.")]}
        )
    if len(lines) > settings.PAYMENTS_MAX_LINES:
        raise ValidationFailed(_("Слишком много строк в одном платеже."), code="too_many_lines")
    cleaned: list[tuple[int, int, Decimal]] = []
    seen: set[tuple[int, int]] = set()
    for index, line in enumerate(lines):
        amount = clean_amount(line.amount, f"lines.{index}.amount")
        key = (int(line.account_id), int(line.service_id))
        if key in seen:
            message = _("Услуга указана дважды.")
            raise ValidationFailed(
                message, code="duplicate_line", fields={f"lines.{index}": [message]}
            )
        seen.add(key)
        if amount > 0:
            cleaned.append((key[0], key[1], amount))
    total = sum((a for _, _, a in cleaned), ZERO)
    if total <= 0:
        message = _("Итого к оплате должно быть больше нуля.")
        raise ValidationFailed(message, code="zero_total", fields={"lines": [message]})
    limit = Decimal(settings.PAYMENTS_TOTAL_MAX)
    if total > limit:
        message = _("Не больше %(limit)s за один платёж.") % {"limit": format_rub(limit)}
        raise ValidationFailed(message, code="total_too_large", fields={"lines": [message]})
    account_ids = {a for a, _, _ in cleaned}
    linked = set(
        AccountLink.objects.filter(user=user, account_id__in=account_ids).values_list(
            "account_id", flat=True
        )
    )
    if account_ids - linked:
        raise NotFound(_("Лицевой счёт не найден."), code="account_not_found")
    allowed = set(
        AccountService.objects.filter(account_id__in=account_ids).values_list(
            "account_id", "service_id"
        )
    ) | set(
        LedgerEntry.objects.filter(account_id__in=account_ids)
        .values_list("account_id", "service_id")
        .distinct()
    )
    for index, (account_id, service_id, _amount) in enumerate(cleaned):
        if (account_id, service_id) not in allowed:
            message = _("Этой услуги нет на лицевом счёте.")
            raise ValidationFailed(
                message, code="service_not_on_account", fields={f"lines.{index}": [message]}
            )
    return cleaned


def request_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def clean_key(key: str) -> str:
    key = (key or "").strip()
    if not 8 <= len(key) <= 64 or not all(ch.isalnum() or ch in "-_:." for ch in key):
        message = _("Ключ идемпотентности: 8–64 символа (латиница, цифры, - _ : .).")
        raise ValidationFailed(
            message, code="invalid_idempotency_key", fields={"idempotency_key": [message]}
        )
    return key


def card_for_user(*, user: Any, card_id: int) -> SavedCard:
    card = SavedCard.objects.filter(pk=card_id, user=user, deleted_at__isnull=True).first()
    if card is None:
        raise NotFound(_("Карта не найдена."), code="card_not_found")
    return card


def line_max() -> Decimal:
    return Decimal(settings.PAYMENTS_LINE_MAX)
