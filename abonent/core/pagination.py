"""The API's list pagination: `limit` (1–100) and `offset` (0–1 000 000). Ninja's own
LimitOffsetPagination leaves both unbounded, and an offset or limit past 2^63 reached the
database as an SQL LIMIT/OFFSET that overflows (a 500 instead of a 422)."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 100
MAX_OFFSET = 1_000_000


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
