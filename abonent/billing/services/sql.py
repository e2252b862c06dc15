"""Small SQL helpers shared by the billing run and the period close (PostgreSQL and SQLite)."""

from __future__ import annotations

from datetime import date

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def month_index(expr: str) -> str:
    """SQL for year × 12 + month of a date column or expression (to count months between)."""
    if is_postgres():
        return (
            f"(CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER) * 12"
            f" + CAST(EXTRACT(MONTH FROM {expr}) AS INTEGER))"
        )
    return (
        f"(CAST(strftime('%%Y', {expr}) AS INTEGER) * 12"
        f" + CAST(strftime('%%m', {expr}) AS INTEGER))"
    )


def month_label(expr: str) -> str:
    """SQL rendering a date as MM.YYYY (for reasons printed on bills)."""
    if is_postgres():
        return f"to_char({expr}, 'MM.YYYY')"
    return f"strftime('%%m.%%Y', {expr})"


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def date_literal(day: date) -> str:
    """A date constant usable in a SELECT list (PostgreSQL types it; SQLite keeps ISO text)."""
    return f"DATE '{day.isoformat()}'" if is_postgres() else f"'{day.isoformat()}'"
