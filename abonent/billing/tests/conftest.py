from __future__ import annotations

import pytest

from abonent.accounts.models import Branch
from abonent.billing.tests.factories import heating, hot_water, make_branch, price


@pytest.fixture
def branch() -> Branch:
    """Красноярск with heating at 2,800 ₽/Гкал (norm 0.025 per m²) and hot water at 230.50 ₽/м³
    (norm 3.5 per resident)."""
    branch = make_branch()
    price(branch, heating(), "2800.0000", norm="0.025000")
    price(branch, hot_water(), "230.5000", norm="3.500000")
    return branch
