"""The monthly billing run: set-based SQL over an account-id range at a time.

Rules (Правила 354, simplified; documented in the docstring of `billing_run`):

* meter — the working meters of the service on the ЛС (two hot-water risers are common) with
  accepted readings of every one of them for this month and an earlier month: volume =
  (this − previous, summed over meters and scales; a counter that rolled over counts on from
  10^digits) spread evenly over the months since the previous reading (one month when
  readings are consecutive); a month in which only some of the meters were read counts as
  not read;
* average — a metered service with no reading this month, at most 3 months since the last
  reading (this month counted), and at least 6 months of reading history before it: the
  monthly average between the last reading and the latest reading ≥ 6 months older;
* norm / area — otherwise: Norm.value × area (NormBasis.AREA) or × residents (RESIDENT);
  the method is `area` for an area-based service without a working meter (heating without
  a heat meter), `norm` otherwise;
* recalculation — when a meter line follows a gap, every month of the gap that was billed
  on the average gets a line `is_recalculation=True, for_month=<that month>` with the
  difference between its share of the real consumption (the same even spread) priced at
  that month's tariff and what was charged for it before. Months billed on the norm stay
  as they are (п. 61 recalculates the average months only).

amount = round_money(volume × tariff) with the tariff valid on the month's first day; volume
is kept with 6 decimals. PostgreSQL does it in `INSERT … SELECT`; SQLite runs the same
SELECT and rounds in Python with Decimal (its arithmetic is binary floating point), so both
give the same kopecks.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Greatest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.accounts.models import AccountService, AccountStatus, Branch, PersonalAccount
from abonent.billing.models import (
    BillingPeriod,
    Charge,
    ChargeMethod,
    Norm,
    PeriodStatus,
    Service,
    Tariff,
)
from abonent.billing.services.sql import add_months, is_postgres, month_index, month_label
from abonent.core.errors import Conflict, DomainError, ValidationFailed
from abonent.core.money import round_money
from abonent.core.services import audit_record

CHUNK_ACCOUNTS = 50_000
AVERAGE_MONTHS_MAX = 3
AVERAGE_HISTORY_MONTHS = 6
RECALC_LOOKBACK_MONTHS = 36
# A run that has not finished in this time is taken as dead (its process crashed).
STALE_RUN = timedelta(hours=2)
VOLUME_Q = Decimal("0.000001")

CHARGE_COLUMNS = (
    "account_id, service_id, period_id, for_month, volume, unit, tariff, method, amount,"
    " is_recalculation, reason"
)


@dataclass(frozen=True)
class RunResult:
    period: BillingPeriod
    lines: int
    recalculations: int
    total: Decimal


ProgressCallback = Callable[[int, int], None]


def period_get_or_create(*, branch: Branch, month: date) -> BillingPeriod:
    """The branch's period of `month` (any day of it), created open if missing."""
    period, _created = BillingPeriod.objects.get_or_create(
        branch=branch, month=month.replace(day=1)
    )
    return period


