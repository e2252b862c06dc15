from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from abonent.accounts.models import (
    AccountLink,
    AccountService,
    Address,
    Branch,
    PersonalAccount,
)
from abonent.billing.models import Service
from abonent.billing.selectors import (
    Breakdown,
    HistoryMonth,
    ServiceBalance,
    balances_for_accounts,
    charge_months,
    charges_breakdown,
    charges_history,
)
from abonent.core import sql
from abonent.core.errors import NotFound


def branch_list() -> QuerySet[Branch]:
    return Branch.objects.filter(is_active=True).order_by("name")


def branch_for_user(*, user_id: int | None) -> Branch | None:
    """The customer's branch: that of their first linked ЛС, else the default one."""
    if user_id:
        link = (
            AccountLink.objects.filter(user_id=user_id)
            .select_related("account__branch")
            .order_by("created_at", "pk")
            .first()
        )
        if link is not None:
            return link.account.branch
    branches = branch_list()
    return branches.filter(code=settings.DEFAULT_BRANCH_CODE).first() or branches.first()


def account_links_for_user(*, user: Any) -> QuerySet[AccountLink]:
    return (
        AccountLink.objects.filter(user=user)
        .select_related("account__address", "account__branch")
        .order_by("created_at", "pk")
    )


# ---------------------------------------------------------------- the customer's ЛС with balances


@dataclass(frozen=True)
class AccountSummary:
    link_id: int
    account_id: int
    number: str
    label: str
    address: str
    owner_name: str
    status: str
    branch_id: int
    branch_name: str
    area: Decimal
    residents: int
    services: list[ServiceBalance]
    total: Decimal

    @property
    def title(self) -> str:
        return self.label or gettext("Лицевой счёт")

    @property
    def is_due(self) -> bool:
        return self.total > 0

    @property
    def is_overpaid(self) -> bool:
        return self.total < 0


def _summaries(links: list[AccountLink], *, today: date | None = None) -> list[AccountSummary]:
    account_ids = [link.account_id for link in links]
    if not account_ids:
        return []
    receives: dict[int, list[Service]] = {account_id: [] for account_id in account_ids}
    current = AccountService.objects.filter(account_id__in=account_ids).select_related("service")
    if today is not None:
        current = current.filter(valid_from__lte=today).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=today)
        )
    for row in current:
        receives[row.account_id].append(row.service)
    balances = balances_for_accounts(account_ids=account_ids, services_by_account=receives)
    result = []
    for link in links:
        account = link.account
        services = balances.get(account.pk, [])
        result.append(
            AccountSummary(
                link_id=link.pk,
                account_id=account.pk,
                number=account.number,
                label=link.label,
                address=str(account.address),
                owner_name=account.owner_name,
                status=account.status,
                branch_id=account.branch_id,
                branch_name=account.branch.name,
                area=account.area,
                residents=account.residents,
                services=services,
                total=sum((s.balance for s in services), Decimal("0.00")),
            )
        )
    return result


# The accounts list is the app's most requested page. Its links and the services each ЛС
# receives are read by one hand-written statement over this app's tables (and the service
# catalogue the ORM query joined as well): building two ORM queries cost ~2 ms of CPU per
# request, more than the database took to answer them (bench/hotspots.py, issue 8).
_SUMMARY_SQL = """
SELECT l.id, l.account_id, l.label, a.number, a.owner_name, a.status, a.branch_id, b.name,
       a.area, a.residents, ad.settlement, ad.street, ad.house, ad.building, ad.flat,
       s.id, s.code, s.name, s.unit, s.sort_order
FROM {link} l
JOIN {account} a ON a.id = l.account_id
JOIN {address} ad ON ad.id = a.address_id
JOIN {branch} b ON b.id = a.branch_id
LEFT JOIN {service_row} x ON x.account_id = a.id AND {valid}
LEFT JOIN {service} s ON s.id = x.service_id
WHERE l.user_id = %s
ORDER BY l.created_at, l.id
"""


def _decimal(value: Any, places: str) -> Decimal:
    # PostgreSQL hands back Decimal; SQLite a float or int for a NUMERIC column.
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(Decimal(places))


