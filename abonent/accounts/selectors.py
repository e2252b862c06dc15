from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink, AccountService, Branch
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


def accounts_summary(*, user: Any, today: date | None = None) -> list[AccountSummary]:
    """Every ЛС the customer linked, with address, label, branch and the balance per service
    and in total. Three queries whatever the number of accounts and services: links (with
    account, address, branch), the services they receive, ledger sums per ЛС and service."""
    return _summaries(list(account_links_for_user(user=user)), today=today)


def account_link_for_user(*, user: Any, account_id: int) -> AccountLink:
    """The customer's link to this ЛС; NotFound (404) for an ЛС they have not linked."""
    link = (
        AccountLink.objects.filter(user=user, account_id=account_id)
        .select_related("account__address", "account__branch")
        .first()
    )
    if link is None:
        raise NotFound(_("Лицевой счёт не найден."), code="account_not_found")
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
