from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from abonent.accounts.selectors import branch_for_user

SESSION_KEY = "branch_tz"


class BranchTimezoneMiddleware:
    """Show times in the customer's branch time zone (Krasnoyarsk is Moscow + 4).

    The zone is looked up once per session and kept there.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and request.user.is_authenticated:
            name = session.get(SESSION_KEY)
            if name is None:
                branch = branch_for_user(user_id=request.user.pk)
                name = branch.timezone if branch else ""
                session[SESSION_KEY] = name
            if name:
                try:
                    timezone.activate(zoneinfo.ZoneInfo(name))
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
