"""The security suites' world (two customers with ЛС, bills, meters, payments, cards, appeals
with attachments, notifications, devices) serves the privacy tests too."""

from __future__ import annotations

from typing import Any

import pytest

from abonent.security.tests.conftest import fake_gateway, private_storage, world

__all__ = ["admin_client_for", "fake_gateway", "private_storage", "world"]


@pytest.fixture
def admin_client_for(db: None) -> Any:
    """`admin_client_for(user)` → a Client signed in to the back office as that staff member."""
    from django.test import Client

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
