"""Meters writes: readings (submit, operator entry, import) and reminders."""

from abonent.meters.services.readings import (
    ConfirmationRequired,
    ReadingInput,
    SubmitResult,
    parse_value,
    reading_enter,
    reading_submit,
)

__all__ = [
    "ConfirmationRequired",
    "ReadingInput",
    "SubmitResult",
    "parse_value",
    "reading_enter",
    "reading_submit",
]
