"""The access-control matrix: every page and API operation whose path names an object is asked
for the owner's object as an anonymous visitor, as another customer and as the owner (and, for
the operator console, as an operator), with the expected status for each.

The routes come from the URL configuration itself (Django's resolver for pages, each Ninja
operation with its methods for the API, the WebSocket router): a new route with a path
parameter and no row here — nor a line in NOT_APPLICABLE saying why — fails
`test_every_route_with_an_id_has_a_row`. Adding one is one line in MATRIX.

Another customer always gets a 404 (the object is not theirs: we do not even say it exists),
and what anonymous visitors and other customers send changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from abonent.security.tests import stats
from abonent.security.tests.world import World

LOGIN = 302  # a page redirects anonymous visitors to the sign-in page
ANON_API = 401


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # as the URL configuration spells it (Django route, converters included)
    anonymous: int
    other: int
    owner: int | frozenset[int]
    operator: int | None = None  # the operator console's staff member, where it matters
    data: dict[str, Any] | None = None
    ids: dict[str, str] = field(default_factory=dict)  # path parameter → world id name
    multipart: bool = False
    query: str = ""

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"


def api(method: str, route: str, owner: int | frozenset[int], **kw: Any) -> Row:
    return Row(method, f"api/v1/{route}", ANON_API, 404, owner, **kw)


def page(method: str, route: str, owner: int | frozenset[int], **kw: Any) -> Row:
    return Row(method, route, LOGIN, 404, owner, **kw)


def console(method: str, route: str, operator: int, **kw: Any) -> Row:
    """The operator console: customers (the appeal's own included) get a 404, not a hint."""
    return Row(method, route, LOGIN, 404, 404, operator=operator, **kw)


READING = {"values": [{"scale": 1, "value": "110"}], "confirm": ["high"]}

MATRIX: list[Row] = [
    # ---------------------------------------------------------------- API: identity
    api("DELETE", "auth/devices/<device_id>", 204),
    # ---------------------------------------------------------------- API: ЛС and charges
    api("GET", "accounts/<account_id>", 200),
    api("PATCH", "accounts/<account_id>", 200, data={"label": "Дача"}),
    api("DELETE", "accounts/<account_id>", 204),
    api("GET", "accounts/<account_id>/charges", 200, query="period=2026-10"),
    # ---------------------------------------------------------------- API: documents
    api("GET", "accounts/<id:account_id>/bills", 200),
    api("GET", "bills/<id:bill_id>.pdf", 200),
    api("GET", "accounts/<id:account_id>/statement.pdf", 200),
    # ---------------------------------------------------------------- API: meters
    api("GET", "accounts/<id:account_id>/meters", 200),
    api("POST", "meters/<id:meter_id>/readings", frozenset({200, 201}), data=READING),
    api("GET", "meters/<id:meter_id>/readings", 200),
    api("GET", "accounts/<id:account_id>/readings.pdf", 200),
    # ---------------------------------------------------------------- API: appeals
    api("GET", "appeals/<id:appeal_id>", 200),
    api(
        "POST", "appeals/<id:appeal_id>/messages", 201, data={"body": "Ещё вопрос"}, multipart=True
    ),
    api("POST", "appeals/<id:appeal_id>/read", 200, data={}),
    api("POST", "appeals/<id:appeal_id>/close", 200),
    api("POST", "appeals/<id:appeal_id>/reopen", 409),  # reaches the rule: it is not closed
    api("POST", "appeals/<id:appeal_id>/rating", 409, data={"rating": 5}),  # not answered yet
    api("GET", "attachments/<id:attachment_id>", 200),
    # ---------------------------------------------------------------- API: cards and payments
    api("PATCH", "cards/<id:card_id>", 200, data={"title": "Зарплатная"}),
    api("DELETE", "cards/<id:card_id>", 204),
    api("GET", "payments/<id:payment_id>", 200),
    api("GET", "payments/<id:payment_id>/receipt.pdf", 200),
    # ---------------------------------------------------------------- API: notices
    api("POST", "notifications/<id:notification_id>/read", 200),
    api("DELETE", "push/subscriptions/<id:subscription_id>", 204),
    # ---------------------------------------------------------------- pages: profile
    # a form action: back to the profile with «Устройство не найдено» — the same answer as for
    # a device that does not exist, and nothing revoked
    Row("POST", "profile/devices/<id:device_id>/revoke/", LOGIN, 302, 302),
    # ---------------------------------------------------------------- pages: ЛС, documents
    page("GET", "accounts/<id:account_id>/", 200),
    page("POST", "accounts/<id:account_id>/rename/", 302, data={"label": "Дача"}),
    page("POST", "accounts/<id:account_id>/unlink/", 302),
    page("GET", "accounts/<id:account_id>/bills/", 200),
    page("GET", "bills/<id:bill_id>.pdf", 200),
    page("GET", "accounts/<id:account_id>/statement.pdf", 200),
    # ---------------------------------------------------------------- pages: meters
    page("GET", "meters/<id:meter_id>/", 200),
    page("GET", "meters/accounts/<id:account_id>/readings.pdf", 200),
    # ---------------------------------------------------------------- pages: appeals
    page("GET", "appeals/<id:appeal_id>/", 200),
    page("POST", "appeals/<id:appeal_id>/messages/", 302, data={"body": "Ещё вопрос"}),
    page("POST", "appeals/<id:appeal_id>/close/", 302),
    page("POST", "appeals/<id:appeal_id>/reopen/", 302),
    page("POST", "appeals/<id:appeal_id>/rate/", 302, data={"rating": "5"}),
    # ---------------------------------------------------------------- pages: operator console
    console("GET", "operator/appeals/<id:appeal_id>/", 200),
    console("POST", "operator/appeals/<id:appeal_id>/messages/", 302, data={"body": "Ответ"}),
    console("POST", "operator/appeals/<id:appeal_id>/take/", 302),
    console("POST", "operator/appeals/<id:appeal_id>/hand-over/", 302, data={"to": ""}),
    console("POST", "operator/appeals/<id:appeal_id>/close/", 302),
    console("POST", "operator/callbacks/<id:callback_id>/done/", 302),
    # ---------------------------------------------------------------- pages: notices
    page("POST", "info/notifications/<id:notification_id>/read/", 302),
    # ---------------------------------------------------------------- pages: payments and cards
    page("GET", "pay/result/<id:payment_id>/", 200),
    page("GET", "payments/<id:payment_id>/", 200),
    page("GET", "payments/<id:payment_id>/receipt.pdf", 200),
    page("GET", "cards/check/<id:payment_id>/", 200, ids={"payment_id": "card_check_id"}),
    page("POST", "cards/<id:card_id>/rename/", 302, data={"title": "Зарплатная"}),
    page("POST", "cards/<id:card_id>/delete/", 302),
]

# Routes with a path parameter that is not a customer's object, each with the reason.
NOT_APPLICABLE: dict[str, str] = {
    r"^admin/": "Django admin: staff only (is_staff + model permissions), see test_roles.py",
    r"^captcha/": "captcha images and sounds: the key is a random challenge, not an object",
    r"^sandbox-acquirer/": (
        "the built-in test bank (off in production): its ids are random tokens it issued"
    ),
    r"^profile/contact/<str:kind>/$": "kind is «phone» or «email», the signed-in user's own",
    r"news/<id:news_id>": "company news: public to every signed-in customer of its cities",
    r"outages/<id:outage_id>": (
        "published outages are public notices (the utility's site shows them), not a customer's"
    ),
    r"^\^media/": "public media (news pictures): public by design, no customer data",
    r"^api/v1/payments/webhooks/<gateway>$": (
        "acquirer notifications: signed (sandbox) or IP-allow-listed and re-fetched "
        "(YooKassa), see abonent/payments/tests/test_faults.py"
    ),
    r"ws/appeals/": (
        "WebSocket: anonymous, another customer and an unknown appeal are refused in "
        "abonent/appeals/tests/test_websocket.py"
    ),
}


# ---------------------------------------------------------------- routes from the URL config


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _api_methods() -> dict[str, set[str]]:
    """Ninja's operations: Django route → HTTP methods (one Django pattern serves them all)."""
    from abonent.api import api as ninja_api

    methods: dict[str, set[str]] = {}
    for prefix, router in ninja_api._routers:
        for path, view in router.path_operations.items():
            route = "api/v1/" + (prefix.strip("/") + "/" + path.lstrip("/")).strip("/")
            route = re.sub(
                r"\{(?:(\w+):)?(\w+)\}", lambda m: f"<{m[1] + ':' if m[1] else ''}{m[2]}>", route
            )
            for operation in view.operations:
                methods.setdefault(route, set()).update(m.upper() for m in operation.methods)
    return methods


def routes_with_ids() -> list[str]:
    """Every route with a path parameter, as "METHOD route" for the API and "* route" for pages
    (a page may answer several methods; one row for any of them is enough)."""
    from config.routing import websocket_urlpatterns

    api_methods = _api_methods()
    found: set[str] = set()
    for route, _pattern in _walk(get_resolver().url_patterns):
        if "<" not in route and "(?P<" not in route:
            continue
        if route in api_methods:
            found.update(f"{m} {route}" for m in api_methods[route])
        else:
            found.add(f"* {route}")
    for pattern in websocket_urlpatterns:
        if "<" in str(pattern.pattern):
            found.add(f"WS {pattern.pattern}")
    return sorted(found)


def _not_applicable(key: str) -> bool:
    route = key.split(" ", 1)[1]
    return any(re.search(rule, route) for rule in NOT_APPLICABLE)


def test_every_route_with_an_id_has_a_row() -> None:
    rows = {row.key for row in MATRIX}
    pages_with_rows = {row.route for row in MATRIX}
    missing = []
    for key in routes_with_ids():
        method, route = key.split(" ", 1)
        if _not_applicable(key):
            continue
        if method == "*" and route in pages_with_rows:
            continue
        if key not in rows:
            missing.append(key)
    assert missing == [], "add a row to MATRIX (or a reason to NOT_APPLICABLE) for each"
    stats.COUNTS["matrix_routes"] = len(MATRIX)


def test_every_row_is_a_real_route() -> None:
    """A row for a route that no longer exists would pass for the wrong reason."""
    existing = set(routes_with_ids())
    pages = {key.split(" ", 1)[1] for key in existing if key.startswith("* ")}
    stale = [row.key for row in MATRIX if row.key not in existing and row.route not in pages]
    assert stale == []


def test_every_not_applicable_reason_still_matches_a_route() -> None:
    routes = [key.split(" ", 1)[1] for key in routes_with_ids()]
    unused = [rule for rule in NOT_APPLICABLE if not any(re.search(rule, r) for r in routes)]
    assert unused == []


# ---------------------------------------------------------------- the requests


MISSING_ID = 987654321


def _path(row: Row, world: World | None) -> str:
    """The row's path for the owner's objects (or, without a world, for ids that exist not)."""

    def fill(match: re.Match[str]) -> str:
        if world is None:
            return str(MISSING_ID)
        name = match.group(2)
        return str(world.owner.ids[row.ids.get(name, name)])

    path = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, row.route)
    return f"{path}?{row.query}" if row.query else path