def billing_run(
    *,
    branch: Branch,
    month: date,
    now: datetime,
    actor: Any | None = None,
    chunk_size: int = CHUNK_ACCOUNTS,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RunResult:
    """Compute the month's charges of every open ЛС of the branch, replacing the drafts.

    The branch is run in chunks of account ids, each in its own transaction that deletes the
    chunk's drafts and writes them anew: a re-run writes nothing twice, and the progress is
    visible while the run goes. On PostgreSQL `workers` connections run chunks side by side.
    Drafts are not shown to customers, and a period whose last run did not finish cannot be
    closed, so a run that fails half-way leaves nothing a customer or a bill can see.
    """
    month = month.replace(day=1)
    period, run_id, prices, chunks = _run_begin(
        branch=branch, month=month, now=now, chunk_size=chunk_size
    )
    if workers is None:
        workers = settings.BILLING_RUN_WORKERS
    if not is_postgres() or connection.in_atomic_block:
        # SQLite has one writer; other connections would not see a caller's open transaction.
        workers = 1
    done = [0, 0, 0]  # chunks, lines, recalculations
    lock = threading.Lock()

    def one(low: int, high: int) -> None:
        counts = _chunk_run(
            branch=branch, period=period, run_id=run_id, prices=prices, low=low, high=high
        )
        with lock:
            done[0] += 1
            done[1] += counts[0]
            done[2] += counts[1]
            BillingPeriod.objects.filter(pk=period.pk, run_id=run_id).update(
                run_progress=Greatest(F("run_progress"), Value(done[0] * 100 // len(chunks)))
            )
            if progress:
                progress(done[0], len(chunks))

    try:
        _run_chunks(one, chunks, workers=min(workers, len(chunks)) or 1)
    except Exception as exc:
        message = exc.message if isinstance(exc, DomainError) else gettext("внутренняя ошибка")
        BillingPeriod.objects.filter(pk=period.pk, run_id=run_id).update(
            run_id=None, run_error=str(message)[:500]
        )
        raise
    return _run_finish(
        period=period,
        run_id=run_id,
        lines=done[1],
        recalcs=done[2],
        now=now,
        finished_at=clock() if clock else now,
        actor=actor,
    )


def billing_run_check(*, branch: Branch, month: date, now: datetime) -> None:
    """What `billing_run` would refuse at its start (closed period, a run under way, a missing
    tariff), checked without starting it: the admin asks before it queues the job."""
    with transaction.atomic():
        period = BillingPeriod.objects.filter(branch=branch, month=month.replace(day=1)).first()
        if period is not None:
            _check_runnable(period=period, now=now)
        prices = _prices(branch=branch, month=month.replace(day=1))
        _check_tariffs(branch=branch, month=month.replace(day=1), prices=prices)


def billing_run_enqueue(*, period: BillingPeriod, now: datetime, actor: Any | None) -> None:
    """Check the period can be run and queue the run as a job (a big branch takes minutes:
    the admin must not wait on it); the progress shows on the period as chunks commit."""
    billing_run_check(branch=period.branch, month=period.month, now=now)
    actor_id = getattr(actor, "pk", None)
    args = (period.branch_id, period.month.isoformat())
    transaction.on_commit(lambda: _run_task().delay(*args, actor_id=actor_id))


def _run_task() -> Any:
    from abonent.billing.tasks import run_billing  # the job wraps this module

    return run_billing


def _check_runnable(*, period: BillingPeriod, now: datetime) -> None:
    if period.status == PeriodStatus.CLOSED:
        raise Conflict(
            _(
                "Период %(month)s закрыт: его начисления не меняются. Исправления "
                "вносятся перерасчётом в следующем открытом периоде."
            )
            % {"month": f"{period.month:%m.%Y}"},
            code="period_closed",
        )
    started = period.run_started_at
    if period.run_id is not None and started is not None and now - started < STALE_RUN:
        raise Conflict(
            _("Расчёт периода %(month)s уже идёт (готово %(pct)s %%). Дождитесь его окончания.")
            % {"month": f"{period.month:%m.%Y}", "pct": period.run_progress},
            code="run_in_progress",
        )


def _run_begin(
    *, branch: Branch, month: date, now: datetime, chunk_size: int
) -> tuple[
    BillingPeriod, uuid.UUID, dict[int, tuple[Decimal, Decimal | None]], list[tuple[int, int]]
]:
    with transaction.atomic():
        period = period_get_or_create(branch=branch, month=month)
        period = BillingPeriod.objects.select_for_update().get(pk=period.pk)
        _check_runnable(period=period, now=now)
        prices = _prices(branch=branch, month=month)
        _check_tariffs(branch=branch, month=month, prices=prices)
        run_id = uuid.uuid4()
        BillingPeriod.objects.filter(pk=period.pk).update(
            run_id=run_id, run_started_at=now, run_finished_at=None, run_progress=0, run_error=""
        )
        ids = PersonalAccount.objects.filter(branch=branch).values_list("id", flat=True)
        low = ids.order_by("id").first()
        high = ids.order_by("-id").first()
    chunks: list[tuple[int, int]] = []
    if prices and low is not None and high is not None:
        starts = range(low, high + 1, chunk_size)
        chunks = list(itertools.pairwise([*starts, high + 1]))  # [low, high) id ranges
    period.refresh_from_db()
    return period, run_id, prices, chunks


def _run_chunks(
    one: Callable[[int, int], None], pairs: list[tuple[int, int]], *, workers: int
) -> None:
    if workers <= 1:
        for low, high in pairs:
            one(low, high)
        return
    queue = iter(pairs)
    take = threading.Lock()
    failed = threading.Event()

    def worker() -> None:
        try:
            while not failed.is_set():
                with take:
                    pair = next(queue, None)
                if pair is None:
                    return
                one(*pair)
        except BaseException:
            failed.set()
            raise
        finally:
            connections.close_all()  # this thread's connection

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="billing-run") as pool:
        futures = [pool.submit(worker) for _ in range(workers)]
    for future in futures:
        future.result()  # re-raises the first failure


def _chunk_run(
    *,
    branch: Branch,
    period: BillingPeriod,
    run_id: uuid.UUID,
    prices: dict[int, tuple[Decimal, Decimal | None]],
    low: int,
    high: int,
) -> tuple[int, int]:
    with transaction.atomic(), connection.cursor() as cursor:
        # KEY SHARE: chunks run side by side, progress updates pass, closing waits.
        lock = " FOR KEY SHARE" if is_postgres() else ""
        cursor.execute(
            f"SELECT status, run_id FROM billing_billingperiod WHERE id = %s{lock}",  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608
            [period.pk],
        )
        status, current = cursor.fetchone()
        if status != PeriodStatus.OPEN or str(current).replace("-", "") != run_id.hex:
            raise Conflict(
                _("Расчёт периода %(month)s остановлен: период закрыт или запущен новый расчёт.")
                % {"month": f"{period.month:%m.%Y}"},
                code="run_superseded",
            )
        if not is_postgres():  # PostgreSQL merges the drafts in one statement
            cursor.execute(
                "DELETE FROM billing_charge WHERE period_id = %s AND account_id >= %s"
                " AND account_id < %s",
                [period.pk, low, high],
            )
        return _run_chunk(branch=branch, period=period, prices=prices, low=low, high=high)


def _run_finish(
    *,
    period: BillingPeriod,
    run_id: uuid.UUID,
    lines: int,
    recalcs: int,
    now: datetime,
    finished_at: datetime,
    actor: Any | None,
) -> RunResult:
    with transaction.atomic():
        period = BillingPeriod.objects.select_for_update().get(pk=period.pk)
        if period.run_id != run_id:
            raise Conflict(
                _("Расчёт периода %(month)s остановлен: период закрыт или запущен новый расчёт.")
                % {"month": f"{period.month:%m.%Y}"},
                code="run_superseded",
            )
        total = Charge.objects.filter(period=period).aggregate(s=Sum("amount"))["s"] or 0
        BillingPeriod.objects.filter(pk=period.pk).update(
            run_id=None, run_progress=100, run_finished_at=finished_at
        )
        period.refresh_from_db()
        audit_record(
            now=now,
            action="billing.run",
            actor=actor,
            target=period,
            data={"lines": lines, "recalculations": recalcs, "total": str(total)},
        )
    return RunResult(
        period=period, lines=lines, recalculations=recalcs, total=round_money(Decimal(total))
    )


# ---------------------------------------------------------------------------- inputs


def _valid_on(month: date) -> Q:
    return Q(valid_from__lte=month) & (Q(valid_to__isnull=True) | Q(valid_to__gt=month))


def _prices(*, branch: Branch, month: date) -> dict[int, tuple[Decimal, Decimal | None]]:
    """service id → (tariff, norm) valid on the month's first day (the latest start wins)."""
    result: dict[int, tuple[Decimal, Decimal | None]] = {}
    norms: dict[int, Decimal] = {}
    for norm in Norm.objects.filter(_valid_on(month), branch=branch).order_by("valid_from"):
        norms[norm.service_id] = norm.value
    for tariff in Tariff.objects.filter(_valid_on(month), branch=branch).order_by("valid_from"):
        result[tariff.service_id] = (tariff.price, norms.get(tariff.service_id))
    return result


def _active_services(*, branch: Branch, month: date) -> Any:
    next_month = add_months(month, 1)
    return AccountService.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=month),
        account__branch=branch,
        account__status=AccountStatus.OPEN,
        valid_from__lt=next_month,
    )


