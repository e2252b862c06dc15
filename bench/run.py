"""Abonent's benchmark suite: every figure beside the limit of the same machine, in one run.

    make bench                       # the whole suite (≤ 30 min on 2 cores)
    make bench-quick                 # a smoke run: seconds per figure, small data
    uv run python bench/run.py --only healthz accounts      # some figures
    uv run python bench/run.py --quick --sqlite --only healthz   # no PostgreSQL (the test's)

Starts on loopback what it needs (bench/stack.py): a throw-away PostgreSQL (initdb, fsync
off, tuned memory) and Redis on free ports, gunicorn (WSGI, persistent connections) for HTTP
and uvicorn + Channels for /ws/ on ports 8600–8699, a Celery worker on Redis; loads the demo
data (`seed_demo`) and the big data (the billing benchmark's 1M ЛС); runs each figure; writes
bench/results/<date>[-quick].json and .md with SVG charts; stops everything it started.
Sends traffic only to the servers it started; every load is bounded in time.

Figures and the limit measured beside each (see bench/README.md):
healthz (the bare JSON view: the limit itself), accounts, readings, billing, pdf, payments,
chat, notices (the outage fan-out at three sizes: bench/notices.py), servers (gunicorn against
the other servers installed).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

from report import markdown  # noqa: E402
from stack import PG_SETTINGS, Stack, children_peak_rss_mb  # noqa: E402

FIGURES = ["billing", "healthz", "accounts", "readings", "chat", "payments", "notices"]
FIGURES += ["servers", "pdf"]
NEEDS_POSTGRES = {"billing", "readings", "chat", "payments", "notices"}
SUBMIT = "POST /meters/{id}/readings"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""

# Run in `manage.py shell` against the bench database: a customer with 3 ЛС and a device
# token, queries per request of the HTTP figures (Django's test client, in-process), and
# EXPLAIN of every SELECT/UPDATE/DELETE they ran (a sequential scan of a big table is flagged).
PROBE = r"""
import json, os, time
from datetime import timedelta
from decimal import Decimal
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from abonent.accounts.models import AccountLink, AccountService, Address, Branch, PersonalAccount
from abonent.billing.models import Service
from abonent.core import clock
from abonent.identity.models import User
from abonent.identity.services.devices import device_open_app

now = clock.now()
out = {}
user, _ = User.objects.get_or_create(phone="+79560000003", defaults={"first_name": "Три"})
accounts = list(PersonalAccount.objects.filter(links__user__phone="+79000000001").order_by("id"))
branch = Branch.objects.get(code="krasnoyarsk")
while len(accounts) < 3:
    number = f"98{len(accounts):010d}"
    account = PersonalAccount.objects.filter(branch=branch, number=number).first()
    if account is None:
        address = Address.objects.create(branch=branch, settlement="Красноярск",
                                         street="ул. Тройная", house="3", flat=str(len(accounts)))
        account = PersonalAccount.objects.create(branch=branch, number=number, address=address,
            owner_name="Три Счёта", area=Decimal("60"), residents=3)
        for service in Service.objects.all():
            AccountService.objects.create(
                account=account, service=service,
                valid_from=now.date().replace(day=1) - timedelta(days=400))
    accounts.append(account)
for account in accounts[:3]:
    AccountLink.objects.get_or_create(user=user, account=account, defaults={"created_at": now})
_device, token = device_open_app(user=user, name="bench", ip="127.0.0.1", user_agent="bench",
                                 now=now)
out["accounts_token"] = token
out["linked"] = AccountLink.objects.filter(user=user).count()
client = Client()
auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
probes = [("GET /healthz", "get", "/healthz", {}),
          ("GET /accounts", "get", "/api/v1/accounts", auth)]
first = accounts[0].pk
probes += [(f"GET {p}", "get", "/api/v1" + p.replace("{id}", str(first)), auth) for p in (
    "/accounts/{id}", "/accounts/{id}/charges", "/accounts/{id}/bills", "/payments",
    "/appeals")]
