"""Chat latency: from an operator's message to the customer's open WebSocket, p50/p95.

    uv run python bench/chat.py                  # 100 open conversations, 5 rounds
    uv run python bench/chat.py --quick          # 100 conversations, 1 round (a smoke run)
    REDIS_URL=redis://127.0.0.1:6379/0 uv run python bench/chat.py   # the Redis channel layer
    uv run python bench/chat.py --conversations 200 --rounds 3 --concurrency 8 --port 8302

`bench/run.py` runs it on the production layout instead: `--database-url` (PostgreSQL,
already migrated), `--http-port` (gunicorn: the operator's POST) and `--ws-port` (uvicorn:
the customer's socket), with REDIS_URL set for the channel layer; then no server is started.

Makes a fresh SQLite database in a temp dir with N customers, N appeals and one operator,
starts ONE uvicorn (`config.asgi`, HTTP and /ws/) on 127.0.0.1, opens every customer's
socket to their thread, then the operator answers each conversation through the console's
HTTP endpoint (the same POST the page's script sends). A message's latency is the time from
the start of that POST to its arrival on the customer's socket: the request, the database
write, the broadcast after commit and the socket delivery. Sends traffic only to the server
it started; bounded in count and time; stops the server on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(db_path: Path, database_url: str = "") -> dict[str, str]:
    keep_redis = bool(os.environ.get("REDIS_URL"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ABONENT_TESTING", "CELERY_BROKER_URL", "DJANGO_ENV"}
        and (keep_redis or k != "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url or f"sqlite:///{db_path}",
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    return env


def prepare(env: dict[str, str], conversations: int) -> dict[str, Any]:
    """Migrate and create the people and threads; returns session cookies and appeal ids."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from abonent.accounts.tests.factories import make_branch
    from abonent.appeals import services
    from abonent.appeals.tests.factories import make_category
    from abonent.identity.models import User

    call_command("migrate", "--no-input", verbosity=0)
    make_branch()
    category = make_category("Начисления", sla_hours=8)
    now = datetime.now(tz=UTC)

    def session_for(user: User) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "abonent.identity.backends.LoginBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return str(store.session_key)

    operator = User.objects.create_user(
        phone="+79130000000", password=None, first_name="Оператор", is_staff=True
    )
    operator.groups.add(services.operators_group_ensure())
    customers = []
    for n in range(conversations):
        user = User.objects.create_user(phone=f"+7914{n:07d}", password=None, first_name="Клиент")
        appeal = services.appeal_create(
            user=user,
            category_id=category.pk,
            account_id=None,
            subject=f"Вопрос {n}",
            body="Когда будет перерасчёт?",
            files=[],
            now=now,
        )
        customers.append({"appeal": appeal.pk, "session": session_for(user)})
    return {
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "operator_session": session_for(operator),
        "customers": customers,
        "channel_layer": str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).rsplit(".", 1)[-1],
    }


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning", "--no-access-log", "--lifespan", "off"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run(
    port: int,
    data: dict[str, Any],
    rounds: int,
    concurrency: int,
    timeout: float,
    ws_port: int = 0,
) -> dict[str, Any]:
    import httpx
    import websockets

    base = f"http://127.0.0.1:{port}"
    ws_port = ws_port or port
    name = data["cookie_name"]
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base, timeout=10) as probe:
        while True:
            try:
                if (await probe.get("/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer /healthz in time")
            await asyncio.sleep(0.2)

    waiting: dict[str, asyncio.Future[float]] = {}
    sockets = []

    async def listen(ws: Any) -> None:
        async for raw in ws:
            event = json.loads(raw)
            if event.get("type") == "message":
                future = waiting.get(event.get("body", ""))
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())

    listeners = []
    for c in data["customers"]:
        ws = await websockets.connect(
            f"ws://127.0.0.1:{ws_port}/ws/appeals/{c['appeal']}/",
            additional_headers={"Cookie": f"{name}={c['session']}", "Origin": base},
            open_timeout=10,
        )
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        assert first == {"type": "synced", "side": "customer"}, first
        sockets.append(ws)
        listeners.append(asyncio.create_task(listen(ws)))

    latencies: list[float] = []
    posted: list[float] = []  # the operator's POST alone (its answer, not the socket)
    errors = 0
    cookies = {name: data["operator_session"]}
    async with httpx.AsyncClient(base_url=base, timeout=10, cookies=cookies) as operator:
        page = await operator.get(f"/operator/appeals/{data['customers'][0]['appeal']}/")
        assert page.status_code == 200, page.status_code
        csrf = operator.cookies.get("csrftoken") or ""
        limit = asyncio.Semaphore(concurrency)

        async def answer(appeal_id: int, token: str) -> None:
            nonlocal errors
            loop = asyncio.get_running_loop()
            waiting[token] = loop.create_future()
            async with limit:
                started = time.perf_counter()
                response = await operator.post(
                    f"/operator/appeals/{appeal_id}/messages/",
                    data={"body": token, "csrfmiddlewaretoken": csrf},
                    headers={"X-Requested-With": "fetch", "X-CSRFToken": csrf, "Referer": base},
                )
                posted.append((time.perf_counter() - started) * 1000)
                if response.status_code != 201:
                    errors += 1
                    return
                try:
                    arrived = await asyncio.wait_for(waiting[token], timeout=timeout)
                except TimeoutError:
                    errors += 1
                    return
                latencies.append((arrived - started) * 1000)

        began = time.perf_counter()
        for r in range(rounds):
            await asyncio.gather(
                *(answer(c["appeal"], f"ответ {r}-{c['appeal']}") for c in data["customers"])
            )
        elapsed = time.perf_counter() - began

    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return {
        "messages": len(latencies),
        "errors": errors,
        "messages_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "max_ms": round(max(latencies), 2) if latencies else float("nan"),
        "latencies_ms": [round(x, 2) for x in latencies],
        "post_p50_ms": round(percentile(posted, 50), 2) if posted else float("nan"),
        "post_p95_ms": round(percentile(posted, 95), 2) if posted else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round (a smoke run)")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--rounds", type=int, help="operator answers per conversation (5)")
    parser.add_argument("--concurrency", type=int, default=4, help="answers in flight (4)")
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: free)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per message")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--database-url", default="", help="a migrated database (PostgreSQL)")
    parser.add_argument("--http-port", type=int, default=0, help="a running WSGI server")
    parser.add_argument("--ws-port", type=int, default=0, help="a running ASGI server (/ws/)")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args, _unknown = parser.parse_known_args()
    rounds = args.rounds or (1 if args.quick else 5)

    with tempfile.TemporaryDirectory(prefix="abonent-chat-") as tmp:
        env = server_env(Path(tmp) / "chat.sqlite3", args.database_url)
        print(f"preparing {args.conversations} conversations in {tmp} …", flush=True)
        data = prepare(env, args.conversations)
        external = bool(args.http_port and args.ws_port)
        port = args.http_port if external else args.port or free_port()
        proc = None if external else start_server(port, env)
        try:
            result = asyncio.run(
                run(port, data, rounds, args.concurrency, args.timeout, args.ws_port)
            )
        finally:
            if proc is not None:
                stop_server(proc)

    layer = data["channel_layer"]
    print(
        f"uvicorn on 127.0.0.1:{port}, channel layer {layer}; {args.conversations} open "
        f"conversations × {rounds} rounds, {args.concurrency} answers in flight"
    )
    print(
        f"operator → customer socket: p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms"
        f", max {result['max_ms']:.1f} ms; {result['messages']} messages "
        f"({result['messages_per_s']:.0f}/s), {result['errors']} errors"
    )
    report = {
        "at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": round(os.getloadavg()[0], 2),
        },
        "config": {
            "server": "gunicorn (HTTP) + uvicorn (/ws/)"
            if external
            else "uvicorn (one process, HTTP and /ws/)",
            "database": args.database_url.split(":", 1)[0] if args.database_url else "sqlite",
            "channel_layer": layer,
            "conversations": args.conversations,
            "rounds": rounds,
            "concurrency": args.concurrency,
        },
        "result": result,
    }
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        day = datetime.now(tz=UTC).date().isoformat()
        suffix = "-quick" if args.quick else ""
        out = RESULTS / f"{day}-chat-{layer.lower()}{suffix}.json"
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"written {out.relative_to(ROOT)}")
    return 1 if result["errors"] or not result["messages"] else 0


if __name__ == "__main__":
    sys.exit(main())
