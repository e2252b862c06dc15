from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from abonent.payments.gateways import OVERRIDES
from abonent.payments.tests.conftest import FakeGateway
from abonent.security.tests.world import World, build_world


@pytest.fixture(autouse=True)
def private_storage(settings: Any, tmp_path: Path) -> Path:
    """Attachments go to a temp folder per test, never to the developer's var/private."""
    location = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "base_url": None},
        },
    }
    settings.CLAMD_SOCKET = ""
    settings.CLAMD_HOST = ""
    return location


@pytest.fixture
def fake_gateway(settings: Any) -> Iterator[FakeGateway]:
    """An in-memory acquirer: payments and card checks never leave the process."""
    settings.PAYMENTS_GATEWAY = "sandbox"
    fake = FakeGateway()
    OVERRIDES["sandbox"] = fake
    yield fake
    OVERRIDES.pop("sandbox", None)


@pytest.fixture
def world(db: None, fake_gateway: FakeGateway) -> World:
    return build_world()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fuzzer's and the access matrix's numbers, for the record (see SECURITY.md)."""
    from abonent.security.tests import stats

    lines = stats.summary()
    if lines:
        terminalreporter.write_sep("-", "security suites")
        for line in lines:
            terminalreporter.write_line(line)