def _send(client: Client, row: Row, path: str, headers: dict[str, str] | None = None) -> Any:
    kwargs: dict[str, Any] = {"headers": headers or {}}
    method = row.method.lower()
    if row.method == "GET":
        return client.get(path, **kwargs)
    if row.route.startswith("api/") and not row.multipart:
        kwargs["content_type"] = "application/json"
        return getattr(client, method)(path, row.data or {}, **kwargs)
    return getattr(client, method)(path, row.data or {}, **kwargs)


def _fingerprint() -> dict[str, Any]:
    """What a request that must change nothing could change: rows and their states."""
    from abonent.accounts.models import AccountLink
    from abonent.appeals.models import Appeal, CallbackRequest, Message
    from abonent.identity.models import Device, User
    from abonent.meters.models import Reading
    from abonent.payments.models import Payment, SavedCard

    return {
        "links": sorted(AccountLink.objects.values_list("user_id", "account_id", "label")),
        "cards": sorted(SavedCard.objects.values_list("pk", "title", "deleted_at")),
        "appeals": sorted(Appeal.objects.values_list("pk", "status", "assignee_id", "rating")),
        "messages": Message.objects.count(),
        "callbacks": sorted(CallbackRequest.objects.values_list("pk", "status")),
        "devices": sorted(Device.objects.values_list("pk", "revoked_at")),
        "readings": Reading.objects.count(),
        "payments": sorted(Payment.objects.values_list("pk", "status")),
        "users": sorted(User.objects.values_list("pk", "first_name", "is_active")),
    }


