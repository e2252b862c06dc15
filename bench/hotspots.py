"""Where a request's time goes: cProfile over N in-process requests (Django's test client).

    DATABASE_URL=… uv run python bench/hotspots.py /healthz
    DATABASE_URL=… uv run python bench/hotspots.py /api/v1/accounts --phone +79560000003 -n 300
    DATABASE_URL=… uv run python bench/hotspots.py --reading -n 200   # a reading submission

Runs against the database in DATABASE_URL (e.g. one `bench/run.py` left, or a copy of the
demo data) with DEBUG off; signs in as --phone with a fresh device token (Bearer). Prints the
mean time per request, queries per request, and the top functions by own time and by
cumulative time. py-spy and pyinstrument are not dependencies: cProfile is in the standard
library. Not a test, writes nothing but the readings it submits.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from abonent.core import clock  # noqa: E402
from abonent.identity.models import User  # noqa: E402
from abonent.identity.services.devices import device_open_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="/healthz")
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--phone", default="+79000000001")
    parser.add_argument("--reading", action="store_true", help="POST a reading to a meter")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    user = User.objects.get(phone=args.phone)
    _device, token = device_open_app(
        user=user, name="hotspots", ip="127.0.0.1", user_agent="bench", now=clock.now()
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="application/json")
    value = [0.0]

    if args.reading:
        account = user.account_links.order_by("id").first()
        assert account is not None, "the user has no ЛС"
        meters = client.get(f"/api/v1/accounts/{account.account_id}/meters").json()["items"]
        meter = meters[0]
        value[0] = float(meter["scales"][0]["last_value"] or 0) + 1
        path = f"/api/v1/meters/{meter['id']}/readings"

        def call() -> int:
            value[0] += 0.001
            body = {"values": [{"scale": 1, "value": f"{value[0]:.3f}"}]}
            return client.post(path, body, content_type="application/json").status_code
    else:
        path = args.path

        def call() -> int:
            return client.get(path).status_code

    for _ in range(10):  # warm: imports, caches, connection
        status = call()
    with CaptureQueriesContext(connection) as ctx:
        status = call()
    queries = [q["sql"] for q in ctx.captured_queries]  # before the next request clears them
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.n):
        call()
    plain = (time.perf_counter() - started) / args.n * 1000
    cpu_ms = (time.process_time() - cpu) / args.n * 1000
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.n):
        call()
    profiler.disable()
    took = (time.perf_counter() - started) / args.n * 1000
    print(f"{path}: HTTP {status}, {cpu_ms:.2f} ms CPU per request, {plain:.2f} ms wall "
          f"(a busy machine stretches wall time), {took:.2f} ms profiled, "
          f"{len(queries)} queries")  # fmt: skip
    for sql in queries:
        print("   ", sql[:160])
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
