"""Group sends from sync code (abonent.core.channels)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from abonent.core import channels


@pytest.mark.redis
def test_sync_group_sends_through_redis_reuse_one_loop() -> None:
    # given: a channel in a group, listened to from another loop (as uvicorn would)
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("core.channels.probe", channel)

    # when: two messages are sent from sync code (a gunicorn worker's view)
    channels.group_send(layer, "core.channels.probe", {"type": "probe", "n": 1})
    first_loop = channels._loop
    channels.group_send(layer, "core.channels.probe", {"type": "probe", "n": 2})

    # then: both arrive in order, and the second send used the same long-lived loop
    async def receive_two() -> list[dict[str, Any]]:
        return [await asyncio.wait_for(layer.receive(channel), timeout=5) for _ in range(2)]

    assert async_to_sync(receive_two)() == [{"type": "probe", "n": 1}, {"type": "probe", "n": 2}]
    assert first_loop is not None
    assert channels._loop is first_loop
    assert first_loop.is_running()
    async_to_sync(layer.group_discard)("core.channels.probe", channel)


def test_in_memory_layer_keeps_async_to_sync() -> None:
    # given: the embedded in-memory layer (its queues belong to the server's own loop)
    layer = InMemoryChannelLayer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("core.channels.memory", channel)

    # when
    channels.group_send(layer, "core.channels.memory", {"type": "probe", "n": 3})

    # then
    async def receive() -> dict[str, Any]:
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    assert async_to_sync(receive)() == {"type": "probe", "n": 3}