def _status_ok(actual: int, expected: int | frozenset[int]) -> bool:
    return actual in expected if isinstance(expected, frozenset) else actual == expected


@pytest.mark.parametrize("row", MATRIX, ids=[row.key for row in MATRIX])
def test_access(row: Row, world: World) -> None:
    path = _path(row, world)
    is_api = row.route.startswith("api/")

    # given the owner's object; when an anonymous visitor and another customer ask for it
    # (and, for comparison, another customer for an object that does not exist)
    before = _fingerprint()
    anonymous = _send(Client(), row, path)
    if is_api:
        other = _send(Client(), row, path, headers=world.other.auth)
        missing = _send(Client(), row, _path(row, None), headers=world.other.auth)
    else:
        client = Client()
        client.force_login(world.other.user)
        other = _send(client, row, path)
        missing = _send(client, row, _path(row, None))
    # then they get nothing, learn nothing, change nothing
    assert anonymous.status_code == row.anonymous, (path, anonymous.content[:300])
    if not is_api and row.anonymous == LOGIN:
        assert anonymous["Location"].startswith("/login/"), anonymous["Location"]
    assert other.status_code == row.other, (path, other.content[:300])
    assert missing.status_code == other.status_code  # existence is not given away
    if is_api:
        assert other.json()["code"].endswith("not_found"), other.json()
        assert missing.json()["message"] == other.json()["message"]
    assert _fingerprint() == before

    # and the operator, where the row names one
    if row.operator is not None:
        staff = Client()
        staff.force_login(world.operator)
        response = _send(staff, row, path)
        assert response.status_code == row.operator, (path, response.content[:300])

    # when the owner asks, they get it
    if is_api:
        owner = _send(Client(), row, path, headers=world.owner.auth)
    else:
        client = Client()
        client.force_login(world.owner.user)
        owner = _send(client, row, path)
    assert _status_ok(owner.status_code, row.owner), (path, owner.content[:300])
    stats.COUNTS["matrix_requests"] += 4 + (row.operator is not None)