def _check_tariffs(
    *, branch: Branch, month: date, prices: dict[int, tuple[Decimal, Decimal | None]]
) -> None:
    active = _active_services(branch=branch, month=month)
    for service in Service.objects.exclude(id__in=list(prices)):
        if active.filter(service=service).exists():
            raise ValidationFailed(
                _("Нет тарифа на услугу «%(service)s» на %(month)s для филиала %(branch)s.")
                % {"service": service.name, "month": f"{month:%m.%Y}", "branch": branch.name},
                code="tariff_missing",
            )


# ---------------------------------------------------------------------------- SQL


def _num(value: Decimal | None) -> str:
    if value is None:
        return "CAST(NULL AS NUMERIC)"
    return f"CAST({Decimal(value)!s} AS NUMERIC)" if is_postgres() else str(Decimal(value))


_METERS_SQL = """
  SELECT m.account_id, m.service_id, MIN(m.id) AS meter_id, COUNT(*) AS meters
  FROM meters_meter m
  WHERE m.status = 'working' AND m.account_id >= %s AND m.account_id < %s
  GROUP BY m.account_id, m.service_id"""


def _readings_sql(*, month: date, meters: str) -> str:
    """Per meter group (keyed by its first meter) and month: the sum of every working meter's
    accepted readings, for months in which all of them were read."""
    lookback = f"'{add_months(month, -RECALC_LOOKBACK_MONTHS).isoformat()}'"
    # A counter that rolled over (a value below the previous one, accepted only when the
    # customer confirmed it) counts on from 10^digits: each value is "unrolled" by the
    # number of roll-overs before it, so differences stay right across the wrap.
    wrap = "CAST('1' || SUBSTR('000000000000', 1, v.digits) AS NUMERIC)"
    return f"""
  SELECT v.meter_id, v.month, SUM(v.value + v.rolls * {wrap}) AS total
  FROM (
    SELECT w.*, SUM(CASE WHEN w.value < w.before THEN 1 ELSE 0 END)
                  OVER (PARTITION BY w.reading_meter, w.scale ORDER BY w.month) AS rolls
    FROM (
      SELECT mt.meter_id, mt.meters, m.digits, r.meter_id AS reading_meter, r.scale, r.month,
             r.value, LAG(r.value) OVER (PARTITION BY r.meter_id, r.scale ORDER BY r.month)
               AS before
      FROM meters_reading r
      JOIN meters_meter m ON m.id = r.meter_id AND m.status = 'working'
      JOIN {meters} mt ON mt.account_id = m.account_id AND mt.service_id = m.service_id
      WHERE r.status = 'accepted' AND r.month >= {lookback}
        AND r.month <= '{month.isoformat()}'
    ) w
  ) v
  GROUP BY v.meter_id, v.meters, v.month
  HAVING COUNT(DISTINCT v.reading_meter) = v.meters"""  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608


