"""Billing run throughput on PostgreSQL: N accounts × 3 services, against a bare INSERT … SELECT.

    DATABASE_URL=postgres://user:pass@127.0.0.1:5432/abonent_bench \\
        uv run python bench/billing.py --sizes 10000 100000 1000000

Use a throw-away database: it migrates it, loads the demo data, and adds a branch «bench»
with N synthetic ЛС (heating, hot water and coolant on each; a hot-water meter on every
second one; readings for 7 months before the month and, on every other meter, the month
itself), growing the same branch from one size to the next. For each size it times:

* seed — `synthetic_accounts_create` (INSERT … SELECT per table);
* run — `billing_run` of the branch for the month (fresh), and a re-run (replaces drafts);
* bare — `INSERT INTO <a plain copy of billing_charge, no indexes> SELECT … FROM
  generate_series` of the same number of rows, with no indexes, constraints or logic (the
  issue's reference: ~460k rows/s on a quiet machine of this kind);
* table — the same number of constant rows INSERT … SELECT into billing_charge itself, with
  its indexes, committed: the ceiling for writing this table;

and prints rows/s, the run/bare ratio, and the process's peak RSS (ru_maxrss) after each
size (flat = memory does not grow with N; the database does the work). Not a test.

Measured 2026-11-24 on a shared 2-core VM, PostgreSQL 15 (fsync off, shared_buffers 1 GB,
work_mem 64 MB), 2 connections, chunks of 50,000 ЛС; the load average from other sessions
was 4–5 during the 1M run:

        N  seed s       rows  run s  rows/s  rerun s  bare s  bare rows/s  ratio  table s  ratio
   10,000     3.1     30,000   0.82  36,787     0.72    0.03    1,006,628     4%     0.23    28%
  100,000    27.6    300,000   8.14  36,861     5.17    0.65      465,072     8%     3.65    45%
1,000,000   177.6  3,000,000  55.01  54,538    66.70    6.12      490,373    11%    44.38    81%

(peak RSS of the Python process: 208 MB at every size.) The same code at load ~2.8 ran 1M in
65 s in an earlier try and at load ~6.5 in 120 s: read the ratios, not the seconds.

Where the time goes: writing billing_charge itself (three indexes: the primary key, the unique
(period, account, service, month) and (account, period)) is ~80 % of the run; the lines
themselves (readings, averages, norms, recalculations) take the rest. Session 1's design
(six indexes, three deferred foreign keys, delete + insert) ran 1M in 126.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from abonent.accounts.management.commands.seed_demo import (  # noqa: E402
    BRANCHES,
    synthetic_accounts_create,
)
from abonent.accounts.models import Branch  # noqa: E402
from abonent.billing.models import Charge, Norm, Tariff  # noqa: E402
from abonent.billing.services import billing_run  # noqa: E402

MONTH = date(2026, 11, 1)
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_branch() -> Branch:
    data = {k: v for k, v in BRANCHES[0].items() if k != "code"}
    data["name"] = "Бенчмарк"
    branch, _ = Branch.objects.update_or_create(code="bench", defaults=data)
    source = Branch.objects.get(code="krasnoyarsk")
    for tariff in Tariff.objects.filter(branch=source):
        Tariff.objects.update_or_create(
            branch=branch,
            service_id=tariff.service_id,
            valid_from=tariff.valid_from,
            defaults={"valid_to": tariff.valid_to, "price": tariff.price},
        )
    for norm in Norm.objects.filter(branch=source):
        Norm.objects.update_or_create(
            branch=branch,
            service_id=norm.service_id,
            valid_from=norm.valid_from,
            defaults={"valid_to": norm.valid_to, "value": norm.value},
        )
    return branch


def bare_insert(rows: int) -> float:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_rows")
        # A plain (logged) table like billing_charge, without its indexes and constraints.
        cursor.execute("CREATE TABLE bench_rows (LIKE billing_charge INCLUDING DEFAULTS)")
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_rows (id, account_id, service_id, period_id, for_month, volume,"
            " unit, tariff, method, amount, is_recalculation, reason)"
            " SELECT g, g / 3, 1 + g %% 3, 1, DATE '2026-11-01', 1.357500, 'Гкал', 2800,"
            " 'norm', 3801.00, FALSE, '' FROM generate_series(1, %s) g",
            [rows],
        )
        took = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_rows")
    return took


def real_insert(branch: Branch, period_id: int) -> float:
    """The same rows with constant values, INSERT … SELECT into billing_charge itself (its
    indexes and deferred foreign keys, checked at commit): the ceiling for this table."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_charge WHERE period_id = %s", [period_id])
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_charge (account_id, service_id, period_id, for_month, volume,"
            " unit, tariff, method, amount, is_recalculation, reason)"
            " SELECT x.account_id, x.service_id, %s, DATE '2026-11-01', 1.357500, 'Гкал', 2800,"
            " 'norm', 3801.00, FALSE, '' FROM accounts_accountservice x"
            " JOIN accounts_personalaccount a ON a.id = x.account_id WHERE a.branch_id = %s",
            [period_id, branch.pk],
        )
    took = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_charge WHERE period_id = %s", [period_id])
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2, help="connections side by side")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    figures: list[dict[str, float]] = []
    if connection.vendor != "postgresql":
        sys.exit("bench/billing.py needs PostgreSQL: set DATABASE_URL to a throw-away database")
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    branch = bench_branch()
    print(f"{'N':>9} {'seed s':>7} {'rows':>9} {'run s':>7} {'rows/s':>9} {'rerun s':>8}"
          f" {'bare s':>7} {'bare rows/s':>11} {'ratio':>6} {'table s':>8} {'ratio':>6}"
          f" {'peak MB':>8}")  # fmt: skip
    for size in args.sizes:
        started = time.perf_counter()
        synthetic_accounts_create(
            total=size, month=MONTH, all_services=True, branch_codes=["bench"]
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        seed = time.perf_counter() - started
        with connection.cursor() as cursor:  # a fresh run: no drafts to replace
            cursor.execute(
                "DELETE FROM billing_charge WHERE period_id IN"
                " (SELECT id FROM billing_billingperiod WHERE branch_id = %s)",
                [branch.pk],
            )
        started = time.perf_counter()
        result = billing_run(
            branch=branch, month=MONTH, now=NOW, chunk_size=args.chunk, workers=args.workers
        )
        run = time.perf_counter() - started
        started = time.perf_counter()
        billing_run(
            branch=branch, month=MONTH, now=NOW, chunk_size=args.chunk, workers=args.workers
        )
        rerun = time.perf_counter() - started
        rows = Charge.objects.filter(period=result.period).count()
        assert rows == result.lines + result.recalculations
        bare = bare_insert(rows)
        table = real_insert(branch, result.period.pk)
        print(
            f"{size:>9,} {seed:>7.1f} {rows:>9,} {run:>7.2f} {rows / run:>9,.0f} {rerun:>8.2f}"
            f" {bare:>7.2f} {rows / bare:>11,.0f} {bare / run:>6.0%} {table:>8.2f}"
            f" {table / run:>6.0%} {peak_mb():>8.0f}",
            flush=True,
        )
        assert result.total > Decimal(0)
        figures.append(
            {"accounts": size, "seed_s": round(seed, 2), "rows": rows, "run_s": round(run, 2),
             "rows_per_s": round(rows / run), "rerun_s": round(rerun, 2),
             "bare_s": round(bare, 3), "bare_rows_per_s": round(rows / bare),
             "table_s": round(table, 2), "peak_rss_mb": round(peak_mb(), 1)}
        )  # fmt: skip
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
