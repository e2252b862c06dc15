"""`manage.py billing_run --branch krasnoyarsk --period 2026-11 [--close]`."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abonent.accounts.models import Branch
from abonent.billing.services import billing_run, period_close
from abonent.core import clock
from abonent.core.errors import DomainError


def parse_period(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise CommandError(f"--period must be YYYY-MM, got {text!r}") from exc


class Command(BaseCommand):
    help = "Run the monthly billing of a branch for a period (and optionally close it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", required=True, help="branch code, e.g. krasnoyarsk")
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--close", action="store_true", help="close the period after it")
        parser.add_argument("--chunk", type=int, default=50_000, help="accounts per chunk")
        parser.add_argument(
            "--workers", type=int, default=None, help="connections side by side (PostgreSQL)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        branch = Branch.objects.filter(code=options["branch"]).first()
        if branch is None:
            raise CommandError(f"no branch with code {options['branch']!r}")
        month = parse_period(options["period"])

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  chunk {done}/{total} ({done * 100 // total}%)")

        try:
            result = billing_run(
                branch=branch,
                month=month,
                now=clock.now(),
                chunk_size=options["chunk"],
                workers=options["workers"],
                progress=progress,
                clock=clock.now,
            )
            self.stdout.write(
                f"{branch.code} {month:%Y-%m}: {result.lines} lines, "
                f"{result.recalculations} recalculations, total {result.total} ₽"
            )
            if options["close"]:
                closed = period_close(period=result.period, now=clock.now(), actor=None)
                self.stdout.write(f"closed: {closed.entries} ledger entries, {closed.bills} bills")
        except DomainError as exc:
            raise CommandError(exc.message) from exc
