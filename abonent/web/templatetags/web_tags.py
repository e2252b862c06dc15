"""Small presentation helpers for the web templates."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from abonent.core import clock
from abonent.identity.phones import format_phone

register = template.Library()

WEEKDAYS = [
    pgettext_lazy("weekday", "пн"),
    pgettext_lazy("weekday", "вт"),
    pgettext_lazy("weekday", "ср"),
    pgettext_lazy("weekday", "чт"),
    pgettext_lazy("weekday", "пт"),
    pgettext_lazy("weekday", "сб"),
    pgettext_lazy("weekday", "вс"),
]


@register.filter
def phone(value: str | None) -> str:
    """E.164 to the familiar +7 (391) 228-00-00; anything else is shown as given."""
    return format_phone(value) if value else ""


@register.filter
def workdays(value: str | None) -> str:
    """'1,2,3,4,5' → 'пн–пт'; a broken run is listed day by day."""
    try:
        days = sorted({int(d) for d in (value or "").split(",") if d.strip()})
    except ValueError:
        return ""
    days = [d for d in days if 1 <= d <= 7]
    if not days:
        return ""
    if len(days) == 7:
        return _("ежедневно")
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAYS[days[0] - 1]}–{WEEKDAYS[days[-1] - 1]}"
    return ", ".join(str(WEEKDAYS[d - 1]) for d in days)


@register.simple_tag
def branch_hours(branch: Any) -> str:
    """'пн–пт 8:00–20:00' for a branch's call centre specialists."""
    if branch is None:
        return ""
    days = workdays(getattr(branch, "working_days", ""))
    opens, closes = branch.hours_open, branch.hours_close
    span = f"{opens.hour}:{opens.minute:02d}–{closes.hour}:{closes.minute:02d}"
    return f"{days} {span}".strip()


@register.filter
def seconds_until(value: Any) -> int:
    """Whole seconds from now to an ISO datetime (0 if past or unreadable).

    The resend countdown starts from this server-side figure, so a wrong clock on the
    customer's phone cannot keep the button locked.
    """
    when = parse_datetime(value) if isinstance(value, str) else value
    if when is None:
        return 0
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return max(0, int((when - clock.now()).total_seconds() + 0.999))


@register.filter
def initials(user: Any) -> str:
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    letters = (first[:1] + last[:1]) or (getattr(user, "display_name", "") or "А")[:1]
    return letters.upper()


_CAPTCHA_ALT = re.compile(r'alt="captcha"')


@register.filter
def captcha_widget(bound_field: Any) -> SafeString:
    """django-simple-captcha hard-codes an English alt text; screen readers here speak Russian."""
    html = str(bound_field)
    alt = escape(_("Картинка с символами для проверки"))
    # bandit B308/B703 below: the widget's own escaped HTML, one escaped text swapped in
    return mark_safe(  # noqa: S308  # nosec B308 B703
        _CAPTCHA_ALT.sub(lambda _m: f'alt="{alt}"', html)
    )


@register.filter
def widget_attrs(bound_field: Any, spec: str) -> Any:
    """Set input attributes from the template: field|widget_attrs:"type=email;autocomplete=email".

    For inputs whose kind the view decides (phone or e-mail); each form instance has its
    own copy of the widget, so this never leaks into other requests.
    """
    widget = bound_field.field.widget
    for pair in spec.split(";"):
        key, _, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not key:
            continue
        if key == "type":
            widget.input_type = value
        else:
            widget.attrs[key] = value
    return bound_field


REQUIRED_MARK = mark_safe('<span class="req" aria-hidden="true">*</span>')  # a literal  # nosec B308


@register.simple_tag
def required_mark() -> SafeString:
    return REQUIRED_MARK


def _read_static(name: str) -> bytes:
    path = finders.find(name)
    if path:
        with open(path, "rb") as fh:
            return fh.read()
    with staticfiles_storage.open(name) as fh:
        return fh.read()


_fingerprints: dict[tuple[str, ...], str] = {}


@register.simple_tag
def static_fingerprint(*names: str) -> str:
    """A short hash of the service worker's precached files, so a change installs a new cache.

    Cached per process in production (files do not change there); recomputed in development.
    """
    key = tuple(names)
    if not settings.DEBUG and key in _fingerprints:
        return _fingerprints[key]
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode())
        try:
            digest.update(_read_static(name))
        except (OSError, ValueError):
            digest.update(b"missing")
    value = digest.hexdigest()[:12]
    _fingerprints[key] = value
    return value
