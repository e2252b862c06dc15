from __future__ import annotations

from typing import Any

from abonent.accounts.models import AccountLink


def account_links_remove_all(*, user: Any) -> int:
    """Unlink every ЛС of a user (on account deletion); the ЛС themselves stay with the utility."""
    deleted, _ = AccountLink.objects.filter(user=user).delete()
    return deleted
