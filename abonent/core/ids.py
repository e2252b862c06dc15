"""Object ids from the outside. In paths, the `id` URL converter (web and API): digits that fit
a 64-bit primary key (up to 18 of them); Django's `int` takes any number of digits, and a
38-digit id made SQLite raise OverflowError (a 500) instead of a 404. In JSON bodies, `Id`:
an integer from 1 to 2^63 − 1, else a 422."""

from __future__ import annotations

from typing import Annotated

from django.urls import register_converter
from pydantic import BeforeValidator, Field

MAX_ID = 2**63 - 1


def _not_a_bool(value: object) -> object:
    # JSON `true` is not an id, though lax validation would take it for 1.
    if isinstance(value, bool):
        raise ValueError("not an id")
    return value


Id = Annotated[int, BeforeValidator(_not_a_bool), Field(ge=1, le=MAX_ID)]


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))


def register() -> None:
    register_converter(IdConverter, "id")
