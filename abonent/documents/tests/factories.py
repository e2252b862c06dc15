"""Small builders for document tests: rows made directly, independent of the billing run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from typing import Any

from abonent.accounts.models import AccountLink, Address, Branch, PersonalAccount
from abonent.billing.models import (
    Bill,
    BillingPeriod,
    Charge,
    ChargeMethod,
    EntryKind,
    LedgerEntry,
    NormBasis,
    Service,
    Unit,
)

_seq = count(1)
MONTH = date(2026, 10, 1)
ISSUED_AT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def make_branch(**extra: Any) -> Branch:
    n = next(_seq)
    fields: dict[str, Any] = {
        "code": f"krsk{n}",
        "name": "Красноярск",
        "timezone": "Asia/Krasnoyarsk",
        "payee_name": "АО «Енисейская ТЭК» | филиал",
        "payee_inn": "2460012345",
        "payee_kpp": "246001001",
        "payee_account": "40702810931000012345",
        "bank_name": "Красноярское отделение № 8646 ПАО Сбербанк",
        "bank_bic": "040407627",
        "bank_corr_account": "30101810800000000627",
        "call_centre_phone": "+73912000000",
    }
    fields.update(extra)
    return Branch.objects.create(**fields)


def make_account(*, branch: Branch | None = None, **extra: Any) -> PersonalAccount:
    branch = branch or make_branch()
    n = next(_seq)
    address = Address.objects.create(
        branch=branch, settlement="Красноярск", street="ул. Ленина", house="15", flat=str(n)
    )
    fields: dict[str, Any] = {
        "branch": branch,
        "number": f"{2400000000 + n}",
        "address": address,
        "owner_name": "Петров Иван Иванович",
        "area": Decimal("54.30"),
        "residents": 2,
    }
    fields.update(extra)
    return PersonalAccount.objects.create(**fields)


def link(user: Any, account: PersonalAccount) -> AccountLink:
    return AccountLink.objects.create(user=user, account=account, created_at=ISSUED_AT)


def make_service(code: str, name: str, unit: str, order: int) -> Service:
    service, _ = Service.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "unit": unit,
            "norm_basis": NormBasis.AREA,
            "sort_order": order,
        },
    )
    return service


def heating() -> Service:
    return make_service("heating", "Отопление", Unit.GCAL, 1)


def hot_water() -> Service:
    return make_service("hot_water", "Горячее водоснабжение", Unit.M3, 2)


def make_period(branch: Branch, month: date = MONTH) -> BillingPeriod:
    period, _ = BillingPeriod.objects.get_or_create(branch=branch, month=month)
    return period


def make_charge(
    account: PersonalAccount,
    service: Service,
    *,
    month: date = MONTH,
    volume: str = "1.000",
    tariff: str = "1000.0000",
    amount: str | None = None,
    method: str = ChargeMethod.METER,
    for_month: date | None = None,
    reason: str = "",
) -> Charge:
    period = make_period(account.branch, month)
    value = Decimal(amount) if amount is not None else Decimal(volume) * Decimal(tariff)
    charge = Charge.objects.create(
        account=account,
        service=service,
        period=period,
        for_month=for_month or month,
        volume=Decimal(volume),
        unit=service.unit,
        tariff=Decimal(tariff),
        method=method,
        amount=value.quantize(Decimal("0.01")),
        is_recalculation=for_month is not None,
        reason=reason,
    )
    LedgerEntry.objects.create(
        account=account,
        service=service,
        kind=EntryKind.CHARGE,
        amount=charge.amount,
        month=month,
        at=ISSUED_AT,
        charge=charge,
    )
    return charge


def make_payment(
    account: PersonalAccount, service: Service, amount: str, *, month: date = MONTH
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        account=account,
        service=service,
        kind=EntryKind.PAYMENT,
        amount=-Decimal(amount),
        month=month,
        at=datetime(month.year, month.month, 10, 5, 0, tzinfo=UTC),
        source_ref=f"payment:{next(_seq)}",
    )


def make_bill(
    account: PersonalAccount,
    *,
    month: date = MONTH,
    opening: str = "150.00",
    charged: str = "0.00",
    recalculated: str = "0.00",
    paid: str = "0.00",
    total: str | None = None,
) -> Bill:
    period = make_period(account.branch, month)
    due = (
        Decimal(total)
        if total is not None
        else Decimal(opening) + Decimal(charged) + Decimal(recalculated) - Decimal(paid)
    )
    return Bill.objects.create(
        account=account,
        period=period,
        number=f"{account.number}-{month:%Y%m}",
        opening_balance=Decimal(opening),
        charged=Decimal(charged),
        recalculated=Decimal(recalculated),
        paid=Decimal(paid),
        total_due=due,
        issued_at=ISSUED_AT,
    )


def october_bill(account: PersonalAccount) -> Bill:
    """Heating by meter, hot water by norm, a recalculation of September, 150 ₽ of debt."""
    heat, water = heating(), hot_water()
    make_charge(account, heat, volume="1.512", tariff="2586.0700")  # 3910.14
    make_charge(
        account, water, volume="4.2", tariff="293.9400", method=ChargeMethod.NORM
    )  # 1234.55
    make_charge(
        account,
        water,
        volume="-0.5",
        tariff="293.9400",
        amount="-146.97",
        for_month=date(2026, 9, 1),
        reason="Показания переданы после начисления по среднему",
    )
    make_payment(account, heat, "100.00")
    return make_bill(
        account, opening="150.00", charged="5144.69", recalculated="-146.97", paid="100.00"
    )