users_file = os.environ.get("BENCH_USERS_FILE")
if users_file and os.path.exists(users_file):
    me = json.loads(open(users_file).read())[-1]  # the last: Locust starts at the first
    them = {"HTTP_AUTHORIZATION": f"Bearer {me['token']}"}
    meters_path = f"/api/v1/accounts/{me['account_id']}/meters"
    meters = client.get(meters_path, **them).json()["items"]
    probes.append(("GET /accounts/{id}/meters", "get", meters_path, them))
    value = float(meters[0]["scales"][0]["last_value"] or 0) + 2.5  # then + 0.001 a time
    probes.append(("POST /meters/{id}/readings", "post",
                   f"/api/v1/meters/{meters[0]['id']}/readings",
                   {**them, "data": {"values": [{"scale": 1, "value": f"{value:.3f}"}]},
                    "content_type": "application/json"}))
out["queries"] = {}
statements = []
for name, method, path, kwargs in probes:
    kwargs = dict(kwargs)
    getattr(client, method)(path, **kwargs)  # warm: caches, sessions
    if method == "post":
        value += 0.001
        kwargs["data"] = {"values": [{"scale": 1, "value": f"{value:.3f}"}]}
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(path, **kwargs)
    statements += [(name, q["sql"]) for q in ctx.captured_queries]
    count = len(ctx.captured_queries)  # now: each request clears Django's query log
    # Django's own CPU per request (the database works in its own process): steadier than
    # wall time on a shared machine.
    n = 30 if os.environ.get("BENCH_QUICK") else 200
    started = time.process_time()
    for _ in range(n):
        if method == "post":
            value += 0.001
            kwargs["data"] = {"values": [{"scale": 1, "value": f"{value:.3f}"}]}
        getattr(client, method)(path, **kwargs)
    out["queries"][name] = {"status": response.status_code, "count": count,
                            "cpu_ms": round((time.process_time() - started) / n * 1000, 2)}
explain = []
if connection.vendor == "postgresql":
    sizes = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")
        sizes = {r: t for r, t in cursor.fetchall()}
        seen = set()
        for name, sql in statements:
            head = sql.lstrip().split(" ", 1)[0].upper()
            if head not in ("SELECT", "UPDATE", "DELETE") or sql in seen:
                continue
            seen.add(sql)
            try:
                cursor.execute("EXPLAIN " + sql)
            except Exception as exc:  # e.g. a statement that needs its parameters
                connection.rollback() if not connection.in_atomic_block else None
                continue
            plan = [r[0] for r in cursor.fetchall()]
            big = [line for line in plan if "Seq Scan on" in line
                   and sizes.get(line.split("Seq Scan on ")[1].split()[0], 0) > 10000]
            explain.append({"request": name, "sql": sql[:400],
                            "plan": " / ".join(p.strip() for p in plan[:3]),
                            "seq_scan": bool(big)})
