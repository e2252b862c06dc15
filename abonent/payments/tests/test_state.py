"""The state machine: forward only; terminal states stay."""

from __future__ import annotations

import pytest

from abonent.payments.state import can_move


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("created", "pending", True),
        ("created", "succeeded", True),
        ("pending", "succeeded", True),
        ("pending", "failed", True),
        ("waiting_for_capture", "canceled", True),
        ("succeeded", "partially_refunded", True),
        ("partially_refunded", "refunded", True),
        ("succeeded", "pending", False),
        ("succeeded", "failed", False),
        ("succeeded", "canceled", False),
        ("failed", "succeeded", False),
        ("canceled", "succeeded", False),
        ("refunded", "succeeded", False),
        ("pending", "created", False),
        ("waiting_for_capture", "pending", False),
        ("pending", "refunded", False),
    ],
)
def test_can_move(current: str, target: str, allowed: bool) -> None:
    assert can_move(current, target) is allowed
