"""Small builders for accounts and billing rows (the billing run is not needed for reads)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from abonent.accounts.models import AccountLink, AccountService, Address, Branch, PersonalAccount
from abonent.billing.models import (
    BillingPeriod,
    Charge,
    EntryKind,
    LedgerEntry,
    NormBasis,
    Service,
    Unit,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_branch(code: str = "krs", name: str = "Красноярск") -> Branch:
    branch, _ = Branch.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "payee_name": "АО «Енисейская ТГК (ТГК-13)»",
            "payee_inn": "1901067718",
            "payee_kpp": "246601001",
            "payee_account": "40702810000000000001",
            "bank_name": "ПАО Сбербанк",
            "bank_bic": "040407627",
            "bank_corr_account": "30101810800000000627",
            "call_centre_phone": "+73912280000",
        },
    )
    return branch


def make_service(code: str = "heating") -> Service:
    defaults = {
        "heating": ("Отопление", Unit.GCAL, NormBasis.AREA, 1),
        "hot_water": ("Горячая вода", Unit.M3, NormBasis.RESIDENT, 2),
        "power": ("Электроэнергия", Unit.KWH, NormBasis.RESIDENT, 3),
    }[code]
    service, _ = Service.objects.get_or_create(
        code=code,
        defaults={
            "name": defaults[0],
            "unit": defaults[1],
            "norm_basis": defaults[2],
            "sort_order": defaults[3],
        },
    )
    return service


def make_account(
    *,
    number: str = "240100123456",
    owner_name: str = "Иванова Анна Петровна",
    settlement: str = "Красноярск",
    street: str = "ул. Карла Маркса",
    house: str = "7",
    building: str = "А",
    flat: str = "12",
    branch: Branch | None = None,
    services: tuple[str, ...] = ("heating", "hot_water"),
    status: str = "open",
) -> PersonalAccount:
    branch = branch or make_branch()
    address = Address.objects.create(
        branch=branch,
        settlement=settlement,
        street=street,
        house=house,
        building=building,
        flat=flat,
    )
    account = PersonalAccount.objects.create(
        branch=branch,
        number=number,
        address=address,
        owner_name=owner_name,
        area=Decimal("54.30"),
        residents=2,
        status=status,
    )
    for code in services:
        AccountService.objects.create(
            account=account, service=make_service(code), valid_from=date(2020, 1, 1)
        )
    return account


def link(user: Any, account: PersonalAccount, label: str = "") -> AccountLink:
    return AccountLink.objects.create(user=user, account=account, label=label, created_at=NOW)


def period(branch: Branch, month: date, *, closed: bool = True) -> BillingPeriod:
    obj, _ = BillingPeriod.objects.get_or_create(
        branch=branch,
        month=month,
        defaults={"status": "closed" if closed else "open", "closed_at": NOW if closed else None},
    )
    return obj


def charge(
    account: PersonalAccount,
    code: str,
    month: date,
    *,
    volume: str,
    tariff: str,
    amount: str,
    method: str = "meter",
    for_month: date | None = None,
    reason: str = "",
    closed: bool = True,
) -> Charge:
    """A charge line; in a closed period it is also posted to the ledger, as closing does."""
    service = make_service(code)
    obj = Charge.objects.create(
        account=account,
        service=service,
        period=period(account.branch, month, closed=closed),
        for_month=for_month or month,
        volume=Decimal(volume),
        unit=service.unit,
        tariff=Decimal(tariff),
        method=method,
        amount=Decimal(amount),
        is_recalculation=for_month is not None,
        reason=reason,
    )
    if not closed:
        return obj
    LedgerEntry.objects.create(
        account=account,
        service=service,
        kind=EntryKind.CHARGE,
        amount=obj.amount,
        month=month,
        at=datetime(month.year, month.month, 28, tzinfo=UTC),
        charge=obj,
    )
    return obj


_refs = iter(range(1, 10**6))


def payment(account: PersonalAccount, code: str, month: date, amount: str) -> LedgerEntry:
    """A payment of `amount` (positive) — the ledger gets it as a minus."""
    return LedgerEntry.objects.create(
        account=account,
        service=make_service(code),
        kind=EntryKind.PAYMENT,
        amount=-Decimal(amount),
        month=month,
        at=datetime(month.year, month.month, 10, tzinfo=UTC),
        source_ref=f"test-payment:{next(_refs)}",
    )


def opening(account: PersonalAccount, code: str, month: date, amount: str) -> LedgerEntry:
    return LedgerEntry.objects.create(
        account=account,
        service=make_service(code),
        kind=EntryKind.OPENING,
        amount=Decimal(amount),
        month=month,
        at=datetime(month.year, month.month, 1, tzinfo=UTC),
    )
