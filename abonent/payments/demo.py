"""Demo payments for `manage.py seed_demo`: a saved card of the demo customer (known to the
sandbox acquirer too, so it really pays) and the last months' payments as card payments.

The payments reuse the ledger entries seed_demo already posted (nothing is posted twice):
each month's demo payment entries become one Payment with its lines. Safe to run again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from abonent.billing.models import EntryKind, LedgerEntry
from abonent.payments.gateways.sandbox.bank.models import BankCard, BankPayment, Behaviour
from abonent.payments.models import Payment, PaymentLine, PaymentStatus, SavedCard

DEMO_TOKEN = "tok_demo_mir_0004"  # noqa: S105 — a sandbox token, not a secret  # nosec B105
MONTHS = 3


def payments_demo_seed(*, user: Any, now: datetime) -> str:
    with transaction.atomic():
        # The sandbox «bank» knows the card (seeding a separate system's books directly).
        BankCard.objects.get_or_create(
            token=DEMO_TOKEN,
            defaults={
                "brand": "Мир",
                "last4": "0004",
                "exp_month": 12,
                "exp_year": now.year + 4,
                "behaviour": Behaviour.SUCCESS,
                "created_at": now,
            },
        )
        card = SavedCard.objects.filter(
            user=user, gateway="sandbox", token=DEMO_TOKEN, deleted_at__isnull=True
        ).first() or SavedCard.objects.create(
            user=user,
            gateway="sandbox",
            token=DEMO_TOKEN,
            brand="Мир",
            last4="0004",
            exp_month=12,
            exp_year=now.year + 4,
            title="Зарплатная",
            created_at=now,
        )
        entries = LedgerEntry.objects.filter(
            account__links__user=user, kind=EntryKind.PAYMENT, source_ref__startswith="demo:"
        ).order_by("month", "pk")
        by_month: dict[Any, list[LedgerEntry]] = defaultdict(list)
        for entry in entries:
            by_month[entry.month].append(entry)
        made = 0
        for month in sorted(by_month)[-MONTHS:]:
            key = f"demo-{month:%Y%m}"
            if Payment.objects.filter(user=user, idempotency_key=key).exists():
                continue
            rows = by_month[month]
            total = sum((-e.amount for e in rows), Decimal("0.00"))
            at = max(e.at for e in rows)
            gateway_id = f"sbx_demo_{month:%Y%m}"
            payment = Payment.objects.create(
                user=user,
                idempotency_key=key,
                request_hash="demo",
                status=PaymentStatus.SUCCEEDED,
                amount=total,
                gateway="sandbox",
                gateway_payment_id=gateway_id,
                card=card,
                card_brand=card.brand,
                card_last4=card.last4,
                consent_at=at,
                created_at=at,
                updated_at=at,
                paid_at=at,
            )
            PaymentLine.objects.bulk_create(
                PaymentLine(
                    payment=payment,
                    account_id=e.account_id,
                    service_id=e.service_id,
                    amount=-e.amount,
                )
                for e in rows
            )
            BankPayment.objects.get_or_create(
                public_id=gateway_id,
                defaults={
                    "idempotence_key": f"abonent:payment:{payment.pk}:create",
                    "amount": total,
                    "status": "succeeded",
                    "card": BankCard.objects.get(token=DEMO_TOKEN),
                    "card_saved": True,
                    "metadata": {"abonent_payment_id": str(payment.pk)},
                    "created_at": at,
                    "updated_at": at,
                },
            )
            made += 1
    return f"card •• {card.last4}, {made} past payments"
