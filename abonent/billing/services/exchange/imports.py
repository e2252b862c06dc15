"""All-or-nothing imports of accounts, charges and opening balances."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from abonent.accounts.models import AccountService, Address, Branch, PersonalAccount
from abonent.billing.models import (
    BillingPeriod,
    Charge,
    ChargeMethod,
    EntryKind,
    LedgerEntry,
    PeriodStatus,
    Service,
)
from abonent.billing.services.exchange.parse import (
    ImportReport,
    RejectedRow,
    Row,
    RowError,
    _account_number,
    _accounts,
    _date,
    _decimal,
    _money,
    _open_period,
    _service,
    _services,
    _short,
)
from abonent.core.errors import Conflict
from abonent.core.services import audit_record

# ---------------------------------------------------------------- imports


def import_accounts(*, branch: Branch, rows: Sequence[Row], now: datetime) -> ImportReport:
    """ЛС with their address; `services` lists service codes separated by spaces or `|`.

    Columns: account, owner_name, settlement, street, house, [building], [flat], [area],
    [residents], [services], [since]. An ЛС whose number the branch already has is skipped.
    """
    report = ImportReport(kind="accounts", rows=len(rows))
    services = _services()
    existing = _accounts(branch, {r.data.get("account", "") for r in rows})
    seen: set[str] = set()
    valid: list[tuple[dict[str, Any], list[Service]]] = []
    for row in rows:
        try:
            number = _account_number(row)
            if number in seen:
                raise RowError(gettext("ЛС %(number)s повторяется в файле") % {"number": number})
            seen.add(number)
            item: dict[str, Any] = {
                "number": number,
                "owner_name": _short(row, "owner_name", 200),
                "settlement": _short(row, "settlement", 100),
                "street": _short(row, "street", 150),
                "house": _short(row, "house", 20),
                "building": _short(row, "building", 10, required=False),
                "flat": _short(row, "flat", 10, required=False),
                "area": _decimal(row, "area", places=2, default="0"),
                "residents": _decimal(row, "residents", places=0, default="1"),
                "since": _date(row, "since") if row.data.get("since") else date(now.year, 1, 1),
            }
            if item["area"] < 0 or item["residents"] < 0:
                raise RowError(gettext("площадь и число жильцов не могут быть отрицательными"))
            if item["area"] >= 1_000_000 or item["residents"] > 32767:
                raise RowError(gettext("площадь или число жильцов слишком велики"))
            codes = [c for c in re.split(r"[\s|]+", row.data.get("services", "")) if c]
            unknown = [c for c in codes if c not in services]
            if unknown:
                raise RowError(gettext("неизвестная услуга «%(code)s»") % {"code": unknown[0]})
            valid.append((item, [services[c] for c in codes]))
        except RowError as exc:
            report.rejected.append(RejectedRow(line=row.line, reason=exc.reason))
    if report.rejected:
        return report
    new = [(item, svcs) for item, svcs in valid if item["number"] not in existing]
    report.skipped = len(valid) - len(new)
    with transaction.atomic():
        key_fields = ("settlement", "street", "house", "building", "flat")
        addresses = {
            tuple(getattr(a, f) for f in key_fields): a
            for a in Address.objects.filter(
                branch=branch, settlement__in={item["settlement"] for item, _s in new}
            )
        }
        missing = {tuple(item[f] for f in key_fields) for item, _s in new} - addresses.keys()
        Address.objects.bulk_create(
            [
                Address(branch=branch, **dict(zip(key_fields, key, strict=True)))
                for key in sorted(missing)
            ]
        )
        addresses.update(
            {
                tuple(getattr(a, f) for f in key_fields): a
                for a in Address.objects.filter(
                    branch=branch, settlement__in={k[0] for k in missing}
                )
            }
        )
        PersonalAccount.objects.bulk_create(
            [
                PersonalAccount(
                    branch=branch,
                    number=item["number"],
                    address=addresses[tuple(item[f] for f in key_fields)],
                    owner_name=item["owner_name"],
                    area=item["area"],
                    residents=int(item["residents"]),
                )
                for item, _s in new
            ]
        )
        created = _accounts(branch, {item["number"] for item, _s in new})
        AccountService.objects.bulk_create(
            [
                AccountService(
                    account=created[item["number"]], service=svc, valid_from=item["since"]
                )
                for item, svcs in new
                for svc in svcs
            ]
        )
        report.created = len(new)
        audit_record(
            now=now,
            action="billing.import_accounts",
            target=branch,
            data={"created": report.created, "skipped": report.skipped},
        )
    return report


def import_charges(
    *, branch: Branch, month: date, rows: Sequence[Row], now: datetime
) -> ImportReport:
    """Charges of an open period as method «import». Columns: account, service, amount,
    [volume], [tariff]. A line the period already has for that ЛС and service is an error."""
    month = month.replace(day=1)
    report = ImportReport(kind="charges", rows=len(rows))
    with transaction.atomic():
        period = _open_period(branch=branch, month=month)
        services = _services()
        accounts = _accounts(branch, {r.data.get("account", "") for r in rows})
        taken = set(
            Charge.objects.filter(period=period, for_month=month).values_list(
                "account_id", "service_id"
            )
        )
        charges: list[Charge] = []
        for row in rows:
            try:
                number = _account_number(row)
                service = _service(row, services)
                account = accounts.get(number)
                if account is None:
                    raise RowError(
                        gettext("ЛС %(number)s не найден в филиале") % {"number": number}
                    )
                amount = _money(row, "amount")
                volume = _decimal(row, "volume", places=6, default="0")
                tariff = _decimal(row, "tariff", places=4, default="0")
                if volume < 0 or tariff < 0:
                    raise RowError(gettext("объём и тариф не могут быть отрицательными"))
                key = (account.pk, service.pk)
                if key in taken:
                    raise RowError(
                        gettext("начисление ЛС %(number)s по услуге «%(code)s» уже есть")
                        % {"number": number, "code": service.code}
                    )
                taken.add(key)
                charges.append(
                    Charge(
                        account=account,
                        service=service,
                        period=period,
                        for_month=month,
                        volume=volume,
                        unit=service.unit,
                        tariff=tariff,
                        method=ChargeMethod.IMPORT,
                        amount=amount,
                        reason=gettext("импорт"),
                    )
                )
            except RowError as exc:
                report.rejected.append(RejectedRow(line=row.line, reason=exc.reason))
        if report.rejected:
            transaction.set_rollback(True)
            return report
        Charge.objects.bulk_create(charges)
        report.created = len(charges)
        report.total = sum((c.amount for c in charges), Decimal("0.00"))
        audit_record(
            now=now,
            action="billing.import_charges",
            target=period,
            data={"created": report.created, "total": str(report.total)},
        )
    return report


def import_balances(
    *, branch: Branch, month: date, rows: Sequence[Row], file_digest: str, now: datetime
) -> ImportReport:
    """Opening balances (+ due, − advance) as ledger entries of `month`.

    Columns: account, service, amount. Rows already posted from the same file are skipped;
    a closed period of `month` is refused (its bills are issued).
    """
    month = month.replace(day=1)
    report = ImportReport(kind="balances", rows=len(rows))
    services = _services()
    accounts = _accounts(branch, {r.data.get("account", "") for r in rows})
    entries: list[LedgerEntry] = []
    for row in rows:
        try:
            number = _account_number(row)
            service = _service(row, services)
            account = accounts.get(number)
            if account is None:
                raise RowError(gettext("ЛС %(number)s не найден в филиале") % {"number": number})
            entries.append(
                LedgerEntry(
                    account=account,
                    service=service,
                    kind=EntryKind.OPENING,
                    amount=_money(row, "amount"),
                    month=month,
                    at=now,
                    source_ref=f"import:{branch.code}:{file_digest}:{row.line}",
                    note=gettext("входящий остаток из внешней системы"),
                )
            )
        except RowError as exc:
            report.rejected.append(RejectedRow(line=row.line, reason=exc.reason))
    if report.rejected:
        return report
    with transaction.atomic():
        closed = BillingPeriod.objects.filter(
            branch=branch, month=month, status=PeriodStatus.CLOSED
        ).exists()
        if closed:
            raise Conflict(
                gettext("Период %(month)s закрыт: импорт в него невозможен.")
                % {"month": f"{month:%m.%Y}"},
                code="period_closed",
            )
        posted = set(
            LedgerEntry.objects.filter(source_ref__in=[e.source_ref for e in entries]).values_list(
                "source_ref", flat=True
            )
        )
        new = [e for e in entries if e.source_ref not in posted]
        LedgerEntry.objects.bulk_create(new, ignore_conflicts=True)
        report.created = len(new)
        report.skipped = len(entries) - len(new)
        report.total = sum((e.amount for e in new), Decimal("0.00"))
        audit_record(
            now=now,
            action="billing.import_balances",
            target=branch,
            data={"created": report.created, "skipped": report.skipped, "digest": file_digest},
        )
    return report
