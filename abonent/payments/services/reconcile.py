"""Reconciliation: settle payments left open (a lost notification, a crash between the
acquirer call and our commit) by asking the acquirer; a daily report of mismatches between
our ledger and the acquirer's books."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, Sum

from abonent.billing.models import LedgerEntry
from abonent.payments.gateways import gateway_get
from abonent.payments.gateways.protocol import GatewayError, GatewayStatus
from abonent.payments.models import (
    Payment,
    PaymentPurpose,
    PaymentStatus,
    ReconciliationReport,
    Refund,
    RefundStatus,
)
from abonent.payments.services.cards import card_check_release_safe
from abonent.payments.services.payments import (
    payment_apply,
    payment_fail,
    payment_refresh,
    payment_submit,
)
from abonent.payments.services.refunds import refund_submit
from abonent.payments.state import OPEN, PAID

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
BATCH = 500


def payments_reconcile(*, now: datetime, site_url: str) -> dict[str, int]:
    """Ask the acquirer about every payment open for longer than the grace period. Safe to run
    twice or concurrently with notifications: everything goes through `payment_apply`."""
    grace = timedelta(minutes=settings.PAYMENTS_RECONCILE_AFTER_MINUTES)
    expire = timedelta(hours=settings.PAYMENTS_PENDING_EXPIRE_HOURS)
    counts = {"checked": 0, "settled": 0, "resubmitted": 0, "expired": 0, "refunds": 0}
    stale = (
        Payment.objects.filter(status__in=OPEN, updated_at__lt=now - grace)
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lt=now - grace))
        .order_by("pk")[:BATCH]
    )
    for payment in stale:
        counts["checked"] += 1
        before = payment.status
        try:
            if not payment.gateway_payment_id:
                if payment.created_at < now - expire:
                    # Past the acquirer's idempotence window a repeat could charge anew.
                    payment = payment_fail(payment_id=payment.pk, reason="no_answer", now=now)
                    counts["expired"] += 1
                    continue
                payment = payment_submit(payment=payment, site_url=site_url, now=now)
                counts["resubmitted"] += 1
            elif payment.status == PaymentStatus.WAITING_FOR_CAPTURE and (
                payment.purpose == PaymentPurpose.CARD_CHECK
            ):
                card_check_release_safe(payment_id=payment.pk, now=now)
                payment.refresh_from_db()
            else:
                payment = payment_refresh(payment=payment, now=now)
                if payment.status in OPEN and payment.created_at < now - expire:
                    state = gateway_get(payment.gateway).cancel(
                        payment.gateway_payment_id or "",
                        idempotence_key=f"abonent:payment:{payment.pk}:cancel",
                    )
                    payment = payment_apply(payment_id=payment.pk, state=state, now=now)
                    counts["expired"] += 1
        except GatewayError:
            logger.warning("reconcile: payment %s not checked", payment.pk, exc_info=True)
            Payment.objects.filter(pk=payment.pk).update(checked_at=now)
            continue
        if payment.status != before:
            counts["settled"] += 1
    for refund in Refund.objects.filter(
        status=RefundStatus.CREATED, created_at__lt=now - grace
    ).select_related("payment")[:BATCH]:
        refund_submit(refund=refund, now=now)
        counts["refunds"] += 1
    return counts


def _ledger_net(payment: Payment) -> Decimal:
    """What our ledger says this payment brought in: payments minus refund corrections."""
    refs = Q(source_ref__startswith=f"payment:{payment.pk}:")
    for refund_id in payment.refunds.values_list("pk", flat=True):
        refs |= Q(source_ref__startswith=f"refund:{refund_id}:")
    total = LedgerEntry.objects.filter(refs).aggregate(s=Sum("amount"))["s"] or ZERO
    return -Decimal(total)


def reconciliation_report_build(*, day: date, now: datetime) -> list[ReconciliationReport]:
    """Compare our payments touched on `day` with the acquirer's books, per gateway."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = start + timedelta(days=1)
    touched = Payment.objects.filter(purpose=PaymentPurpose.DUES).filter(
        Q(created_at__gte=start, created_at__lt=end) | Q(updated_at__gte=start, updated_at__lt=end)
    )
    reports = []
    for name in sorted(set(touched.values_list("gateway", flat=True))):
        mismatches: list[dict[str, Any]] = []
        checked = 0
        for payment in touched.filter(gateway=name).order_by("pk"):
            checked += 1
            ours = _ledger_net(payment)
            row = {
                "payment": payment.pk,
                "gateway_payment_id": payment.gateway_payment_id or "",
                "status": payment.status,
                "ledger": f"{ours:.2f}",
            }
            if not payment.gateway_payment_id:
                if payment.status != PaymentStatus.FAILED:
                    mismatches.append({**row, "problem": "no_acquirer_payment"})
                continue
            try:
                state = gateway_get(name).get_payment(payment.gateway_payment_id)
            except GatewayError as exc:
                mismatches.append({**row, "problem": f"acquirer_error:{exc.code}"})
                continue
            theirs = (
                state.amount - state.refunded_amount
                if state.status == GatewayStatus.SUCCEEDED
                else ZERO
            )
            row["acquirer_status"] = state.status
            row["acquirer"] = f"{theirs:.2f}"
            if ours != theirs:
                mismatches.append({**row, "problem": "amount_differs"})
            elif (payment.status in PAID) != (state.status == GatewayStatus.SUCCEEDED):
                mismatches.append({**row, "problem": "status_differs"})
        report, _ = ReconciliationReport.objects.update_or_create(
            day=day,
            gateway=name,
            defaults={"checked": checked, "mismatches": mismatches, "created_at": now},
        )
        reports.append(report)
    return reports
