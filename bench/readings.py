"""The reading-day peak against PostgreSQL: gunicorn + persistent connections, Locust load.

    uv run --frozen --no-sync python bench/readings.py --database-url postgres://…/abonent_bench
    uv run --frozen --no-sync python bench/readings.py --start-postgres --pg-port 8150   # root

1. prepares the database (migrate, seed_demo, N bench customers: ЛС with two hot-water
   meters, 12 months of readings, a device token each; one shared password hash);
2. starts gunicorn (`config.wsgi`, --workers, DB_CONN_MAX_AGE=600) on 127.0.0.1:--port;
3. runs Locust as its own process (gevent must patch before anything imports ssl) for
   --duration seconds: sign in (a share fresh, with the password) → open meters → submit;
4. runs /healthz with the same number of users for --healthz-duration seconds (the bare
   JSON view on the same server in the same run, to judge how busy the machine is);
5. prints submissions/s, p50/p95/p99, errors, and the /healthz rate; writes
   bench/results/readings-<date>.json. Loopback only; everything it starts is stopped.

The sign-in rate limit per IP (AUTH_RATE_PER_IP) is lifted for the server it starts: every
simulated customer comes from 127.0.0.1, while real ones come from many addresses.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-pass-2026"
PREPARE = r"""
import json, os
from datetime import date, timedelta
from decimal import Decimal
from django.contrib.auth.hashers import make_password
from django.db import transaction
from abonent.accounts.models import AccountLink, AccountService, Address, Branch, PersonalAccount
from abonent.billing.models import Service
from abonent.core import clock
from abonent.identity.models import User
from abonent.identity.services.devices import device_open_app
from abonent.meters.models import Meter, Reading

