"""Hot-path reads as statements written once, rows turned into model instances.

Measured on the reading-day path (bench/hotspots.py), the ORM spent ~0.5 ms of a 0.9 ms
lookup building and compiling the same SQL on every request. The few lookups every request
makes (the bearer token, the customer's ЛС) are written here once; the rows get the field
converters the ORM would apply, so instances are the same on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def columns(model: type[Model], alias: str) -> str:
    """The select list of every concrete column of `model`, in `from_db` order."""
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)


def table(model: type[Model]) -> str:
    return f'"{model._meta.db_table}"'


def param(value: Any) -> Any:
    """A date or datetime the way the backend stores it (SQLite keeps text in UTC)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _converters(model: type[Model]) -> list[tuple[Any, list[Converter]]]:
    cache: dict[type[Model], list[tuple[Any, list[Converter]]]]
    cache = connection.__dict__.setdefault("_abonent_row_converters", {})
    if model not in cache:
        found = []
        for field in model._meta.concrete_fields:
            col = field.get_col(model._meta.db_table)
            found.append(
                (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            )
        cache[model] = found
    return cache[model]


def _instance(model: type[M], values: Sequence[Any]) -> M:
    row = list(values)
    for i, (col, converters) in enumerate(_converters(model)):
        for convert in converters:
            row[i] = convert(row[i], col, connection)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], row)


def fetch(sql: str, params: Sequence[Any], *models: type[Model]) -> list[tuple[Any, ...]]:
    """Rows of `sql` (whose select list is `columns()` of each model in turn) as tuples of
    instances."""
    widths = [len(m._meta.concrete_fields) for m in models]
    with connection.cursor() as cursor:
        cursor.execute(sql, [param(p) for p in params])
        rows = cursor.fetchall()
    out = []
    for row in rows:
        start = 0
        instances = []
        for model, width in zip(models, widths, strict=True):
            instances.append(_instance(model, row[start : start + width]))
            start += width
        out.append(tuple(instances))
    return out
