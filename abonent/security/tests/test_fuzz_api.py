"""API fuzzing: schemathesis generates requests for every operation of the live OpenAPI schema
(/api/v1/openapi.json, served by this Django through WSGI in-process), positive and negative
data, signed in as a customer whose ЛС, bills, meters, payments, cards and appeals exist, so
ids in paths resolve about half the time.

Every response must: not be a 5xx; have a status, content type, headers and body the schema
documents; reject negative data with a 4xx; and every 4xx under /api/ must be the documented
error shape {"code", "message", "fields"}.

Profiles (ABONENT_FUZZ): `ci` (default, in `make test`: a few thousand requests) and `long`
(`make fuzz`: about five times as many). The count is printed at the end of the run.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import hypothesis
import schemathesis
from django.core.cache import cache
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from abonent.core import clock
from abonent.identity import services as identity_services
from abonent.payments.tests.conftest import InProcessApp
from abonent.security.tests import stats
from abonent.security.tests.world import World

PROFILES = {
    # examples per operation (hypothesis max_examples for the fuzzing phase); the coverage and
    # examples phases add their own deterministic cases on top.
    "ci": 25,
    "long": 250,
}
PROFILE = os.environ.get("ABONENT_FUZZ", "ci")
MAX_EXAMPLES = PROFILES[PROFILE]
# Path parameters that name an object: a positive case takes the owner's real id half the time.
REAL_IDS = (
    "account_id",
    "bill_id",
    "meter_id",
    "appeal_id",
    "attachment_id",
    "card_id",
    "payment_id",
    "device_id",
)
GATEWAYS = ("sandbox", "yookassa")

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": int(os.environ.get("ABONENT_FUZZ_SEED", "20261124")),
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "database": "none",
            # The test signs every request in as the owner (below); wrong and missing tokens
            # are what the «ignored_auth» check sends.
            "with-security-parameters": False,
        },
        "checks": {
            # A bad Bearer token must be refused; the «ignored_auth» check re-sends without it.
            "ignored_auth": {"enabled": True},
            # A valid-by-schema body may still break a domain rule (a 409/422 with a reason):
            # that is a documented rejection, not a failure to accept.
            "positive_data_acceptance": {"enabled": False},
        },
        "phases": {"stateful": {"enabled": False}},
    }
)


# ---------------------------------------------------------------- the app and the schema


class CountingApp(InProcessApp):
    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stats.COUNTS["fuzz_requests"] += 1
        # Rate limits and lockouts count in the cache: the fuzzer should reach the code
        # behind them (the limits themselves are tested in test_abuse.py).
        cache.clear()
        status: list[str] = []

        def recording_start_response(code: str, headers: Any, *args: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *args)

        body = super().__call__(environ, recording_start_response)
        if status and status[0].startswith("5"):
            stats.COUNTS["fuzz_5xx"] += 1
        return body


# Loaded through the app at import: the very document /api/v1/openapi.json serves.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", CountingApp(), config=CONFIG)


def _owner_token(world: World) -> str:
    """The owner's bearer token; after a fuzzed logout or device revoke, a fresh one."""
    token = world.owner.token
    if identity_services.device_by_token(token=token, now=clock.now()) is None:
        _, world.owner.token = identity_services.device_open_app(
            user=world.owner.user, name="fuzz", ip=None, user_agent="", now=clock.now()
        )
    return world.owner.token


def _use_real_ids(case: Any, world: World) -> None:
    """Half of the cases with valid path parameters get the owner's real ids (chosen by a
    checksum of the generated value, so a run is reproducible from its seed)."""
    meta = case.meta
    path = meta.components.get(ParameterLocation.PATH) if meta is not None else None
    if not case.path_parameters or (path is not None and path.mode.is_negative):
        return
    params = dict(case.path_parameters)
    if zlib.crc32(repr(sorted(params.items())).encode()) % 2:
        return
    for name in params:
        if name in REAL_IDS:
            params[name] = world.owner.ids[name]
        elif name == "gateway":
            params[name] = GATEWAYS[0]
    case.path_parameters = params


# ---------------------------------------------------------------- extra check: the error shape


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx of the API is {"code": str, "message": str, "fields": {str: [str]}} (a code may
    add keys: 409 `confirmation_required` lists `warnings`, decision 0005)."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    shaped = (
        isinstance(body, dict)
        and {"code", "message", "fields"} <= set(body)
        and isinstance(body["code"], str)
        and bool(body["code"])
        and isinstance(body["message"], str)
        and bool(body["message"])
        and isinstance(body["fields"], dict)
        and all(
            isinstance(v, list) and all(isinstance(m, str) for m in v)
            for v in body["fields"].values()
        )
    )
    assert shaped, f"{response.status_code} without the error shape: {response.text[:300]!r}"
    return True


# ---------------------------------------------------------------- the test


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_api_fuzz(case: Any, world: World) -> None:
    _use_real_ids(case, world)
    auth = {"Authorization": f"Bearer {_owner_token(world)}"}
    case.call_and_validate(headers=auth, additional_checks=[error_shape])


def test_modes_cover_both() -> None:
    assert set(CONFIG.projects.get_default().generation.modes) == {
        GenerationMode.POSITIVE,
        GenerationMode.NEGATIVE,
    }