def _stage_readings(cursor: Any, *, month: date, low: int, high: int) -> None:
    """PostgreSQL: the chunk's meter groups and readings as analysed temporary tables. Inline,
    the planner guesses one row for them and picks nested loops that take minutes."""
    cursor.execute(f"CREATE TEMPORARY TABLE run_mt ON COMMIT DROP AS {_METERS_SQL}", [low, high])
    cursor.execute("ANALYZE run_mt")
    cursor.execute(
        "CREATE TEMPORARY TABLE run_rd ON COMMIT DROP AS"
        + _readings_sql(month=month, meters="run_mt")
    )
    cursor.execute("ANALYZE run_rd")


def _lines_cte(
    *,
    month: date,
    prices: dict[int, tuple[Decimal, Decimal | None]],
    with_reading: bool,
    staged: bool = False,
) -> str:
    """The CTE chain ending in `lines`: account, service, unit, price, prev_month, method,
    raw_volume (unrounded). Parameters: branch id, low id, high id, low id, high id (the
    range again for the services' own index), and unless `staged` (the readings are in
    run_mt / run_rd already) low id and high id once more."""
    mt_sql = "SELECT * FROM run_mt" if staged else _METERS_SQL
    rd_sql = "SELECT * FROM run_rd" if staged else _readings_sql(month=month, meters="mt")
    m = f"'{month.isoformat()}'"
    next_m = f"'{add_months(month, 1).isoformat()}'"
    avg_from = f"'{add_months(month, -(AVERAGE_MONTHS_MAX - 1) - 1).isoformat()}'"
    idx = month_index
    month_idx = month.year * 12 + month.month
    values = ", ".join(f"({sid}, {_num(p)}, {_num(n)})" for sid, (p, n) in sorted(prices.items()))
    reading_filter = ""
    if with_reading:
        reading_filter = (
            " AND s.metered AND EXISTS (SELECT 1 FROM meters_meter m2"  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608
            " JOIN meters_reading r2 ON r2.meter_id = m2.id"
            f" WHERE m2.account_id = a.id AND m2.service_id = s.id AND m2.status = 'working'"
            f" AND r2.month = {m} AND r2.status = 'accepted')"
        )
    is_meter = "meter_id IS NOT NULL AND cur_sum IS NOT NULL AND prev_sum IS NOT NULL"
    is_average = (
        f"meter_id IS NOT NULL AND cur_sum IS NULL AND prev_month >= {avg_from}"
        " AND base_sum IS NOT NULL"
    )
    if is_postgres():  # a hash join over the chunk's meters
        meter_column, meter_select, meter_ref = "", ", mt.meter_id AS meter_id", "mt.meter_id"
        meter_join = (
            "\n  LEFT JOIN mt ON mt.account_id = base.account_id"
            " AND mt.service_id = base.service_id AND base.metered"
        )
    else:  # SQLite would scan `mt` per row: look the meter up by its index instead
        meter_column = (
            ",\n         CASE WHEN s.metered THEN (SELECT MIN(m.id) FROM meters_meter m"
            " WHERE m.account_id = a.id AND m.service_id = s.id AND m.status = 'working')"
            " END AS meter_id"
        )
        meter_select, meter_join, meter_ref = "", "", "base.meter_id"
    return f"""
WITH prices(service_id, price, norm) AS (VALUES {values}),
base AS (
  SELECT a.id AS account_id, s.id AS service_id, s.unit AS unit, s.norm_basis AS norm_basis,
         a.area AS area, a.residents AS residents, p.price AS price, p.norm AS norm,
         s.metered AS metered{meter_column}
  FROM accounts_personalaccount a
  JOIN accounts_accountservice x ON x.account_id = a.id
  JOIN billing_service s ON s.id = x.service_id
  JOIN prices p ON p.service_id = s.id
  WHERE a.branch_id = %s AND a.id >= %s AND a.id < %s AND a.status = 'open'
    AND x.account_id >= %s AND x.account_id < %s
    AND x.valid_from < {next_m} AND (x.valid_to IS NULL OR x.valid_to > {m}){reading_filter}
),
mt AS MATERIALIZED ({mt_sql}),
rd AS MATERIALIZED ({rd_sql}),
prev AS MATERIALIZED (
  SELECT meter_id, MAX(month) AS month FROM rd WHERE month < {m} GROUP BY meter_id
),
basem AS MATERIALIZED (
  SELECT p.meter_id, MAX(rd.month) AS month FROM prev p
  JOIN rd ON rd.meter_id = p.meter_id
    AND {idx("rd.month")} <= {idx("p.month")} - {AVERAGE_HISTORY_MONTHS}
  GROUP BY p.meter_id
),
s3 AS (
  SELECT base.*{meter_select}, cur.total AS cur_sum,
         p.month AS prev_month, pv.total AS prev_sum, b.month AS base_month, bv.total AS base_sum
  FROM base{meter_join}
  LEFT JOIN rd cur ON cur.meter_id = {meter_ref} AND cur.month = {m}
  LEFT JOIN prev p ON p.meter_id = {meter_ref}
  LEFT JOIN rd pv ON pv.meter_id = p.meter_id AND pv.month = p.month
  LEFT JOIN basem b ON b.meter_id = {meter_ref}
  LEFT JOIN rd bv ON bv.meter_id = b.meter_id AND bv.month = b.month
),
lines AS (
  SELECT account_id, service_id, unit, price, prev_month,
    CASE
      WHEN {is_meter} THEN 'meter'
      WHEN {is_average} THEN 'average'
      WHEN meter_id IS NULL AND norm_basis = 'area' THEN 'area'
      ELSE 'norm'
    END AS method,
    CASE
      WHEN {is_meter} THEN (cur_sum - prev_sum) * 1.0 / ({month_idx} - {idx("prev_month")})
      WHEN {is_average}
        THEN (prev_sum - base_sum) * 1.0 / ({idx("prev_month")} - {idx("base_month")})
      ELSE COALESCE(norm, 0) * CASE WHEN norm_basis = 'area' THEN area ELSE residents END
    END AS raw_volume
  FROM s3
)"""  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608


