"""Geometry of the server-drawn SVG chart of monthly consumption (no script, no inline CSS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from abonent.meters.selectors import HistoryMonth

HEIGHT = 170
TOP = 16
BASELINE = 136
SLOT = 26
BAR = 16


@dataclass(frozen=True)
class Bar:
    month: date
    consumption: Decimal | None
    x: int
    y: int
    height: int
    label_x: int
    show_label: bool
    last: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: int
    bar_width: int
    bars: list[Bar]
    maximum: Decimal


def consumption_chart(history: list[HistoryMonth]) -> Chart | None:
    """One bar per period with a reading: its consumption (none for the first reading)."""
    if not history:
        return None
    maximum = max((h.consumption or Decimal(0) for h in history), default=Decimal(0))
    scale = Decimal(BASELINE - TOP) / maximum if maximum > 0 else Decimal(0)
    every = 1 if len(history) <= 12 else 3
    bars = []
    for index, month in enumerate(history):
        value = month.consumption or Decimal(0)
        height = int((value * scale).to_integral_value())
        if value > 0:
            height = max(height, 2)
        x = index * SLOT + 6
        last = index == len(history) - 1
        bars.append(
            Bar(
                month=month.month,
                consumption=month.consumption,
                x=x,
                y=BASELINE - height,
                height=height,
                label_x=x + BAR // 2,
                show_label=(len(history) - 1 - index) % every == 0,
                last=last,
            )
        )
    return Chart(
        width=len(history) * SLOT + 12,
        height=HEIGHT,
        baseline=BASELINE,
        bar_width=BAR,
        bars=bars,
        maximum=maximum,
    )
