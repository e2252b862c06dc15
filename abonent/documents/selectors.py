"""Reads for documents: which bills a customer may see, and the data a document prints.

A bill is a read-only projection of billing data, so this module reads Bill, Charge and
LedgerEntry rows itself (a documented exception to "through the other app's selectors").
Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink, Branch, PersonalAccount
from abonent.billing.models import Bill, Charge, ChargeMethod, EntryKind, LedgerEntry
from abonent.core.errors import NotFound, ValidationFailed
from abonent.documents import format as fmt
from abonent.documents.qr import payment_qr_payload
from abonent.identity.phones import format_phone

ZERO = Decimal("0.00")
MAX_STATEMENT_MONTHS = 36


def _customer_accounts(user: Any) -> Any:
    return AccountLink.objects.filter(user=user).values("account_id")


def account_for_customer(*, user: Any, account_id: int) -> PersonalAccount:
    """The ЛС if this customer has linked it; otherwise NotFound (never 'forbidden')."""
    account = (
        PersonalAccount.objects.select_related("branch", "address")
        .filter(pk=account_id, pk__in=_customer_accounts(user))
        .first()
    )
    if account is None:
        raise NotFound(_("Лицевой счёт не найден."), code="account_not_found")
    return account


def bill_list_for_customer(*, user: Any, account_id: int) -> list[Bill]:
    """The bills of one linked ЛС, newest period first (one query after the access check)."""
    account = account_for_customer(user=user, account_id=account_id)
    return list(
        Bill.objects.filter(account=account)
        .select_related("period")
        .order_by("-period__month", "-pk")
    )


def bill_list_for_customer_all(*, user: Any) -> list[Bill]:
    """Every bill of every ЛС the customer has linked, newest first (one query): the
    receipts archive of «Информация»."""
    return list(
        Bill.objects.filter(account_id__in=_customer_accounts(user))
        .select_related("period", "account__address")
        .order_by("-issued_at", "-pk")
    )


def bill_for_customer(*, user: Any, bill_id: int) -> Bill:
    bill = (
        Bill.objects.select_related("account__branch", "account__address", "period")
        .filter(pk=bill_id, account_id__in=_customer_accounts(user))
        .first()
    )
    if bill is None:
        raise NotFound(_("Квитанция не найдена."), code="bill_not_found")
    return bill


def _branch_data(branch: Branch) -> dict[str, str]:
    return {"name": branch.name, "phone": format_phone(branch.call_centre_phone)}


def _account_data(account: PersonalAccount) -> dict[str, str]:
    return {
        "number": account.number,
        "owner": account.owner_name,
        "address": str(account.address),
        "area": fmt.number(account.area, places=2),
        "residents": str(account.residents),
    }


def bill_purpose(*, account: PersonalAccount, month: date) -> str:
    # Short on purpose: every Cyrillic letter is two bytes of the QR, and a longer code is
    # both denser to print and slower to make.
    return _("Оплата ЕПД за %(month)s, ЛС %(number)s") % {
        "number": account.number,
        "month": fmt.month_short(month),
    }


@dataclass(frozen=True)
class BillDocument:
    """What a bill PDF prints: the template data and the payment QR payload."""

    data: dict[str, Any]
    qr_payload: str
    issued_at: datetime
    filename: str
    ascii_filename: str


def bill_document(*, bill: Bill) -> BillDocument:
    """The printable content of a bill: its header figures and its period's charge lines."""
    account = bill.account
    branch = account.branch
    month = bill.period.month
    charges = (
        Charge.objects.filter(account=account, period=bill.period)
        .select_related("service")
        .order_by("service__sort_order", "service__name", "for_month", "pk")
    )
    methods = dict(ChargeMethod.choices)
    lines: list[dict[str, str]] = []
    recalcs: list[dict[str, str]] = []
    for charge in charges:
        if charge.is_recalculation:
            recalcs.append(
                {
                    "service": charge.service.name,
                    "month": fmt.month_short(charge.for_month),
                    "reason": charge.reason or "—",
                    "amount": fmt.amount(charge.amount),
                }
            )
        else:
            lines.append(
                {
                    "service": charge.service.name,
                    "volume": fmt.number(charge.volume),
                    "unit": charge.unit,
                    "tariff": fmt.number(charge.tariff, places=4),
                    "method": str(methods.get(charge.method, charge.method)),
                    "amount": fmt.amount(charge.amount),
                }
            )
    data = bill_data(
        bill=bill, account=account, branch=branch, month=month, lines=lines, recalcs=recalcs
    )
    payload = payment_qr_payload(
        branch=branch,
        account=account,
        amount=bill.total_due,
        period_month=month,
        purpose=bill_purpose(account=account, month=month),
    )
    return BillDocument(
        data=data,
        qr_payload=payload,
        issued_at=bill.issued_at,
        filename=f"ЕПД {account.number} {month:%Y-%m}.pdf",
        ascii_filename=f"bill-{account.number}-{month:%Y-%m}.pdf",
    )


def bill_data(
    *,
    bill: Bill,
    account: PersonalAccount,
    branch: Branch,
    month: date,
    lines: list[dict[str, str]],
    recalcs: list[dict[str, str]],
) -> dict[str, Any]:
    """The template data of a bill (also used by the benchmark, without the database)."""
    issued = bill.issued_at.astimezone(ZoneInfo(branch.timezone))
    opening = bill.opening_balance
    return {
        "number": bill.number,
        "period": fmt.month_name(month),
        "issued": f"{issued:%d.%m.%Y}",
        "account": _account_data(account),
        "branch": _branch_data(branch),
        "payee": {
            "name": branch.payee_name,
            "inn": branch.payee_inn,
            "kpp": branch.payee_kpp,
            "account": branch.payee_account,
            "bank": branch.bank_name,
            "bic": branch.bank_bic,
            "corr": branch.bank_corr_account,
        },
        "lines": lines,
        "recalcs": recalcs,
        "opening_label": _("Аванс") if opening < 0 else _("Задолженность"),
        "opening": fmt.amount(abs(opening)),
        "charged": fmt.amount(bill.charged),
        "recalculated": fmt.amount(bill.recalculated),
        "paid": fmt.amount(bill.paid),
        "total": fmt.amount(max(bill.total_due, ZERO)),
        "due": bill.total_due > 0,
    }