def _recalc_select(*, month: date) -> str:
    m = f"'{month.isoformat()}'"
    lookback = f"'{add_months(month, -RECALC_LOOKBACK_MONTHS).isoformat()}'"
    gap_before = f"'{add_months(month, -1).isoformat()}'"
    return f""",
gaps AS (
  SELECT account_id, service_id, unit, prev_month, raw_volume AS share
  FROM lines WHERE method = 'meter' AND prev_month < {gap_before}
),
earlier AS (
  SELECT c.account_id, c.service_id, c.for_month,
         SUM(c.volume) AS v, SUM(c.amount) AS a,
         MAX(CASE WHEN c.method = 'average' AND NOT c.is_recalculation THEN 1 ELSE 0 END)
           AS was_average
  FROM billing_charge c
  JOIN billing_billingperiod p ON p.id = c.period_id
  WHERE p.branch_id = %s AND p.month < {m} AND c.for_month >= {lookback}
    AND EXISTS (SELECT 1 FROM gaps g WHERE g.account_id = c.account_id
                AND g.service_id = c.service_id AND c.for_month > g.prev_month)
  GROUP BY c.account_id, c.service_id, c.for_month
),
recalc AS (
SELECT g.account_id, g.service_id, e.for_month, g.unit, g.share, e.v, e.a,
  (SELECT t.price FROM billing_tariff t
    WHERE t.branch_id = %s AND t.service_id = g.service_id AND t.valid_from <= e.for_month
      AND (t.valid_to IS NULL OR t.valid_to > e.for_month)
    ORDER BY t.valid_from DESC LIMIT 1) AS price_then
FROM gaps g
JOIN earlier e ON e.account_id = g.account_id AND e.service_id = g.service_id
  AND e.for_month > g.prev_month AND e.for_month < {m}
WHERE e.was_average = 1
)"""  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608


