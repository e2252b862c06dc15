from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from abonent.accounts.models import AccountLink, Branch


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
