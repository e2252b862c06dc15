from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """`{{ errors|lookup:key }}` — a dict item by a computed key ('' when missing)."""
    if not mapping:
        return ""
    return mapping.get(str(key), "")


@register.simple_tag
def field_key(meter_id: int, scale: int) -> str:
    return f"{meter_id}.{scale}"


@register.filter
def reading(value: Decimal | None, decimals: int = 3) -> str:
    """Decimal('1234.5') → '1234,500' (as the meter's drum shows it)."""
    if value is None:
        return "—"
    return f"{value:.{int(decimals)}f}".replace(".", ",")


@register.filter
def volume(value: Decimal | None) -> str:
    """Consumption: up to 3 decimals, trailing zeros cut, comma."""
    if value is None:
        return "—"
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
