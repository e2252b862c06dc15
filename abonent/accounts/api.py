from __future__ import annotations

from datetime import time

from django.http import HttpRequest
from ninja import Router, Schema

from abonent.accounts import selectors

router = Router(tags=["Филиалы и лицевые счета"])


class BranchOut(Schema):
    id: int
    code: str
    name: str
    timezone: str
    call_centre_phone: str
    hours_open: time
    hours_close: time
    working_days: list[int]
    reading_day_from: int
    reading_day_to: int

    @staticmethod
    def resolve_working_days(obj: object) -> list[int]:
        return [int(d) for d in str(getattr(obj, "working_days", "")).split(",") if d]


@router.get(
    "/branches",
    response=list[BranchOut],
    summary="Города: call-центр, часы работы, приём показаний",
)
def branches(request: HttpRequest):
    return selectors.branch_list()