out["explain"] = explain
out["rows"] = {}
if connection.vendor == "postgresql":
    for table in ("accounts_personalaccount", "accounts_accountservice", "meters_meter",
                  "meters_reading", "billing_charge", "billing_ledgerentry", "identity_user"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
            out["rows"][table] = int(row[0]) if row else 0
print("PROBE " + json.dumps(out))
"""


# ---------------------------------------------------------------------- helpers kept for
# bench/payments.py (it imports them from here)
def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return ""


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    from stack import wait_http

    wait_http(port, proc, timeout)


# ---------------------------------------------------------------------- load generators
def _one_request(port: int, request: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(request)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
    except OSError:
        return 0, 0.0
    took = (time.perf_counter() - started) * 1000
    try:
        return int(b"".join(chunks)[:16].split(b" ", 2)[1]), took
    except (IndexError, ValueError):
        return 0, took


def _python_load(
    port: int, path: str, duration: float, connections: int, headers: dict[str, str]
) -> dict[str, Any]:
    """A fallback when wrk is missing: threads in this process, one connection per request."""
    import threading

    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Connection: close\r\n\r\n"
    ).encode()
    stop_at = time.monotonic() + duration
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop() -> None:
        mine, bad = [], 0
        while time.monotonic() < stop_at:
            status, took = _one_request(port, request)
            mine.append(took)
            bad += not 200 <= status < 300
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "rps": round(len(latencies) / duration, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "client": "python",
    }


def http_load(
    port: int,
    path: str,
    duration: float,
    connections: int = 16,
    headers: dict[str, str] | None = None,
    warmup: float = 1.0,
) -> dict[str, Any]:
    """Closed-loop load on one path: wrk when installed (apt-get install wrk), else Python."""
    headers = {"Accept": "application/json", **(headers or {})}
    if not shutil.which("wrk"):
        return _python_load(port, path, duration, connections, headers)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT)
        script = fh.name
    url = f"http://127.0.0.1:{port}{path}"
    threads = str(min(connections, os.cpu_count() or 2))
    head = [x for k, v in headers.items() for x in ("-H", f"{k}: {v}")]
    try:
        if warmup:
            subprocess.run(
                ["wrk", "-t", threads, "-c", str(connections), "-d", f"{max(1, round(warmup))}s",
                 *head, url], check=True, capture_output=True,
            )  # fmt: skip
        out = subprocess.run(
            ["wrk", "-t", threads, "-c", str(connections), "-d", f"{max(1, round(duration))}s",
             "--timeout", "10s", "-s", script, *head, url],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script)
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    requests, micros, p50, p95, p99, sock_errors, status_errors = map(int, line.split()[1:])
    return {
        "requests": requests,
        "errors": sock_errors + status_errors,
        "rps": round(requests / (micros / 1e6), 1),
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
        "client": "wrk",
    }


def paired_load(
    port: int,
    path: str,
    duration: float,
    headers: dict[str, str] | None = None,
    slices: int = 3,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bare view and `path` in alternating slices, so that a change in the machine's load
    during the run moves both alike (their ratio is the figure). Latency percentiles are the
    request-weighted mean of the slices'."""
    parts: dict[str, list[dict[str, Any]]] = {"bare": [], "path": []}
    for i in range(slices):
        warm = 1.0 if i == 0 else 0.0
        parts["bare"].append(http_load(port, "/healthz", duration / slices, warmup=warm))
        parts["path"].append(http_load(port, path, duration / slices, headers=headers, warmup=warm))

    return merge_loads(parts["bare"]), merge_loads(parts["path"])


def merge_loads(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Slices of one load as one figure: mean req/s; percentiles weighted by requests."""
    n = sum(r["requests"] for r in runs) or 1
    out: dict[str, Any] = {
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "rps": round(sum(r["rps"] for r in runs) / len(runs), 1),
        "client": runs[0]["client"],
        "slices": [r["rps"] for r in runs],
    }
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        out[key] = round(sum(r[key] * r["requests"] for r in runs) / n, 2)
    return out


def locust_run(
    env: dict[str, str], port: int, prefix: Path, *, users: int, duration: int, mode: str
) -> tuple[dict[str, dict[str, float]], list[dict[str, float]]]:
    """One headless Locust run of bench/locustfile_readings.py: totals and per-second rows."""
    cmd = [sys.executable, "-m", "locust", "-f", str(BENCH / "locustfile_readings.py"),
           "--headless", "-u", str(users), "-r", str(max(10, users)), "-t", f"{duration}s",
           "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--csv-full-history",
           "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"]  # fmt: skip
    subprocess.run(
        cmd, cwd=ROOT, env={**env, "BENCH_MODE": mode}, check=False,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=duration + 60,
    )  # fmt: skip
    stats: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            stats[row["Name"]] = {
                "requests": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(encoding="utf-8") as f:
            rows = sorted(csv.DictReader(f), key=lambda r: -int(r.get("Occurrences") or 0))
        for row in rows[:5]:
            what = f"{row.get('Method')} {row.get('Name')}: {row.get('Error')}"[:200]
            stats.setdefault("failures", {})[what] = float(row.get("Occurrences") or 0)
    history: list[dict[str, float]] = []
    path = Path(f"{prefix}_stats_history.csv")
    if path.exists():
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["Name"] != (SUBMIT if mode == "readings" else "/healthz"):
                    continue

                def num(key: str, row: dict[str, str] = row) -> float:
                    try:
                        return float(row[key])
                    except (KeyError, ValueError):
                        return float("nan")

                history.append(
                    {"ts": num("Timestamp"), "users": num("User Count"),
                     "rps": num("Requests/s"), "p50_ms": num("50%"), "p95_ms": num("95%")}
                )  # fmt: skip
    return stats, history


# ---------------------------------------------------------------------- the run
class Run:
    def __init__(self, args: argparse.Namespace, stack: Stack, work: Path) -> None:
        self.args = args
        self.quick: bool = args.quick
        self.stack = stack
        self.work = work
        self.figures: dict[str, Any] = {}
        self.table: list[dict[str, Any]] = []
        self.memory: dict[str, Any] = {}
        self.skipped: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.probe: dict[str, Any] = {}
        self.users_file = work / "users.json"

    def seconds(self, full: float, quick: float) -> float:
        if self.args.duration:
            return float(self.args.duration)
        return quick if self.quick else full

    def row(self, name: str, result: str, **kw: Any) -> None:
        self.table.append({"name": name, "result": result, **kw})
        ratio = kw.get("ratio")
        shown = "—" if ratio is None or math.isnan(ratio) else f"{ratio:.0%}"
        met = {True: "met", False: "MISSED", None: ""}[kw.get("met")]
        print(f"  {name}: {result}; limit {kw.get('limit') or '—'}; ratio {shown}; "
              f"goal {kw.get('goal') or '—'} {met}", flush=True)  # fmt: skip

    def script(self, name: str, *args: str, timeout: float = 1800) -> None:
        subprocess.run(
            [sys.executable, str(BENCH / name), *args], cwd=ROOT, env=self.stack.env,
            check=True, timeout=timeout,
        )  # fmt: skip

    # ------------------------------------------------------------------ figures
    def billing(self) -> None:
        sizes = self.args.sizes or ([2_000] if self.quick else [10_000, 100_000, 1_000_000])
        out = self.work / "billing.json"
        self.script("billing.py", "--sizes", *map(str, sizes), "--json", str(out))
        rows = json.loads(out.read_text())
        last = rows[-1]
        self.figures["billing"] = {"sizes": rows}
        ratio = last["bare_s"] / last["run_s"]
        self.row(
            f"billing run, {last['accounts']:,} ЛС × 3",
            short=f"billing {last['accounts'] // 1000:,}k",
            result=f"{last['rows']:,} rows in {last['run_s']:.1f} s = "
            f"{last['rows_per_s']:,} rows/s "
            f"(re-run {last['rerun_s']:.1f} s)",
            limit=f"bare INSERT … SELECT {last['bare_rows_per_s']:,} rows/s; INSERT into "
            f"billing_charge itself {last['rows'] / last['table_s']:,.0f} rows/s",
            ratio=ratio,
            goal="< 60 s at 1M; ≥ 20% of the bare insert",
            met=(last["run_s"] < 60 and ratio >= 0.2) if last["accounts"] >= 1_000_000 else None,
            note=f"of the INSERT into billing_charge itself: {last['table_s'] / last['run_s']:.0%}",
        )
        self.memory["billing run peak RSS (MB) by size"] = ", ".join(
            f"{r['accounts']:,}: {r['peak_rss_mb']}" for r in rows
        )
        if len(rows) >= 2:
            per = [r["run_s"] / r["accounts"] * 1e6 for r in rows]
            self.figures["billing"]["us_per_account"] = [round(p, 1) for p in per]

    def prepare_customers(self) -> None:
        from readings import PASSWORD, PREPARE

        n = 100 if self.quick else self.args.customers
        self.stack.manage(
            "shell", "-c", PREPARE,
            extra_env={"BENCH_N": str(n), "BENCH_PASSWORD": PASSWORD,
                       "BENCH_OUT": str(self.users_file)},
        )  # fmt: skip

    def run_probe(self) -> None:
        extra = {"BENCH_USERS_FILE": str(self.users_file)}
        if self.quick:
            extra["BENCH_QUICK"] = "1"
        out = self.stack.manage("shell", "-c", PROBE, extra_env=extra)
        line = next(x for x in out.splitlines() if x.startswith("PROBE "))
        self.probe = json.loads(line[6:])

    def healthz(self) -> None:
        r = http_load(self.stack.http_port, "/healthz", self.seconds(15, 2))
        self.figures["healthz"] = r
        self.row(
            "bare JSON view (/healthz): the limit",
            f"{r['rps']:,.0f} req/s, p50 {r['p50_ms']:.1f} / p95 {r['p95_ms']:.1f} / "
            f"p99 {r['p99_ms']:.1f} ms, {r['errors']} errors",
        )

    def accounts(self) -> None:
        duration = self.seconds(15, 2)
        auth = {"Authorization": f"Bearer {self.probe['accounts_token']}"}
        bare, r = paired_load(self.stack.http_port, "/api/v1/accounts", 2 * duration, auth)
        queries = self.probe["queries"]["GET /accounts"]["count"]
        self.figures["accounts"] = {**r, "queries": queries, "bare": bare}
        ratio = r["rps"] / bare["rps"] if bare["rps"] else float("nan")
        self.row(
            f"accounts summary GET /accounts ({self.probe['linked']} ЛС)",
            short="GET /accounts",
            result=f"{r['rps']:,.0f} req/s, p50 {r['p50_ms']:.1f} / p95 {r['p95_ms']:.1f} / "
            f"p99 {r['p99_ms']:.1f} ms, {queries} queries, {r['errors']} errors",
            limit=f"bare view {bare['rps']:,.0f} req/s (alternating slices with it)",
            ratio=ratio,
            goal="≥ 40% of the bare view; ≤ 5 queries",
            met=ratio >= 0.4 and queries <= 5 and not r["errors"],
        )

    def readings(self) -> None:
        steps = self.args.steps or ([20] if self.quick else [10, 25, 40, 60, 80, 120])
        duration = int(self.seconds(20, 6))
        port = self.stack.http_port
        from readings import PASSWORD

        env = {**self.stack.env, "BENCH_USERS": str(self.users_file),
               "BENCH_FRESH_SHARE": "0.03", "BENCH_PASSWORD": PASSWORD}  # fmt: skip
        runs, timeline, offset = [], [], 0.0
        for users in steps:
            stats, history = locust_run(
                env, port, self.work / f"readings-{users}", users=users, duration=duration,
                mode="readings",
            )  # fmt: skip
            s = stats.get(SUBMIT, {})
            total = stats.get("Aggregated", {})
            runs.append({"users": users, "submit": s, "all": total, "stats": stats})
            if history:
                t0 = history[0]["ts"]
                timeline += [
                    {"t": offset + h["ts"] - t0, "users": users, "rps": h["rps"],
                     "p50_ms": h["p50_ms"], "p95_ms": h["p95_ms"]}
                    for h in history
                ]  # fmt: skip
                offset = timeline[-1]["t"] + 1
        health, _ = locust_run(
            env, port, self.work / "healthz", users=32, duration=max(5, duration // 2),
            mode="healthz",
        )  # fmt: skip
        bare = health.get("/healthz", {})
        ok = [
            r for r in runs
            if r["submit"].get("p95_ms", 1e9) < 300 and not r["all"].get("failures")
            and r["submit"].get("requests")
        ]  # fmt: skip
        best = max(ok, key=lambda r: r["submit"]["rps"]) if ok else None
        self.figures["readings"] = {"steps": runs, "bare": bare, "timeline": timeline}
        failures = sum(r["all"].get("failures", 0) for r in runs)
        for r in runs:
            for what, count in r["stats"].get("failures", {}).items():
                print(f"    {r['users']} users, {count:.0f}× {what}", flush=True)
        if best is None:
            top = max(runs, key=lambda r: r["submit"].get("rps", 0))
            worst = top["submit"]
            self.row(
                "reading-day journey (Locust)",
                short="reading day (no SLO)",
                result=f"no step held p95 < 300 ms with 0 errors; the most: "
                f"{worst.get('rps', 0):.0f} submissions/s at {top['users']} users, p95 "
                f"{worst.get('p95_ms', 0):.0f} ms; {failures:.0f} failures in all steps",
                limit=f"bare view {bare.get('rps', 0):,.0f} req/s (Locust)",
                ratio=top["all"].get("rps", 0) / bare["rps"] if bare.get("rps") else float("nan"),
                goal="≥ 150 submissions/s at p95 < 300 ms", met=False,
                note="ratio = all requests of the journey per second ÷ bare-view req/s; "
                + "; ".join(
                    f"{r['users']} users: {r['submit'].get('rps', 0):.0f}/s p95 "
                    f"{r['submit'].get('p95_ms', 0):.0f} ms"
                    for r in runs
                ),
            )  # fmt: skip
            return
        s, a = best["submit"], best["all"]
        ratio = a["rps"] / bare["rps"] if bare.get("rps") else float("nan")
        self.row(
            "reading-day journey (Locust)",
            short="reading day",
            result=f"{s['rps']:.0f} submissions/s at {best['users']} users "
            f"(p50 {s['p50_ms']:.0f} / "
            f"p95 {s['p95_ms']:.0f} / p99 {s['p99_ms']:.0f} ms), {a['rps']:.0f} req/s in all, "
            f"0 errors",
            limit=f"bare view {bare.get('rps', 0):,.0f} req/s (Locust, same server)",
            ratio=ratio,
            goal="≥ 150 submissions/s at p95 < 300 ms, 0 errors",
            met=s["rps"] >= 150,
            note="ratio = all requests of the journey (open meters + submissions + sign-ins) "
            "per second ÷ bare-view req/s; "
            + "; ".join(
                f"{r['users']} users: {r['submit'].get('rps', 0):.0f}/s p95 "
                f"{r['submit'].get('p95_ms', 0):.0f} ms"
                for r in runs
            ),
        )

    def chat(self) -> None:
        out = self.work / "chat.json"
        conv, rounds = ("20", "1") if self.quick else ("100", "5")
        self.script(
            "chat.py", "--database-url", self.stack.env["DATABASE_URL"], "--http-port",
            str(self.stack.http_port), "--ws-port", str(self.stack.ws_port), "--conversations",
            conv, "--rounds", rounds, "--concurrency", "4", "--no-save", "--json", str(out),
        )  # fmt: skip
        r = json.loads(out.read_text())["result"]
        self.figures["chat"] = r
        self.row(
            f"chat operator → customer socket, {conv} open threads, 4 answers in flight",
            f"p50 {r['p50_ms']:.0f} / p95 {r['p95_ms']:.0f} / max {r['max_ms']:.0f} ms, "
            f"{r['messages']} messages, {r['errors']} errors",
            goal="p95 < 100 ms",
            met=r["p95_ms"] < 100 and not r["errors"],
            note="POST to gunicorn, socket on uvicorn, Redis channel layer; the POST's own "
            f"answer took p50 {r.get('post_p50_ms', float('nan')):.0f} / p95 "
            f"{r.get('post_p95_ms', float('nan')):.0f} ms",
        )

    def payments(self) -> None:
        out = self.work / "payments.json"
        n = "5" if self.quick else "100"
        self.script(
            "payments.py", "--site", self.stack.env["ABONENT_SITE_URL"], "--database-url",
            self.stack.env["DATABASE_URL"], "-n", n, "--no-save", "--json", str(out),
        )  # fmt: skip
        r = json.loads(out.read_text())
        self.figures["payments"] = r
        sent = r.get("sent_to_balance") or {}
        self.row(
            "payment notification → balance updated",
            f"from the acquirer sending it: p50 {sent.get('p50_ms', float('nan')):.0f} / p99 "
            f"{sent.get('p99_ms', float('nan')):.0f} ms; from its birth (incl. the acquirer's "
            f"queue): p50 {r['p50_ms']:.0f} / p99 {r['p99_ms']:.0f} ms; {r['posted']}/{n} posted",
            goal="p99 < 1 s",
            met=r["p99_ms"] < 1000 and r["posted"] == int(n),
        )

    def notices(self) -> None:
        out = self.work / "notices.json"
        self.script("notices.py", "--json", str(out), *(["--quick"] if self.quick else []))
        r = json.loads(out.read_text()) if out.exists() else {}
        self.figures["notices"] = r
        sizes = r.get("sizes") or []
        if not sizes:
            self.row("outage fan-out", "bench/notices.py wrote no sizes: see its output")
            return
        last = sizes[-1]
        bare = last["bulk_insert_s"]
        self.row(
            f"outage fan-out to {last['recipients']:,} customers",
            short="fan-out",
            result=f"{last['per_s']:,} notices/s, each with its SMS delivery planned "
            f"({last['seconds']:.1f} s)",
            limit=f"bare INSERT of the same rows {last['recipients'] / bare:,.0f} rows/s",
            ratio=bare / last["seconds"],
            goal="< 60 s for 100,000",
            met=last["seconds"] < 60 if last["recipients"] >= 100_000 else None,
            note="by size: "
            + "; ".join(f"{s['recipients']:,}: {s['seconds']:.2f} s" for s in sizes)
            + f"; notifications_create {r.get('create_per_s', 0):,}/s; delivery to the outbox "
            f"channels: SMS {r.get('sms_per_s', 0):,}/s, e-mail {r.get('email_per_s', 0):,}/s, "
            f"Web Push {r.get('push_per_s', 0):,}/s",
        )

    def servers(self) -> None:
        duration = self.seconds(12, 3)
        auth = {"Authorization": f"Bearer {self.probe['accounts_token']}"}
        kinds = ["gunicorn", "uvicorn"]
        if importlib.util.find_spec("granian"):
            kinds.append("granian")
        else:
            self.skipped["granian"] = (
                "granian is not installed (not a dependency); on PyPI: see the report"
            )
        # Every server up at once (idle ones cost nothing), measured in alternating slices:
        # a change in the machine's load moves them alike.
        main_port, site = self.stack.http_port, self.stack.env["ABONENT_SITE_URL"]
        ports = {"gunicorn": main_port}
        slices: dict[str, dict[str, list[dict[str, Any]]]] = {}
        try:
            for kind in kinds[1:]:
                ports[kind] = self.stack.start_web(server=kind, workers=self.args.workers)
                self.stack.http_port, self.stack.env["ABONENT_SITE_URL"] = main_port, site
            time.sleep(3)  # every worker process up, not only the first to answer
            for i in range(3):
                for kind, port in ports.items():
                    for path, head in (("/healthz", {}), ("/api/v1/accounts", auth)):
                        slices.setdefault(kind, {}).setdefault(path, []).append(
                            http_load(port, path, duration / 3, headers=head,
                                      warmup=2.0 if i == 0 else 0.0)
                        )  # fmt: skip
        finally:
            for kind in kinds[1:]:
                self.stack.stop_web(kind)
            self.stack.http_port, self.stack.env["ABONENT_SITE_URL"] = main_port, site
        runs = {
            kind: {path: merge_loads(parts) for path, parts in paths.items()}
            for kind, paths in slices.items()
        }
        self.figures["servers"] = {"runs": runs, "workers": self.args.workers}
        g = runs["gunicorn"]["/api/v1/accounts"]["rps"]
        for kind, r in runs.items():
            if kind == "gunicorn":
                continue
            other = r["/api/v1/accounts"]["rps"]
            self.row(
                f"{kind} against gunicorn ({self.args.workers} workers each)",
                short=f"{kind} vs gunicorn"[:16],
                result=f"/healthz {r['/healthz']['rps']:,.0f} vs "
                f"{runs['gunicorn']['/healthz']['rps']:,.0f} req/s; /accounts {other:,.0f} vs "
                f"{g:,.0f} req/s",
                limit=f"gunicorn /accounts {g:,.0f} req/s",
                ratio=other / g if g else float("nan"),
            )

    def pdf(self) -> None:
        out = self.work / "pdf.json"
        self.script("pdf.py", "-n", "20" if self.quick else "300", "--json", str(out))
        r = json.loads(out.read_text())
        self.figures["pdf"] = r
        self.row(
            "bill PDF (ЕПД with QR), one core, in-process",
            short="bill PDF",
            result=f"{r['bills_per_s']:.0f} bills/s (median {r['bill_ms']:.1f} ms)",
            limit=f"one-line Typst {r['one_line_per_s']:.0f} /s",
            ratio=r["bills_per_s"] / r["one_line_per_s"],
            goal="≥ 50 bills/s per core",
            met=r["bills_per_s"] >= 50,
        )


def machine(load: tuple[float, float, float]) -> dict[str, Any]:
    mem = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem, 1),
        "python": f"Python {platform.python_version()}",
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("django", "gunicorn", "uvicorn", "channels", "celery", "locust", "typst"):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    if shutil.which("wrk"):
        text = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
        out["wrk"] = text.split(" [")[0].replace("wrk ", "")
    return out


def main() -> int:
    cores = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: seconds per figure")
    parser.add_argument("--only", nargs="+", choices=FIGURES, help="these figures only")
    parser.add_argument("--skip", nargs="+", choices=FIGURES, default=[], help="not these")
    parser.add_argument("--sqlite", action="store_true", help="no PostgreSQL/Redis (HTTP only)")
    parser.add_argument("--duration", type=float, help="seconds per HTTP load (15; quick 2)")
    parser.add_argument("--workers", type=int, default=2 * cores + 1, help="web workers")
    parser.add_argument("--customers", type=int, default=500, help="reading-day customers")
    parser.add_argument("--steps", type=int, nargs="+", help="Locust users per reading step")
    parser.add_argument("--sizes", type=int, nargs="+", help="billing run sizes (ЛС)")
    parser.add_argument("--accounts", type=int, default=0, help="seed_demo --accounts N")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write")
    parser.add_argument("--no-save", action="store_true", help="write nothing")
    args = parser.parse_args()

    wanted = [f for f in FIGURES if f in (args.only or FIGURES) and f not in args.skip]
    started = time.monotonic()
    load = os.getloadavg()
    if load[0] > 0.5 * cores:
        print(f"note: the machine is busy (load average {load[0]:.2f}): judge the ratios")
    work = Path(tempfile.mkdtemp(prefix="abonent-bench-"))
    stack = Stack(work, sqlite=args.sqlite)
    run = Run(args, stack, work)
    if args.sqlite:
        for name in [f for f in wanted if f in NEEDS_POSTGRES]:
            run.skipped[name] = "needs PostgreSQL and Redis (run without --sqlite)"
        wanted = [f for f in wanted if f not in NEEDS_POSTGRES]

    def step(name: str, fn: Callable[[], object]) -> None:
        print(f"[bench {time.monotonic() - started:6.0f}s] {name}", flush=True)
        try:
            fn()
        except Exception as exc:  # one figure failing must not lose the others
            run.errors[name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()

    layout = "SQLite (no PostgreSQL/Redis): a smoke run only"
    try:
        if args.sqlite:
            stack.use_sqlite()
        else:
            step("PostgreSQL and Redis", lambda: (stack.start_postgres(), stack.start_redis()))
            if run.errors:
                raise SystemExit(f"could not start the databases: {run.errors}")
        needs_data = set(wanted) - {"healthz", "pdf"}
        if needs_data or not args.sqlite:  # the bare view needs no tables (the smoke test)
            step("migrate", lambda: stack.manage("migrate", "--no-input", "-v", "0"))
        if needs_data:
            step("seed_demo", lambda: stack.manage("seed_demo"))
        if "billing" in wanted:
            step("billing run (bench/billing.py)", run.billing)
        if args.accounts:
            step(f"seed_demo --accounts {args.accounts}",
                 lambda: stack.manage("seed_demo", "--accounts", str(args.accounts)))  # fmt: skip
        http = [f for f in wanted if f not in {"billing", "pdf"}]
        if http:
            if {"readings", "accounts"} & set(wanted) and not args.sqlite:
                step("reading-day customers", run.prepare_customers)
            if needs_data:
                step("probe: queries per request, EXPLAIN", run.run_probe)
            stack.start_web(workers=args.workers)
            layout = f"gunicorn ({args.workers} sync workers, persistent DB connections)"
            if not args.sqlite:
                stack.start_ws()
                stack.start_worker()
                layout += ", uvicorn + Channels for /ws/, Celery worker (2), Redis, PostgreSQL"
            for name in ("healthz", "accounts", "readings", "chat", "payments", "notices"):
                if name in wanted:
                    step(name, getattr(run, name))
            web = stack.procs.get("web-gunicorn")
            if web is not None:
                peaks = children_peak_rss_mb(web.pid)
                if peaks:
                    run.memory["web worker peak RSS under load (MB), each"] = ", ".join(
                        f"{p:.0f}" for p in peaks
                    )
                    run.memory["web worker peak RSS, max (MB)"] = max(peaks)
            if "servers" in wanted and run.probe:
                step("servers", run.servers)
            stack.close()
        if "pdf" in wanted:
            step("pdf", run.pdf)
    finally:
        stack.close()
        if run.errors:
            for name in ("web-gunicorn", "ws-uvicorn", "celery"):
                tail = stack.log_tail(name)
                if tail:
                    print(f"--- {name}.log\n{tail}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)

    report: dict[str, Any] = {
        "at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "quick": args.quick,
        "machine": machine(load) | {"load_average_at_end": round(os.getloadavg()[0], 2)},
        "versions": {**stack.versions, **package_versions()},
        "layout": layout,
        "postgresql": {} if args.sqlite else PG_SETTINGS,
        "took_s": round(time.monotonic() - started, 1),
        "table": run.table,
        "memory": run.memory,
        "figures": run.figures,
        "queries": run.probe.get("queries", {}),
        "rows": run.probe.get("rows", {}),
        "explain": run.probe.get("explain", []),
        "skipped": run.skipped,
        "errors": run.errors,
    }
    print(f"\n{len(run.table)} figures in {report['took_s']:.0f} s; errors: {run.errors or 'none'}")
    if not args.no_save:
        args.results.mkdir(parents=True, exist_ok=True)
        stem = datetime.now(tz=UTC).date().isoformat() + ("-quick" if args.quick else "")
        out = args.results / f"{stem}.json"
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        (args.results / f"{stem}.md").write_text(
            markdown(report, args.results, stem), encoding="utf-8"
        )
        print(f"written {out} and {out.with_suffix('.md')}")
    return 1 if run.errors or not run.table else 0


if __name__ == "__main__":
    sys.exit(main())
