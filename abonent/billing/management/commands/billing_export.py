"""`manage.py billing_export --branch X --kind payments|readings
[--from YYYY-MM-DD --to YYYY-MM-DD | --period YYYY-MM] [--format csv|json] [-o FILE]`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abonent.accounts.models import Branch
from abonent.billing.management.commands.billing_run import parse_period
from abonent.billing.services.exchange import (
    PAYMENT_FIELDS,
    READING_FIELDS,
    exchange_render,
    export_payments,
    export_readings,
)


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"date must be YYYY-MM-DD, got {text!r}") from exc


class Command(BaseCommand):
    help = "Export payments or accepted meter readings for an external billing system."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", required=True, help="branch code, e.g. krasnoyarsk")
        parser.add_argument("--kind", required=True, choices=["payments", "readings"])
        parser.add_argument("--from", dest="date_from", help="YYYY-MM-DD (payments)")
        parser.add_argument("--to", dest="date_to", help="YYYY-MM-DD (payments)")
        parser.add_argument("--period", help="YYYY-MM (readings; or payments of that month)")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("-o", "--output", help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        branch = Branch.objects.filter(code=options["branch"]).first()
        if branch is None:
            raise CommandError(f"no branch with code {options['branch']!r}")
        if options["kind"] == "payments":
            if options["date_from"] and options["date_to"]:
                date_from = parse_date(options["date_from"])
                date_to = parse_date(options["date_to"])
            elif options["period"]:
                date_from = parse_period(options["period"])
                next_month = date(
                    date_from.year + date_from.month // 12, date_from.month % 12 + 1, 1
                )
                date_to = date.fromordinal(next_month.toordinal() - 1)
            else:
                raise CommandError("payments need --from and --to, or --period")
            rows = export_payments(branch=branch, date_from=date_from, date_to=date_to)
            fields = PAYMENT_FIELDS
        else:
            if not options["period"]:
                raise CommandError("readings need --period")
            rows = export_readings(branch=branch, month=parse_period(options["period"]))
            fields = READING_FIELDS
        text = exchange_render(rows=rows, fmt=options["format"], fields=fields)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(rows)} rows written to {options['output']}")
        else:
            self.stdout.write(text, ending="")
