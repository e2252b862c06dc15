"""Locust scenario of the reading-day peak: sign in → open meters → submit.

Run by `bench/readings.py` (which prepares the users file and the server); by hand:

    BENCH_USERS=/tmp/users.json uv run --frozen --no-sync locust \
        -f bench/locustfile_readings.py --headless -u 60 -r 30 -t 60s --host http://127.0.0.1:8160

Each simulated customer takes one prepared bench customer (ЛС with two hot-water meters).
Most come back with their device token; a share (BENCH_FRESH_SHARE, default 0.03) signs in
with the password first (Argon2: deliberately slow). Then: GET /accounts/{id}/meters, POST a
reading for each meter (1–4 above last month's, or a hair above this month's when it is there
already: no confirmation is asked however many runs reuse the customers), think 1 s.
`BENCH_MODE=healthz` hits /healthz only (the bare JSON view, for comparison).
"""

from __future__ import annotations

import json
import os
import random
from itertools import count
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, constant, task

USERS: list[dict[str, Any]] = (
    json.loads(Path(os.environ["BENCH_USERS"]).read_text(encoding="utf-8"))
    if os.environ.get("BENCH_USERS")
    else []
)
FRESH_SHARE = float(os.environ.get("BENCH_FRESH_SHARE", "0.03"))
MODE = os.environ.get("BENCH_MODE", "readings")
PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-pass-2026")
_next = count()


class Customer(FastHttpUser):
    # A customer thinks between pages; the /healthz comparison runs flat out.
    wait_time = constant(0) if MODE == "healthz" else between(0.5, 1.5)

    def on_start(self) -> None:
        self.me = USERS[next(_next) % len(USERS)] if USERS else {}
        self.token = self.me.get("token", "")
        self.base: dict[int, float] = {}

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @task
    def visit(self) -> None:
        if MODE == "healthz":
            self.client.get("/healthz", name="/healthz")
            return
        if random.random() < FRESH_SHARE:
            with self.client.post(
                "/api/v1/auth/login",
                json={
                    "login": self.me["phone"],
                    "password": PASSWORD,
                    "client": "app",
                    "device_name": "locust",
                },
                name="POST /auth/login (fresh sign-in)",
                catch_response=True,
            ) as response:
                if response.status_code == 200:
                    self.token = response.json()["token"]
                    response.success()
                else:
                    response.failure(f"{response.status_code}")
                    return
        with self.client.get(
            f"/api/v1/accounts/{self.me['account_id']}/meters",
            headers=self._headers(),
            name="GET /accounts/{id}/meters",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return
            items = response.json()["items"]
            response.success()
        for item in items:
            scale = item["scales"][0]
            last = self.base.get(item["id"], float(scale["last_value"] or 0))
            # A month's consumption stays near the meter's average (3 a month), so no check
            # asks for a confirmation: 1–4 above last month's reading; when this period's
            # reading is there already (a correction, or a later run), a hair above it.
            step = random.uniform(0.001, 0.01) if scale["submitted"] else random.uniform(1.0, 4.0)
            value = last + step
            self.base[item["id"]] = value
            with self.client.post(
                f"/api/v1/meters/{item['id']}/readings",
                json={"values": [{"scale": 1, "value": f"{value:.3f}"}]},
                headers=self._headers(),
                name="POST /meters/{id}/readings",
                catch_response=True,
            ) as response:
                if response.status_code in (200, 201):
                    response.success()
                else:
                    response.failure(f"{response.status_code} {response.text[:120]}")
