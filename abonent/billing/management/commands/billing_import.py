"""`manage.py billing_import --branch X --kind accounts|charges|balances [--period YYYY-MM] FILE`.

Prints the report; exits with code 1 when the file is rejected (nothing is written then).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abonent.accounts.models import Branch
from abonent.billing.management.commands.billing_run import parse_period
from abonent.billing.services.exchange import (
    ImportReport,
    exchange_parse,
    import_accounts,
    import_balances,
    import_charges,
)
from abonent.core import clock
from abonent.core.errors import DomainError


class Command(BaseCommand):
    help = "Import accounts, charges or opening balances from an external billing system."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", required=True, help="branch code, e.g. krasnoyarsk")
        parser.add_argument("--kind", required=True, choices=["accounts", "charges", "balances"])
        parser.add_argument("--period", help="YYYY-MM (charges and balances)")
        parser.add_argument("file", help="CSV (; or ,) or JSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        branch = Branch.objects.filter(code=options["branch"]).first()
        if branch is None:
            raise CommandError(f"no branch with code {options['branch']!r}")
        kind = options["kind"]
        if kind != "accounts" and not options["period"]:
            raise CommandError(f"--period is required for --kind {kind}")
        try:
            content = Path(options["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from exc
        now = clock.now()
        try:
            parsed = exchange_parse(content=content)
            report: ImportReport
            if kind == "accounts":
                report = import_accounts(branch=branch, rows=parsed.rows, now=now)
            elif kind == "charges":
                report = import_charges(
                    branch=branch, month=parse_period(options["period"]), rows=parsed.rows, now=now
                )
            else:
                report = import_balances(
                    branch=branch,
                    month=parse_period(options["period"]),
                    rows=parsed.rows,
                    file_digest=parsed.digest,
                    now=now,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            sys.exit(1)
