"""`manage.py meters_import --branch X FILE` — readings from an external system (CSV `;` or
JSON with account; service; serial; scale; value; month), all or nothing. The export is
`billing_export --kind readings`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abonent.accounts.models import Branch
from abonent.billing.services.exchange import exchange_parse
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.meters.services.imports import readings_import


class Command(BaseCommand):
    help = "Import meter readings (CSV or JSON) for a branch; a bad line rejects the file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", required=True, help="branch code, e.g. krasnoyarsk")
        parser.add_argument("file", help="CSV (;) or JSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        branch = Branch.objects.filter(code=options["branch"]).first()
        if branch is None:
            raise CommandError(f"no branch with code {options['branch']!r}")
        try:
            parsed = exchange_parse(content=Path(options["file"]).read_bytes())
        except (OSError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        report = readings_import(branch=branch, rows=parsed.rows, now=clock.now())
        if report.errors:
            for line in report.errors:
                self.stderr.write(line)
            raise CommandError(f"rejected: {len(report.errors)} errors, nothing written")
        self.stdout.write(
            f"Readings: {report.rows} lines, {report.created} meters read, "
            f"{report.unchanged} unchanged."
        )
