"""Sending to a Channels group from sync code (gunicorn workers, Celery jobs) without paying
for a new event loop and new Redis connections on every message.

`async_to_sync(layer.group_send)` outside an event loop makes a fresh loop per call, and
channels_redis keeps its connection pools per loop: every message opened and dropped its own
Redis connections (~2.5 ms of CPU per group_send in a gunicorn worker, bench/README.md). With
the Redis layer, the sends go to one long-lived loop in a daemon thread of the process, so
its pool stays warm. The in-memory layer (embedded, one process) keeps `async_to_sync`: its
queues belong to the server's own loop.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
SEND_TIMEOUT = 5.0  # seconds; a stuck Redis must not hold a web worker for long


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        # A forked child (a gunicorn or Celery worker) gets no threads: start its own loop.
        if _loop is None or _loop.is_closed() or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="channels-send", daemon=True)
            thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def group_send(layer: Any, group: str, message: dict[str, Any]) -> None:
    """`layer.group_send(group, message)` from sync code; raises what the send raised."""
    shared = type(layer).__module__.startswith("channels_redis")
    if not shared or _in_event_loop():
        async_to_sync(layer.group_send)(group, message)
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _background_loop())
    future.result(timeout=SEND_TIMEOUT)