def accounts_summary(*, user: Any, today: date | None = None) -> list[AccountSummary]:
    """Every ЛС the customer linked, with address, label, branch and the balance per service
    and in total. Two queries whatever the number of accounts and services: the links with
    account, address, branch and the services each receives (on `today`, or any when None),
    then the ledger sums per ЛС and service."""
    valid = "1 = 1"
    params: list[Any] = []
    if today is not None:
        valid = "x.valid_from <= %s AND (x.valid_to IS NULL OR x.valid_to > %s)"
        day = connection.ops.adapt_datefield_value(today)
        params = [day, day]
    statement = _SUMMARY_SQL.format(
        link=AccountLink._meta.db_table,
        account=PersonalAccount._meta.db_table,
        address=Address._meta.db_table,
        branch=Branch._meta.db_table,
        service_row=AccountService._meta.db_table,
        service=Service._meta.db_table,
        valid=valid,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, getattr(user, "pk", None)])
        rows = cursor.fetchall()
    links: dict[int, tuple[Any, ...]] = {}
    receives: dict[int, list[Service]] = {}
    for row in rows:
        account_id = row[1]
        if row[0] not in links:
            links[row[0]] = row[:15]
            receives[account_id] = []
        if row[15] is not None:
            receives[account_id].append(
                Service(id=row[15], code=row[16], name=row[17], unit=row[18], sort_order=row[19])
            )
    if not links:
        return []
    balances = balances_for_accounts(account_ids=list(receives), services_by_account=receives)
    result = []
    for (
        link_id, account_id, label, number, owner_name, status, branch_id, branch_name, area,
        residents, settlement, street, house, building, flat,
    ) in links.values():  # fmt: skip
        services = balances.get(account_id, [])
        address = Address(
            settlement=settlement, street=street, house=house, building=building, flat=flat
        )
        result.append(
            AccountSummary(
                link_id=link_id,
                account_id=account_id,
                number=number,
                label=label,
                address=str(address),
                owner_name=owner_name,
                status=status,
                branch_id=branch_id,
                branch_name=branch_name,
                area=_decimal(area, "0.01"),
                residents=residents,
                services=services,
                total=sum((s.balance for s in services), Decimal("0.00")),
            )
        )
    return result


# The access check of every per-ЛС request: one statement written once (see core/sql.py).
_LINK_FOR_USER = (
    f"SELECT {sql.columns(AccountLink, 'l')}, {sql.columns(PersonalAccount, 'a')}, "  # noqa: S608 — column lists from model metadata; values bound  # nosec B608
    f"{sql.columns(Address, 'ad')}, {sql.columns(Branch, 'b')} "
    f"FROM {sql.table(AccountLink)} l "
    f"JOIN {sql.table(PersonalAccount)} a ON a.id = l.account_id "
    f"JOIN {sql.table(Address)} ad ON ad.id = a.address_id "
    f"JOIN {sql.table(Branch)} b ON b.id = a.branch_id "
    "WHERE l.user_id = %s AND l.account_id = %s"
)


def account_link_for_user(*, user: Any, account_id: int) -> AccountLink:
    """The customer's link to this ЛС; NotFound (404) for an ЛС they have not linked."""
    rows = sql.fetch(
        _LINK_FOR_USER,
        [getattr(user, "pk", None), account_id],
        AccountLink,
        PersonalAccount,
        Address,
        Branch,
    )
    if not rows:
        raise NotFound(_("Лицевой счёт не найден."), code="account_not_found")
    link, account, address, branch = rows[0]
    PersonalAccount.address.field.set_cached_value(account, address)
    PersonalAccount.branch.field.set_cached_value(account, branch)
    AccountLink.account.field.set_cached_value(link, account)
    return link


def account_detail(
    *, user: Any, link_or_account_id: int, today: date | None = None
) -> AccountSummary:
    """One linked ЛС with its balances (by the ЛС id); 404 for a foreign or unknown one."""
    link = account_link_for_user(user=user, account_id=link_or_account_id)
    return _summaries([link], today=today)[0]


def account_charges(*, user: Any, account_id: int, month: date | None) -> Breakdown:
    """The breakdown of a linked ЛС for a month (default: the latest month with charges)."""
    link = account_link_for_user(user=user, account_id=account_id)
    if month is None:
        months = charge_months(account=link.account)
        if not months:
            raise NotFound(_("Начислений по этому счёту пока нет."), code="period_no_charges")
        month = months[0]
    return charges_breakdown(account=link.account, month=month)


@dataclass(frozen=True)
class AccountPage:
    summary: AccountSummary
    months: list[date]
    month: date | None
    breakdown: Breakdown | None
    history: list[HistoryMonth]


def account_page(
    *, user: Any, account_id: int, month: date | None, today: date | None = None
) -> AccountPage:
    """Everything the ЛС page shows: balances, months with charges, the chosen month's
    breakdown (the latest when none or an unknown month is asked for) and 24 months' history."""
    link = account_link_for_user(user=user, account_id=account_id)
    summary = _summaries([link], today=today)[0]
    months = charge_months(account=link.account)
    if month not in months:
        month = months[0] if months else None
    breakdown = charges_breakdown(account=link.account, month=month) if month else None
    history = charges_history(account=link.account, months=24) if months else []
    return AccountPage(
        summary=summary, months=months, month=month, breakdown=breakdown, history=history
    )
