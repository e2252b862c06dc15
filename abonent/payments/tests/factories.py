"""Builders for payment tests: a customer with two ЛС that owe, and saved cards."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from abonent.accounts.models import PersonalAccount
from abonent.accounts.tests.factories import link, make_account, make_service, opening
from abonent.billing.models import EntryKind, LedgerEntry, Service
from abonent.payments.models import SavedCard

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MONTH = date(2026, 11, 1)


def owing_accounts(user: Any) -> tuple[PersonalAccount, PersonalAccount]:
    """Two linked ЛС: the first owes 1500 (heating) + 320.40 (hot water); the second owes
    900 on heating and is 100 ahead on hot water."""
    first = make_account(number="240100000001", flat="1")
    second = make_account(number="240100000002", flat="2")
    link(user, first, label="Квартира")
    link(user, second, label="Дача")
    opening(first, "heating", MONTH, "1500.00")
    opening(first, "hot_water", MONTH, "320.40")
    opening(second, "heating", MONTH, "900.00")
    opening(second, "hot_water", MONTH, "-100.00")
    return first, second


def heating() -> Service:
    return make_service("heating")


def hot_water() -> Service:
    return make_service("hot_water")


def balance(account: PersonalAccount, service: Service) -> Decimal:
    total = sum(
        (e.amount for e in LedgerEntry.objects.filter(account=account, service=service)),
        Decimal("0"),
    )
    return Decimal(total).quantize(Decimal("0.01"))


def payments_posted() -> list[tuple[str | None, Decimal]]:
    return list(
        LedgerEntry.objects.filter(kind=EntryKind.PAYMENT)
        .order_by("pk")
        .values_list("source_ref", "amount")
    )


def saved_card(
    user: Any,
    *,
    token: str = "tok_test",  # noqa: S107
    gateway: str = "sandbox",
    **kw: Any,
) -> SavedCard:
    defaults: dict[str, Any] = {"brand": "Мир", "last4": "0004", "exp_month": 12, "exp_year": 2030}
    defaults.update(kw)
    return SavedCard.objects.create(
        user=user, gateway=gateway, token=token, created_at=NOW, **defaults
    )
