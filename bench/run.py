"""Throughput of Abonent's HTTP stack on loopback: req/s, p50 and p95 per endpoint.

    uv run python bench/run.py            # 10 s per endpoint
    uv run python bench/run.py --quick    # 2 s per endpoint, a smoke run
    uv run python bench/run.py --server uvicorn   # the same against the ASGI app
    uv run python bench/payments.py       # acquirer notification → balance updated, p50/p95/p99

Starts its own server on 127.0.0.1 (gunicorn + `config.wsgi` by default) over a fresh SQLite
database with the demo data, drives it with `wrk` when installed or else with a small
Python load generator (processes × threads, one connection per request), prints a table and
writes bench/results/<date>[-quick].json. Sends traffic only to that loopback server, and
stops by itself. The load generator shares the machine's cores with the server: compare
runs made on the same kind of machine, not absolute figures across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ENDPOINTS = {
    "healthz": "/healthz",  # the bare JSON view (+ SELECT 1)
    "branches": "/api/v1/branches",  # a Ninja endpoint with one query and a list schema
}
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(db_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ABONENT_TESTING", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_ENV"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{db_path}",
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def prepare_database(env: dict[str, str]) -> None:
    for args in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def start_server(
    kind: str, port: int, workers: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    bind = f"127.0.0.1:{port}"
    if kind == "gunicorn":
        cmd = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b", bind]
        cmd += ["-w", str(workers), "--log-level", "warning"]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application"]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        cmd += ["--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def one_request(port: int, request: bytes) -> int:
    """One request on a fresh connection; returns the HTTP status (0 on a socket error)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(request)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
    except OSError:
        return 0
    head = b"".join(chunks)[:16]
    try:
        return int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    request = http_request(port, "/healthz")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}")
        if one_request(port, request) == 200:
            return
        time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz in time")


def http_request(port: int, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def _client_process(port: int, path: str, threads: int, start_at: float, stop_at: float) -> dict:
    """Runs in a child process: `threads` closed-loop clients; latencies after `start_at`."""
    request = http_request(port, path)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop() -> None:
        mine: list[float] = []
        bad = 0
        while (now := time.monotonic()) < stop_at:
            status = one_request(port, request)
            done = time.monotonic()
            if now >= start_at:
                mine.append((done - now) * 1000)
                bad += status != 200
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return {"latencies": latencies, "errors": errors[0]}


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def run_python(
    port: int, path: str, duration: float, warmup: float, procs: int, threads: int
) -> dict:
    start_at = time.monotonic() + warmup
    stop_at = start_at + duration
    with ProcessPoolExecutor(max_workers=procs) as pool:
        futures = [
            pool.submit(_client_process, port, path, threads, start_at, stop_at)
            for _ in range(procs)
        ]
        parts = [f.result() for f in futures]
    latencies = [x for p in parts for x in p["latencies"]]
    return {
        "requests": len(latencies),
        "errors": sum(p["errors"] for p in parts),
        "rps": round(len(latencies) / duration, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
    }


def run_wrk(port: int, path: str, duration: float, warmup: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT)
        script = fh.name
    url = f"http://127.0.0.1:{port}{path}"
    threads = str(min(connections, os.cpu_count() or 2))
    try:
        if warmup:
            subprocess.run(
                [
                    "wrk",
                    "-t",
                    threads,
                    "-c",
                    str(connections),
                    "-d",
                    f"{max(1, round(warmup))}s",
                    url,
                ],
                check=True,
                capture_output=True,
            )
        out = subprocess.run(
            [
                "wrk",
                "-t",
                threads,
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(duration))}s",
                "-s",
                script,
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script)
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    requests, micros, p50, p95, sock_errors, status_errors = map(int, line.split()[1:])
    return {
        "requests": requests,
        "errors": sock_errors + status_errors,
        "rps": round(requests / (micros / 1e6), 1),
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
    }


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main() -> int:
    cores = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s per endpoint (smoke run)")
    parser.add_argument("--duration", type=float, help="seconds measured per endpoint (10)")
    parser.add_argument("--server", choices=["gunicorn", "uvicorn"], default="gunicorn")
    parser.add_argument("--workers", type=int, default=cores, help=f"server workers ({cores})")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--endpoint", action="append", choices=sorted(ENDPOINTS))
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()

    duration = args.duration or (2.0 if args.quick else 10.0)
    warmup = 0.5 if args.quick else 2.0
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    procs = min(cores, args.concurrency)
    threads = max(1, args.concurrency // procs)
    endpoints = args.endpoint or list(ENDPOINTS)

    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"note: the machine is busy (load average {load:.2f}); figures will be low and noisy")
    results = []
    with tempfile.TemporaryDirectory(prefix="abonent-bench-") as tmp:
        env = server_env(Path(tmp) / "bench.sqlite3")
        print(f"preparing a SQLite database with demo data in {tmp} …", flush=True)
        prepare_database(env)
        port = free_port()
        proc = start_server(args.server, port, args.workers, env)
        try:
            wait_ready(port, proc)
            print(
                f"{args.server} ({args.workers} workers) on 127.0.0.1:{port}; client: {client}, "
                f"{args.concurrency} concurrent; {duration:g} s per endpoint after {warmup:g} s "
                "warm-up\n",
                flush=True,
            )
            print(f"{'endpoint':<22}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}")
            for name in endpoints:
                path = ENDPOINTS[name]
                if client == "wrk":
                    r = run_wrk(port, path, duration, warmup, args.concurrency)
                else:
                    r = run_python(port, path, duration, warmup, procs, threads)
                r = {"name": name, "path": path, **r}
                results.append(r)
                print(
                    f"{path:<22}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p95_ms']:>10.2f}"
                    f"{r['errors']:>8}",
                    flush=True,
                )
        finally:
            stop_server(proc)

    report = {
        "at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {
            "cores": cores,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": round(load, 2),
        },
        "config": {
            "server": args.server,
            "workers": args.workers,
            "database": "sqlite",
            "client": client,
            "concurrency": args.concurrency,
            "duration_s": duration,
            "warmup_s": warmup,
            "quick": args.quick,
        },
        "results": results,
    }
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        day = datetime.now(tz=UTC).date().isoformat()
        out = RESULTS / f"{day}{'-quick' if args.quick else ''}.json"
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwritten {out.relative_to(ROOT)}")
    subprocess.run([sys.executable, str(ROOT / "bench/chat.py"), *["--quick"] * args.quick])
    subprocess.run([sys.executable, str(ROOT / "bench/notices.py"), *["--quick"] * args.quick])
    failed = [r["path"] for r in results if r["errors"] or not r["requests"]]
    if failed:
        print(f"errors or no answers on: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
