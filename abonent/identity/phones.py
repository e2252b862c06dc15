"""Russian mobile numbers: parsed into E.164, shown as +7 (999) 999-99-99."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import ValidationFailed

INVALID_PHONE = _("Укажите мобильный номер в формате +7 (999) 999-99-99.")


def normalize_phone(raw: str) -> str:
    digits = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if len(digits) == 11 and digits.startswith("8"):
        digits = "+7" + digits[1:]
    elif len(digits) == 10 and digits.startswith("9"):
        digits = "+7" + digits
    try:
        number = phonenumbers.parse(digits, "RU")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            INVALID_PHONE, code="invalid_phone", fields={"phone": [INVALID_PHONE]}
        ) from exc
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationFailed(
            INVALID_PHONE, code="invalid_phone", fields={"phone": [INVALID_PHONE]}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    if e164.startswith("+7") and len(e164) == 12:
        d = e164[2:]
        return f"+7 ({d[0:3]}) {d[3:6]}-{d[6:8]}-{d[8:10]}"
    return e164
