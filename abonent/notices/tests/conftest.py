from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from abonent.notices import push


@pytest.fixture(autouse=True)
def _vapid(settings: Any) -> Iterator[None]:
    """A VAPID pair per test session-free (never the developer's var/ file)."""
    public, private = _PAIR
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    push.vapid_keys.cache_clear()
    yield
    push.vapid_keys.cache_clear()


_PAIR = push.vapid_generate()
