from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from abonent.accounts.models import Branch
from abonent.accounts.tests.factories import make_branch
from abonent.appeals.models import Category
from abonent.appeals.tests.factories import make_category, make_operator


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
    return location


@pytest.fixture(autouse=True)
def _no_clamd(settings: Any) -> None:
    settings.CLAMD_SOCKET = ""
    settings.CLAMD_HOST = ""


@pytest.fixture
def branch(db: None) -> Branch:
    """Красноярск (UTC+7), specialists Mon–Fri 08:00–20:00."""
    return make_branch()


@pytest.fixture
def category(db: None) -> Category:
    return make_category()


@pytest.fixture
def operator(db: None) -> Any:
    return make_operator()
