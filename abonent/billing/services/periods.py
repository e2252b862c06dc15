"""Closing a billing period: post the charges to the ledger and issue the bills (ЕПД).

Bill figures, per ЛС (all services together):
* opening_balance — the ledger sum of months before the period's month (+ due, − advance);
* charged — the regular lines of the period; recalculated — its recalculation lines;
* paid — payments posted for the month, as a positive number;
* total_due — max(closing balance, 0), the closing balance being the ledger sum up to and
  including the month once the charges are posted (an overpayment shows as nothing due;
  the advance itself is visible as a negative opening balance next month).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.billing.models import Bill, BillingPeriod, Charge, EntryKind, PeriodStatus
from abonent.billing.services.sql import date_literal
from abonent.core.errors import Conflict, ValidationFailed
from abonent.core.money import format_rub
from abonent.core.services import audit_record
from abonent.notices.models import NotificationKind
from abonent.notices.services import NotificationDraft, notifications_create


@dataclass(frozen=True)
class CloseResult:
    period: BillingPeriod
    entries: int
    bills: int


def bill_number_prefix(*, period: BillingPeriod) -> str:
    """`<branch code (12 chars at most)>-<YYYYMM>-`; the ЛС number follows (≤ 40 in all)."""
    return f"{period.branch.code[:12]}-{period.month:%Y%m}-"


def period_close(*, period: BillingPeriod, now: datetime, actor: Any | None) -> CloseResult:
    """Close an open period: one ledger entry per charge and one bill per ЛС with charges."""
    with transaction.atomic():
        period = (
            BillingPeriod.objects.select_for_update().select_related("branch").get(pk=period.pk)
        )
        if period.status == PeriodStatus.CLOSED:
            raise Conflict(
                _("Период %(month)s уже закрыт.") % {"month": f"{period.month:%m.%Y}"},
                code="period_closed",
            )
        if period.run_started_at is not None and period.run_finished_at is None:
            raise Conflict(
                _(
                    "Расчёт периода %(month)s не завершён: дождитесь его окончания или "
                    "запустите расчёт снова."
                )
                % {"month": f"{period.month:%m.%Y}"},
                code="run_unfinished",
            )
        if not Charge.objects.filter(period=period).exists():
            raise ValidationFailed(
                _("В периоде %(month)s нет начислений: сначала выполните расчёт.")
                % {"month": f"{period.month:%m.%Y}"},
                code="period_empty",
            )
        BillingPeriod.objects.filter(pk=period.pk).update(status=PeriodStatus.CLOSED, closed_at=now)
        at = connection.ops.adapt_datetimefield_value(now)
        month = date_literal(period.month)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO billing_ledgerentry
  (account_id, service_id, kind, amount, month, at, charge_id, source_ref, note)
SELECT c.account_id, c.service_id, %s, c.amount, {month}, %s, c.id, NULL, ''
FROM billing_charge c WHERE c.period_id = %s""",  # noqa: S608 — a date literal built from a date; values bound  # nosec B608
                [EntryKind.CHARGE.value, at, period.pk],
            )
            entries = cursor.rowcount
            cursor.execute(
                f"""INSERT INTO billing_bill
  (account_id, period_id, number, opening_balance, charged, recalculated, paid, total_due,
   issued_at)
SELECT account_id, %s, %s || number, ROUND(opening, 2), ROUND(charged, 2),
       ROUND(recalculated, 2), ROUND(-payments, 2),
       ROUND(CASE WHEN closing > 0 THEN closing ELSE 0 END, 2), %s
FROM (
  SELECT ch.account_id, a.number, ch.charged, ch.recalculated,
    COALESCE((SELECT SUM(l.amount) FROM billing_ledgerentry l
              WHERE l.account_id = ch.account_id AND l.month < {month}), 0) AS opening,
    COALESCE((SELECT SUM(l.amount) FROM billing_ledgerentry l
              WHERE l.account_id = ch.account_id AND l.month <= {month}), 0) AS closing,
    COALESCE((SELECT SUM(l.amount) FROM billing_ledgerentry l
              WHERE l.account_id = ch.account_id AND l.month = {month}
                AND l.kind = %s), 0) AS payments
  FROM (
    SELECT c.account_id,
      SUM(CASE WHEN c.is_recalculation THEN 0 ELSE c.amount END) AS charged,
      SUM(CASE WHEN c.is_recalculation THEN c.amount ELSE 0 END) AS recalculated
    FROM billing_charge c WHERE c.period_id = %s GROUP BY c.account_id
  ) ch
  JOIN accounts_personalaccount a ON a.id = ch.account_id
) q""",  # noqa: S608 — a date literal built from a date; values bound  # nosec B608
                [
                    period.pk,
                    bill_number_prefix(period=period),
                    at,
                    EntryKind.PAYMENT.value,
                    period.pk,
                ],
            )
            bills = cursor.rowcount
        period.refresh_from_db()
        audit_record(
            now=now,
            action="billing.period_close",
            actor=actor,
            target=period,
            data={"entries": entries, "bills": bills},
        )
        # The fan-out to customers runs as a job after commit: closing never waits on it.
        transaction.on_commit(lambda: _bill_notices_task().delay(period.pk))
    return CloseResult(period=period, entries=entries, bills=bills)


def _bill_notices_task() -> Any:
    from abonent.billing.tasks import bill_notices  # tasks import services, not the reverse

    return bill_notices


def period_bill_notices(*, period_id: int, now: datetime) -> int:
    """«Новая квитанция» for every customer linked to an ЛС billed in the period (after close)."""
    period = BillingPeriod.objects.get(pk=period_id, status=PeriodStatus.CLOSED)
    month = date_format(period.month, "F Y").lower()
    title = gettext("Новая квитанция за %(month)s") % {"month": month}
    bills = (
        Bill.objects.filter(period_id=period_id, account__links__isnull=False)
        .values_list("pk", "account_id", "account__number", "total_due", "account__links__user_id")
        .order_by("pk")
        .iterator(chunk_size=5000)
    )
    drafts = (
        NotificationDraft(
            user_id=user_id,
            kind=NotificationKind.BILL,
            title=title,
            body=gettext("ЛС %(number)s: к оплате %(due)s.")
            % {"number": number, "due": format_rub(due)},
            link=f"/accounts/{account_id}/bills/",
            dedupe_key=f"bill:{bill_id}",
        )
        for bill_id, account_id, number, due, user_id in bills
    )
    return notifications_create(drafts=drafts, now=now)
