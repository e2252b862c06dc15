"""The production layout on loopback, for `bench/run.py`: a throw-away PostgreSQL and Redis,
gunicorn (WSGI) for HTTP, uvicorn + Channels for /ws/, a Celery worker.

Everything listens on 127.0.0.1 only; PostgreSQL and Redis on free ports, the web servers
in 8600–8699. Every process started here is stopped by `Stack.close()` (its process group),
and the PostgreSQL cluster lives in a temp dir that is removed with it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8600, 8700)

# The PostgreSQL settings of the run: throw-away data (no durability), memory sized for a
# 2-core / 24 GiB machine shared with others. Written into the report as they are.
PG_SETTINGS: dict[str, str] = {
    "max_connections": "100",
    "shared_buffers": "1GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "4GB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
    "random_page_cost": "1.1",
}


def free_port() -> int:
    """Any free loopback port (for PostgreSQL and Redis)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web_port(taken: set[int]) -> int:
    """A free port in 8600–8699 for a web server."""
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise SystemExit("no free port in 8600–8699")


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Stop a process started with start_new_session=True, and its children."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def http_ok(port: int, path: str = "/healthz") -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            return b" 200 " in s.recv(64)
    except OSError:
        return False


def wait_http(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with code {proc.returncode}")
        if http_ok(port):
            return
        time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not answer /healthz in time")


def children_peak_rss_mb(pid: int) -> list[float]:
    """Peak RSS (VmHWM) of each child of `pid` (the web workers of a server), in MB."""
    peaks = []
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    for kid in kids:
        try:
            status = Path(f"/proc/{kid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(round(int(line.split()[1]) / 1024, 1))
    return peaks


def base_env() -> dict[str, str]:
    """The environment of every process we start: no test or production switches, no DEBUG."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "ABONENT_TESTING",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "DJANGO_ENV",
            "DATABASE_URL",
            "CELERY_TASK_ALWAYS_EAGER",
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # Every simulated customer comes from 127.0.0.1; real ones come from many addresses.
        AUTH_RATE_PER_IP="1000000/m",
    )
    return env


class Stack:
    """Servers started for one benchmark run; `close()` stops them all (also on errors)."""

    def __init__(self, work: Path, *, sqlite: bool = False) -> None:
        self.work = work
        self.sqlite = sqlite
        self.env = base_env()
        self.ports: set[int] = set()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._stops: list[Callable[[], None]] = []
        self.versions: dict[str, str] = {}
        self.http_port = 0
        self.ws_port = 0

    # ---------------------------------------------------------------- databases
    def start_postgres(self) -> str:
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        data, sock = self.work / "pg", self.work / "pg-socket"
        root = os.geteuid() == 0
        as_pg = ["runuser", "-u", "postgres", "--"] if root else []
        for d in (data, sock):
            d.mkdir(mode=0o700)
            if root:
                shutil.chown(d, "postgres")
        self.work.chmod(0o755)
        log = self.work / "pg.log"
        log.touch()
        if root:
            shutil.chown(log, "postgres")
        subprocess.run(
            [*as_pg, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
             "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        port = free_port()
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} " + " ".join(
            f"-c {k}={v}" for k, v in PG_SETTINGS.items()
        )
        pg_ctl = [*as_pg, str(bindir / "pg_ctl"), "-D", str(data)]
        subprocess.run(
            [*pg_ctl, "-l", str(log), "-w", "-t", "60", "-o", opts, "start"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

        def stop() -> None:
            subprocess.run(
                [*pg_ctl, "-m", "immediate", "-w", "stop"], check=False,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip

        self._stops.append(stop)
        psql = [*as_pg, str(bindir / "psql"), "-h", str(sock), "-p", str(port), "-U", "postgres"]
        psql += ["-v", "ON_ERROR_STOP=1", "-qAt", "-c"]
        subprocess.run([*psql, "CREATE ROLE bench LOGIN SUPERUSER PASSWORD 'bench-pg'"], check=True)
        subprocess.run([*psql, "CREATE DATABASE abonent_bench OWNER bench"], check=True)
        self.versions["postgresql"] = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        url = f"postgres://bench:bench-pg@127.0.0.1:{port}/abonent_bench"
        self.env["DATABASE_URL"] = url
        self.env["DB_CONN_MAX_AGE"] = "600"
        return url

    def use_sqlite(self) -> str:
        url = f"sqlite:///{self.work / 'bench.sqlite3'}"
        self.env["DATABASE_URL"] = url
        return url

    def start_redis(self) -> str:
        port = free_port()
        pidfile = self.work / "redis.pid"
        subprocess.run(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(pidfile),
             "--logfile", str(self.work / "redis.log"), "--dir", str(self.work)],
            check=True,
        )  # fmt: skip

        def stop() -> None:
            subprocess.run(
                ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "shutdown", "nosave"],
                check=False, capture_output=True,
            )  # fmt: skip

        self._stops.append(stop)
        for _ in range(50):
            ping = subprocess.run(
                ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if ping.stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        else:
            raise SystemExit("Redis did not start")
        self.versions["redis"] = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=False
        ).stdout.split(" sha=")[0]
        url = f"redis://127.0.0.1:{port}/0"
        self.env["REDIS_URL"] = url
        return url

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env={**self.env, **(extra_env or {})}, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        return out.stdout

    # ---------------------------------------------------------------- servers
    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 — closed with the process
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, start_new_session=True, stdout=log, stderr=log
        )
        self.procs[name] = proc
        return proc

    def start_web(self, *, server: str = "gunicorn", workers: int = 4) -> int:
        """The HTTP server; sets ABONENT_SITE_URL for everything started after it."""
        port = web_port(self.ports)
        self.env["ABONENT_SITE_URL"] = f"http://127.0.0.1:{port}"
        bind = f"127.0.0.1:{port}"
        if server == "gunicorn":
            cmd = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b", bind,
                   "-w", str(workers), "--log-level", "warning"]  # fmt: skip
        elif server == "granian":
            # --blocking-threads bounds the threads (and PostgreSQL connections) per worker.
            cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(workers), "--blocking-threads", "1",
                   "--log-level", "warning", "config.wsgi:application"]  # fmt: skip
        else:  # uvicorn: the ASGI app serving HTTP, for comparison
            cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host",
                   "127.0.0.1", "--port", str(port), "--workers", str(workers),
                   "--log-level", "warning", "--no-access-log", "--lifespan", "off"]  # fmt: skip
        proc = self._spawn(f"web-{server}", cmd)
        wait_http(port, proc)
        self.http_port = port
        return port

    def stop_web(self, server: str) -> None:
        proc = self.procs.pop(f"web-{server}", None)
        if proc is not None:
            stop_group(proc)

    def start_ws(self) -> int:
        port = web_port(self.ports)
        cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log",
               "--lifespan", "off"]  # fmt: skip
        wait_http(port, self._spawn("ws-uvicorn", cmd))
        self.ws_port = port
        return port

    def start_worker(self, concurrency: int = 2) -> None:
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
               "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
               "--without-heartbeat"]  # fmt: skip
        self._spawn("celery", cmd)

    def close(self) -> None:
        for proc in reversed(list(self.procs.values())):
            stop_group(proc)
        self.procs.clear()
        for stop in reversed(self._stops):
            stop()
        self._stops.clear()

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.work / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