def _parse_month(raw: str, field: str) -> date:
    try:
        year, month = raw.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(raw)
        parsed = date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed(
            _("Месяц указывается как ГГГГ-ММ, например 2026-11."),
            code="invalid_month",
            fields={field: [_("Месяц указывается как ГГГГ-ММ, например 2026-11.")]},
        ) from None
    if parsed.year < 2000:
        raise ValidationFailed(
            _("Слишком ранний месяц."),
            code="invalid_month",
            fields={field: [_("Слишком ранний месяц.")]},
        )
    return parsed


def statement_range(*, raw_from: str | None, raw_to: str | None, today: date) -> tuple[date, date]:
    """`from`/`to` as YYYY-MM (both optional: the last 12 months up to this one)."""
    month_to = _parse_month(raw_to, "to") if raw_to else date(today.year, today.month, 1)
    if raw_from:
        month_from = _parse_month(raw_from, "from")
    else:
        back = month_to.year * 12 + month_to.month - 1 - 11
        month_from = date(back // 12, back % 12 + 1, 1)
    if month_from > month_to:
        raise ValidationFailed(
            _("Начало периода позже его конца."),
            code="invalid_range",
            fields={"from": [_("Начало периода позже его конца.")]},
        )
    if months_between(month_from, month_to) > MAX_STATEMENT_MONTHS:
        message = _("Выписку можно получить не больше чем за %(n)s месяца.") % {
            "n": MAX_STATEMENT_MONTHS
        }
        raise ValidationFailed(message, code="invalid_range", fields={"from": [message]})
    return month_from, month_to


def months_between(month_from: date, month_to: date) -> int:
    return (month_to.year - month_from.year) * 12 + month_to.month - month_from.month + 1


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


@dataclass(frozen=True)
class StatementDocument:
    data: dict[str, Any]
    filename: str
    ascii_filename: str


def statement_document(
    *, account: PersonalAccount, month_from: date, month_to: date, now: datetime
) -> StatementDocument:
    """Charges, recalculations, corrections and payments per month and service.

    From the ledger, so the figures add up: closing = opening + charged + recalculated +
    corrected − paid, where opening is everything booked before `month_from`.
    """
    entries = LedgerEntry.objects.filter(account=account)
    opening = entries.filter(month__lt=month_from).aggregate(s=Sum("amount"))["s"] or ZERO
    rows_qs = (
        entries.filter(month__gte=month_from, month__lt=_next_month(month_to))
        .exclude(kind=EntryKind.OPENING)
        .values("month", "service__name", "service__sort_order", "kind", "charge__is_recalculation")
        .annotate(total=Sum("amount"))
    )
    cells: dict[tuple[date, int, str], dict[str, Decimal]] = defaultdict(
        lambda: {"charged": ZERO, "recalculated": ZERO, "corrected": ZERO, "paid": ZERO}
    )
    in_range_opening = ZERO
    for row in rows_qs:
        key = (row["month"], row["service__sort_order"], row["service__name"])
        total = row["total"] or ZERO
        kind = row["kind"]
        if kind == EntryKind.CHARGE:
            column = "recalculated" if row["charge__is_recalculation"] else "charged"
            cells[key][column] += total
        elif kind == EntryKind.PAYMENT:
            cells[key]["paid"] -= total
        else:
            cells[key]["corrected"] += total
    # Opening entries inside the range (an import's starting balance) count as opening.
    in_range_opening = (
        entries.filter(
            month__gte=month_from, month__lt=_next_month(month_to), kind=EntryKind.OPENING
        ).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    opening += in_range_opening
    totals = {"charged": ZERO, "recalculated": ZERO, "corrected": ZERO, "paid": ZERO}
    rows = []
    for (month, _order, service), sums in sorted(cells.items()):
        for column, value in sums.items():
            totals[column] += value
        rows.append(
            {
                "month": fmt.month_short(month),
                "service": service,
                **{column: fmt.amount(value) for column, value in sums.items()},
            }
        )
    net = totals["charged"] + totals["recalculated"] + totals["corrected"]
    closing = opening + net - totals["paid"]
    branch = account.branch
    generated = now.astimezone(ZoneInfo(branch.timezone))
    data = {
        "range": f"{fmt.month_name(month_from)} — {fmt.month_name(month_to)}",
        "generated": f"{generated:%d.%m.%Y %H:%M}",
        "account": _account_data(account),
        "branch": _branch_data(branch),
        "rows": rows,
        "totals": {
            **{column: fmt.amount(value) for column, value in totals.items()},
            "net_charged": fmt.amount(net),
        },
        "opening": fmt.amount(opening),
        "closing": fmt.amount(closing),
        "raw": {
            "opening": str(opening),
            "closing": str(closing),
            **{column: str(value) for column, value in totals.items()},
        },
    }
    return StatementDocument(
        data=data,
        filename=f"Выписка {account.number} {month_from:%Y-%m} — {month_to:%Y-%m}.pdf",
        ascii_filename=f"statement-{account.number}-{month_from:%Y-%m}-{month_to:%Y-%m}.pdf",
    )
