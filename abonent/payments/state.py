"""The payment state machine: which moves are allowed. A move that is not listed (an old or
reordered notification) is ignored, so a payment never goes backwards."""

from __future__ import annotations

from abonent.payments.models import PaymentStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.PENDING, S.WAITING_FOR_CAPTURE, S.SUCCEEDED, S.FAILED, S.CANCELED}),
    S.PENDING: frozenset({S.WAITING_FOR_CAPTURE, S.SUCCEEDED, S.FAILED, S.CANCELED}),
    S.WAITING_FOR_CAPTURE: frozenset({S.SUCCEEDED, S.CANCELED, S.FAILED}),
    S.SUCCEEDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
    S.REFUNDED: frozenset(),
}

OPEN = frozenset({S.CREATED, S.PENDING, S.WAITING_FOR_CAPTURE})
PAID = frozenset({S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED})
FINAL = frozenset({S.FAILED, S.CANCELED, S.REFUNDED})


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())
