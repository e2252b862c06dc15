"""Whose personal data an object is: the customer(s) an audit row about it names.

An object belongs to a customer through a path to a user (`payment__user`) or to an ЛС
(`meter__account`): an ЛС's data is the data of every customer linked to it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import models

from abonent.accounts.models import AccountLink


def audit_subjects(
    *,
    model: type[models.Model],
    pks: Iterable[Any],
    user_path: str | None = None,
    account_path: str | None = None,
) -> dict[Any, set[int]]:
    """pk → the ids of the customers whose data the row is (two queries at most)."""
    pks = list(pks)
    found: dict[Any, set[int]] = {pk: set() for pk in pks}
    if not pks:
        return found
    if user_path:
        for pk, user_id in model._default_manager.filter(pk__in=pks).values_list("pk", user_path):
            if user_id is not None:
                found.setdefault(pk, set()).add(user_id)
    if account_path:
        by_account: dict[int, list[Any]] = defaultdict(list)
        rows = model._default_manager.filter(pk__in=pks).values_list("pk", account_path)
        for pk, account_id in rows:
            if account_id is not None:
                by_account[account_id].append(pk)
        links = AccountLink.objects.filter(account_id__in=list(by_account)).values_list(
            "account_id", "user_id"
        )
        for account_id, user_id in links:
            for pk in by_account[account_id]:
                found.setdefault(pk, set()).add(user_id)
    return found
