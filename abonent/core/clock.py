"""The only place that reads the wall clock. Domain code takes `now` as an argument."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