def _reason_parts() -> tuple[str, str]:
    template = gettext("Перерасчёт за {month}: получены показания счётчика")
    before, _sep, after = template.partition("{month}")
    return before, after


def _run_chunk(
    *,
    branch: Branch,
    period: BillingPeriod,
    prices: dict[int, tuple[Decimal, Decimal | None]],
    low: int,
    high: int,
) -> tuple[int, int]:
    month = period.month
    lines_cte = _lines_cte(month=month, prices=prices, with_reading=False)
    recalc_sql = _lines_cte(month=month, prices=prices, with_reading=True) + _recalc_select(
        month=month
    )
    params = [branch.pk, low, high, low, high, low, high]
    recalc_params = [*params, branch.pk, branch.pk]
    before, after = _reason_parts()
    with connection.cursor() as cursor:
        if is_postgres():
            # JIT compiling these statements costs seconds per chunk and buys nothing here.
            cursor.execute("SET LOCAL jit = off")
            # The chunk's lines (regular and recalculations) go to a temporary table first,
            # then are merged into the drafts: a re-run rewrites only the lines that changed
            # and removes those no longer produced (closed ЛС, ended services). Deleting a
            # charge costs a foreign-key check against the ledger, an unchanged line nothing.
            # Unchanged lines are filtered out by one join (not a conflict probe per line); the
            # index keeps the anti-join cheap whatever the planner thinks of the drafts.
            _stage_readings(cursor, month=month, low=low, high=high)
            staged = _lines_cte(month=month, prices=prices, with_reading=False, staged=True)
            cursor.execute(
                f"""CREATE TEMPORARY TABLE run_lines ON COMMIT DROP AS
{staged}{_recalc_select(month=month)}
SELECT account_id, service_id, CAST('{month.isoformat()}' AS DATE) AS for_month, vol AS volume,
       unit, price AS tariff, method, ROUND(vol * price, 2) AS amount,
       FALSE AS is_recalculation, CAST('' AS TEXT) AS reason
FROM (SELECT l.*, CASE WHEN raw_volume < 0 THEN 0 ELSE ROUND(raw_volume, 6) END AS vol
      FROM lines l) q
UNION ALL
SELECT account_id, service_id, for_month, share6 - v, unit, COALESCE(price_then, 0), 'meter',
       ROUND(share6 * COALESCE(price_then, 0), 2) - a, TRUE,
       %s || {month_label("for_month")} || %s
FROM (SELECT z.*, ROUND(CASE WHEN share < 0 THEN 0 ELSE share END, 6) AS share6
      FROM recalc z) q
WHERE share6 <> v OR ROUND(share6 * COALESCE(price_then, 0), 2) <> a""",  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608
                [branch.pk, low, high, low, high, branch.pk, branch.pk, before, after],
            )
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM billing_charge WHERE period_id = %s"
                " AND account_id >= %s AND account_id < %s)",
                [period.pk, low, high],
            )
            if not cursor.fetchone()[0]:  # a first run of the chunk: nothing to merge with
                cursor.execute(
                    f"INSERT INTO billing_charge ({CHARGE_COLUMNS})"  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608
                    f" SELECT account_id, service_id, {period.pk}, for_month, volume, unit,"
                    " tariff, method, amount, is_recalculation, reason FROM run_lines"
                )
            else:
                cursor.execute("CREATE INDEX ON run_lines (account_id, service_id, for_month)")
                cursor.execute("ANALYZE run_lines")
                cursor.execute(
                    f"""INSERT INTO billing_charge ({CHARGE_COLUMNS})
SELECT n.account_id, n.service_id, {period.pk}, n.for_month, n.volume, n.unit, n.tariff,
       n.method, n.amount, n.is_recalculation, n.reason
FROM run_lines n
LEFT JOIN billing_charge c ON c.period_id = {period.pk} AND c.account_id = n.account_id
  AND c.service_id = n.service_id AND c.for_month = n.for_month
WHERE c.id IS NULL
   OR (c.volume, c.unit, c.tariff, c.method, c.amount, c.is_recalculation, c.reason)
      IS DISTINCT FROM (n.volume, n.unit, n.tariff, n.method, n.amount, n.is_recalculation,
                        n.reason)
ON CONFLICT (period_id, account_id, service_id, for_month) DO UPDATE SET
  volume = EXCLUDED.volume, unit = EXCLUDED.unit, tariff = EXCLUDED.tariff,
  method = EXCLUDED.method, amount = EXCLUDED.amount,
  is_recalculation = EXCLUDED.is_recalculation, reason = EXCLUDED.reason
WHERE (billing_charge.volume, billing_charge.unit, billing_charge.tariff,
       billing_charge.method, billing_charge.amount, billing_charge.is_recalculation,
       billing_charge.reason)
  IS DISTINCT FROM (EXCLUDED.volume, EXCLUDED.unit, EXCLUDED.tariff, EXCLUDED.method,
                    EXCLUDED.amount, EXCLUDED.is_recalculation, EXCLUDED.reason)"""  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608
                )
                cursor.execute(
                    """DELETE FROM billing_charge c
WHERE c.period_id = %s AND c.account_id >= %s AND c.account_id < %s
  AND NOT EXISTS (SELECT 1 FROM run_lines n WHERE n.account_id = c.account_id
                  AND n.service_id = c.service_id AND n.for_month = c.for_month)""",
                    [period.pk, low, high],
                )
            cursor.execute(
                "SELECT COUNT(*) FILTER (WHERE NOT is_recalculation),"
                " COUNT(*) FILTER (WHERE is_recalculation) FROM run_lines"
            )
            lines, recalcs = cursor.fetchone()
            cursor.execute("DROP TABLE run_lines, run_rd, run_mt")
            return int(lines), int(recalcs)
        cursor.execute(
            f"{lines_cte}\n"  # internal identifiers and dates; values bound  # nosec B608
            "SELECT account_id, service_id, unit, price, method, raw_volume FROM lines",
            params,
        )
        rows = []
        for account_id, service_id, unit, price, method, raw in cursor.fetchall():
            volume = max(_dec(raw).quantize(VOLUME_Q, rounding=ROUND_HALF_UP), Decimal(0))
            tariff = _dec(price)
            rows.append(
                (
                    account_id,
                    service_id,
                    period.pk,
                    month.isoformat(),
                    str(volume),
                    unit,
                    str(tariff),
                    method,
                    str(round_money(volume * tariff)),
                    False,
                    "",
                )
            )
        _insert(cursor, rows)
        cursor.execute(f"{recalc_sql}\nSELECT * FROM recalc", recalc_params)  # nosec B608
        recalcs = []
        for account_id, service_id, for_month, unit, share, v, a, price_then in cursor.fetchall():
            share6 = max(_dec(share).quantize(VOLUME_Q, rounding=ROUND_HALF_UP), Decimal(0))
            tariff = _dec(price_then) if price_then is not None else Decimal(0)
            volume = share6 - _dec(v).quantize(VOLUME_Q, rounding=ROUND_HALF_UP)
            amount = round_money(share6 * tariff) - round_money(_dec(a))
            if volume == 0 and amount == 0:
                continue
            label = f"{_as_date(for_month):%m.%Y}"
            recalcs.append(
                (
                    account_id,
                    service_id,
                    period.pk,
                    str(for_month)[:10],
                    str(volume),
                    unit,
                    str(tariff),
                    ChargeMethod.METER.value,
                    str(amount),
                    True,
                    f"{before}{label}{after}",
                )
            )
        _insert(cursor, recalcs)
        return len(rows), len(recalcs)


def _insert(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        marks = ", ".join(["%s"] * 11)
        sql = f"INSERT INTO billing_charge ({CHARGE_COLUMNS}) VALUES ({marks})"  # noqa: S608 — internal identifiers and dates; values bound  # nosec B608
        cursor.executemany(sql, rows)


def _dec(value: Any) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value if value is not None else 0)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
