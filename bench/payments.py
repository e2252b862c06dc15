"""From the acquirer's notification to the balance updated: p50/p95/p99 with the embedded
job runner (the sandbox acquirer's notification is a Celery job on the SQLite broker).

    uv run python bench/payments.py            # 100 payments
    uv run python bench/payments.py -n 300

Makes a fresh SQLite database with the demo data in a temp dir, starts gunicorn (the web
app, which also serves the sandbox acquirer) and one Celery worker (`--pool=solo`, as
`make run` does) on 127.0.0.1, ports 8200–8299. Each payment: POST /api/v1/payments as the
demo customer, then the card is entered on the sandbox's hosted page; the acquirer marks the
payment succeeded and queues its notification. Measured per payment, from the database:
BankNotification.created_at (the acquirer's notification is born) → the ledger entry's `at`
(our webhook posted the payment: the balance changed). Traffic only goes to loopback.

Two figures: «sent → balance» starts when the acquirer sends the notification (the delivery
job's start, BankNotification.delivered_at) — the part that is ours: the webhook checks the
signature, settles the payment and posts it to the ledger in the request; «born → balance»
adds the acquirer's own delivery queue (the job on the broker: Redis in production, a SQLite
file polled every second embedded).

`bench/run.py` runs it on the production layout: `--site` (a running gunicorn whose Celery
worker uses Redis) and `--database-url` (its PostgreSQL); then nothing is started here.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from run import git_commit, percentile, stop_server, wait_ready  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    import socket

    for port in range(8200, 8300):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8200–8299")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100, help="payments (100)")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--site", default="", help="a running server (http://127.0.0.1:PORT)")
    parser.add_argument("--database-url", default="", help="its PostgreSQL database")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    if args.site:
        since = datetime.now(tz=UTC)
        run(args.site, args.n)
        rows, undelivered = pg_rows(args.database_url, since)
        return report(args, rows, undelivered, layout="gunicorn + Celery on Redis, PostgreSQL")
    with tempfile.TemporaryDirectory(prefix="abonent-paybench-") as tmp:
        db = Path(tmp) / "bench.sqlite3"
        port = free_port()
        site = f"http://127.0.0.1:{port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"ABONENT_TESTING", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_ENV"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=f"sqlite:///{db}",
            CELERY_BROKER_URL=f"sqla+sqlite:///{Path(tmp) / 'broker.sqlite3'}",
            ABONENT_SITE_URL=site,
            DJANGO_DEBUG="false",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        print(f"preparing a SQLite database with demo data in {tmp} …", flush=True)
        for cmd in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *cmd], cwd=ROOT, env=env, check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b",
             f"127.0.0.1:{port}", "-w", "2", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        jobs = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        try:
            wait_ready(port, web)
            time.sleep(3)  # the worker connects to the broker
            run(site, args.n)
        finally:
            stop_server(jobs)
            stop_server(web)
        con = sqlite3.connect(db)
        rows = con.execute(
            """SELECT n.created_at, n.delivered_at, MIN(l.at) FROM sandbox_bank_banknotification n
               JOIN sandbox_bank_bankpayment b ON b.id = n.payment_id
               JOIN json_each(b.metadata) m ON m.key = 'abonent_payment_id'
               JOIN billing_ledgerentry l ON l.source_ref LIKE 'payment:' || m.value || ':%'
               WHERE n.kind = 'payment.succeeded' GROUP BY n.id"""
        ).fetchall()
        undelivered = con.execute(
            "SELECT COUNT(*) FROM sandbox_bank_banknotification WHERE delivered_at IS NULL"
        ).fetchone()[0]
    parsed = [tuple(datetime.fromisoformat(x) if x else None for x in row) for row in rows]
    return report(args, parsed, undelivered, layout="gunicorn + solo Celery worker, SQLite")


def pg_rows(database_url: str, since: datetime) -> tuple[list[tuple[Any, ...]], int]:
    import psycopg

    with psycopg.connect(database_url) as con:
        rows = con.execute(
            """SELECT n.created_at, n.delivered_at, MIN(l.at) FROM sandbox_bank_banknotification n
               JOIN sandbox_bank_bankpayment b ON b.id = n.payment_id
               JOIN billing_ledgerentry l
                 ON l.source_ref LIKE 'payment:' || (b.metadata->>'abonent_payment_id') || ':%%'
               WHERE n.kind = 'payment.succeeded' AND n.created_at >= %s
               GROUP BY n.id, n.created_at, n.delivered_at""",
            [since],
        ).fetchall()
        undelivered = con.execute(
            "SELECT COUNT(*) FROM sandbox_bank_banknotification"
            " WHERE delivered_at IS NULL AND created_at >= %s",
            [since],
        ).fetchone()
    return rows, int(undelivered[0] if undelivered else 0)


def figures(lat: list[float]) -> dict[str, float]:
    lat = sorted(lat)
    return {
        "p50_ms": round(percentile(lat, 50), 1),
        "p95_ms": round(percentile(lat, 95), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(lat[-1], 1),
        "mean_ms": round(statistics.fmean(lat), 1),
    }


def report(
    args: argparse.Namespace, rows: list[tuple[Any, ...]], undelivered: int, layout: str
) -> int:
    born = [(c - a).total_seconds() * 1000 for a, _b, c in rows]
    sent = [(c - b).total_seconds() * 1000 for _a, b, c in rows if b is not None]
    if not born:
        print("no payment reached the ledger", file=sys.stderr)
        return 1
    result: dict[str, Any] = {
        "payments": args.n,
        "posted": len(born),
        "undelivered_notifications": undelivered,
        "layout": layout,
        **figures(born),
        "sent_to_balance": figures(sent) if sent else {},
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    lat = born
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"{datetime.now(tz=UTC).date().isoformat()}-payments.json"
        saved = {
            "at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "commit": git_commit(),
            "cores": os.cpu_count(),
            "load_average_at_end": round(os.getloadavg()[0], 2),
            "result": result,
        }
        out.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"written {out.relative_to(ROOT)}")
    return 0 if len(lat) == args.n else 1


def run(site: str, n: int) -> None:
    with httpx.Client(base_url=site, timeout=30) as client:
        login = client.post(
            "/api/v1/auth/login",
            json={
                "login": "+79000000001",
                "password": "demo-pass-2026",
                "client": "app",
                "device_name": "bench",
            },
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        accounts = client.get("/api/v1/accounts", headers=headers).json()["items"]
        account = accounts[0]
        service = account["services"][0]["service_id"]
        bank = httpx.Client(timeout=30)
        started = time.monotonic()
        for i in range(n):
            payment = client.post(
                "/api/v1/payments",
                headers=headers,
                json={"lines": [{"account_id": account["id"], "service_id": service,
                                 "amount": "1.00"}],
                      "consent": True, "idempotency_key": f"bench-{i:06d}-{started:.0f}"},
            ).json()  # fmt: skip
            url = payment["confirmation_url"]
            answer = bank.post(url, data={"number": "2200000000000004", "expiry": "12/30",
                                          "cvc": "123"})  # fmt: skip
            if answer.status_code != 302:
                raise SystemExit(f"the bank page answered {answer.status_code}")
        deadline = time.monotonic() + 60
        last = ""
        while time.monotonic() < deadline:
            done = 0
            for offset in range(0, n + 100, 100):  # the API pages by 100 at most
                page = client.get(
                    f"/api/v1/payments?limit=100&offset={offset}", headers=headers
                ).json()
                done += sum(1 for p in page["items"] if p["amount"] == "1.00" and
                            p["status"] == "succeeded")  # fmt: skip
                if len(page["items"]) < 100:
                    break
            last = f"{done} succeeded"
            if done >= n:
                break
            time.sleep(0.5)
        bank.close()
        print(f"{n} payments in {time.monotonic() - started:.1f} s ({last})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