n, password, out = int(os.environ["BENCH_N"]), os.environ["BENCH_PASSWORD"], os.environ["BENCH_OUT"]
now = clock.now()
branch = Branch.objects.get(code="krasnoyarsk")
water = Service.objects.get(code="hot-water")
hashed = make_password(password)
users = []
first = date(now.year, now.month, 1)
months = []
for k in range(12, 0, -1):
    i = first.year * 12 + first.month - 1 - k
    months.append(date(i // 12, i % 12 + 1, 1))
with transaction.atomic():
    for i in range(n):
        phone = f"+7955{i:07d}"
        user, created = User.objects.get_or_create(
            phone=phone, defaults={"first_name": "Бенч", "password": hashed,
                                   "consent_version": "2026-11-01", "consent_at": now})
        number = f"99{i:010d}"
        account = PersonalAccount.objects.filter(branch=branch, number=number).first()
        if account is None:
            address = Address.objects.create(branch=branch, settlement="Красноярск",
                                             street="ул. Нагрузочная", house=str(i // 100 + 1),
                                             flat=str(i % 100 + 1))
            account = PersonalAccount.objects.create(branch=branch, number=number,
                address=address, owner_name="Бенч Тест", area=Decimal("45"), residents=2)
            AccountService.objects.create(account=account, service=water, valid_from=months[0])
            AccountLink.objects.create(user=user, account=account, created_at=now)
            rows = []
            for serial in ("A", "B"):
                meter = Meter.objects.create(account=account, service=water,
                    serial=f"Б-{i}-{serial}", installed_date=date(2022, 1, 1),
                    next_verification_date=date(2031, 1, 1))
                value = Decimal(100 + i % 400)
                for month in months:
                    value += Decimal("3.000")
                    rows.append(Reading(meter=meter, scale=1, value=value, month=month,
                        taken_at=now - timedelta(days=40), source="web",
                        consumption=Decimal("3.000")))
            Reading.objects.bulk_create(rows)
        _device, token = device_open_app(user=user, name="bench", ip="127.0.0.1",
                                         user_agent="bench", now=now)
        users.append({"phone": phone, "token": token, "account_id": account.pk})
Path = __import__("pathlib").Path
Path(out).write_text(json.dumps(users))
print(f"{len(users)} bench customers ready")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_postgres(work: Path, port: int) -> tuple[str, Callable[[], None]]:
    """A throw-away cluster like .ci/run makes (root: runs as the postgres user)."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data, sock = work / "pg", work / "pg-socket"
    for d in (data, sock):
        d.mkdir(mode=0o700)
        shutil.chown(d, "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *as_pg,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    opts = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c max_connections=100 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    subprocess.run(
        [
            *as_pg,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(work / "pg.log"),
            "-w",
            "-o",
            opts,
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    psql = [
        *as_pg,
        str(bindir / "psql"),
        "-h",
        str(sock),
        "-p",
        str(port),
        "-U",
        "postgres",
        "-qAt",
        "-c",
    ]
    subprocess.run([*psql, "CREATE ROLE bench LOGIN PASSWORD 'bench-pg'"], check=True)
    subprocess.run([*psql, "CREATE DATABASE abonent_bench OWNER bench"], check=True)

    def stop() -> None:
        subprocess.run(
            [*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
        )

    return f"postgres://bench:bench-pg@127.0.0.1:{port}/abonent_bench", stop


def server_env(database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ABONENT_TESTING", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_ENV"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        DB_CONN_MAX_AGE="600",
        AUTH_RATE_PER_IP="1000000/m",
    )
    return env


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if b" 200 " in s.recv(64):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not start")


def locust(
    args: argparse.Namespace,
    env: dict[str, str],
    csv_prefix: Path,
    duration: int,
    mode: str,
    users: int,
) -> dict[str, dict[str, float]]:
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile_readings.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{duration}s",
        "--host",
        f"http://127.0.0.1:{args.port}",
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--stop-timeout",
        "5",
        "--loglevel",
        "WARNING",
    ]
    subprocess.run(
        cmd, cwd=ROOT, env={**env, "BENCH_MODE": mode}, check=False, stdout=subprocess.DEVNULL
    )
    stats: dict[str, dict[str, float]] = {}
    with open(f"{csv_prefix}_stats.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            stats[row["Name"]] = {
                "requests": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database to fill")
    parser.add_argument("--start-postgres", action="store_true")
    parser.add_argument("--pg-port", type=int, default=8150)
    parser.add_argument("--port", type=int, default=8160, help="gunicorn on 127.0.0.1")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--users", type=int, default=200, help="simultaneous Locust users")
    parser.add_argument("--spawn-rate", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--healthz-duration", type=int, default=20)
    parser.add_argument("--fresh-share", type=float, default=0.03)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="abonent-bench-"))
    stop_pg = None
    server = None
    try:
        if args.start_postgres:
            database_url, stop_pg = start_postgres(work, args.pg_port)
        elif args.database_url:
            database_url = args.database_url
        else:
            raise SystemExit("give --database-url or --start-postgres")
        env = server_env(database_url)
        load = os.getloadavg()
        for cmd in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *cmd],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        users_file = work / "users.json"
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", PREPARE],
            cwd=ROOT,
            check=True,
            env={
                **env,
                "BENCH_N": str(args.customers),
                "BENCH_PASSWORD": PASSWORD,
                "BENCH_OUT": str(users_file),
            },
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "-b",
                f"127.0.0.1:{args.port}",
                "-w",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        wait_ready(args.port, server)
        lenv = {
            **env,
            "BENCH_USERS": str(users_file),
            "BENCH_FRESH_SHARE": str(args.fresh_share),
            "BENCH_PASSWORD": PASSWORD,
        }
        readings = locust(args, lenv, work / "readings", args.duration, "readings", args.users)
        # /healthz flat out (no think time) with fewer users: the server's spare capacity.
        health = locust(
            args, lenv, work / "healthz", args.healthz_duration, "healthz", min(args.users, 32)
        )
        submit = readings.get("POST /meters/{id}/readings", {})
        h = health.get("/healthz", {})
        result: dict[str, object] = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_before": [round(x, 2) for x in load],
            },
            "settings": vars(args) | {"database_url": "postgres://…"},
            "readings": readings,
            "healthz": h,
        }
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"readings-{datetime.now(UTC):%Y-%m-%d}.json"
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(f"\nload average before: {load[0]:.2f} (2 cores shared with other sessions)")
        for name, s in readings.items():
            print(
                f"{name:38} {s['rps']:8.1f}/s  p50 {s['p50']:5.0f}  p95 {s['p95']:5.0f}  "
                f"p99 {s['p99']:5.0f} ms  errors {s['failures']:.0f}/{s['requests']:.0f}"
            )
        print(
            f"{'/healthz (alone, same server)':38} {h.get('rps', 0):8.1f}/s  "
            f"p95 {h.get('p95', 0):5.0f} ms  errors {h.get('failures', 0):.0f}"
        )
        print(f"submissions/s: {submit.get('rps', 0):.1f}; written to {out.relative_to(ROOT)}")
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        if stop_pg is not None:
            stop_pg()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
