"""A WebSocket test client for ASGI apps, with the API of `channels.testing.WebsocketCommunicator`.

`channels.testing` cannot be imported here: its package imports `daphne` (for the live-server
test case), which this project does not install. Usage:

    communicator = WebsocketCommunicator(application, "/ws/events/", headers=[...])
    connected, code = await communicator.connect()
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlparse

from asgiref.testing import ApplicationCommunicator


def _no_op() -> None:
    pass


async def _async_no_op() -> None:
    pass


def _keep_connections() -> Any:
    """Like channels' communicator: the test owns the DB connections, the app must not close
    them (channels 4.3 closes them through `aclose_old_connections` in every dispatch)."""
    stack = ExitStack()
    stack.enter_context(mock.patch("channels.db.close_old_connections", _no_op))
    stack.enter_context(mock.patch("channels.consumer.aclose_old_connections", _async_no_op))
    return stack


class WebsocketCommunicator(ApplicationCommunicator):
    def __init__(
        self,
        application: Any,
        path: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        subprotocols: list[str] | None = None,
    ) -> None:
        parsed = urlparse(path)
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode(),
            "headers": headers or [],
            "subprotocols": subprotocols or [],
        }
        super().__init__(application, self.scope)

    async def send_input(self, message: dict[str, Any]) -> None:
        with _keep_connections():
            await super().send_input(message)

    async def receive_output(self, timeout: float = 1) -> dict[str, Any]:
        with _keep_connections():
            return await super().receive_output(timeout)

    async def wait(self, timeout: float = 1) -> None:
        with _keep_connections():
            await super().wait(timeout)

    async def receive_nothing(self, timeout: float = 0.1, interval: float = 0.01) -> bool:
        with _keep_connections():
            return await super().receive_nothing(timeout, interval)

    async def connect(self, timeout: float = 1) -> tuple[bool, Any]:
        """(True, subprotocol) when accepted, (False, close code) when refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, response.get("subprotocol")

    async def send_json_to(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout: float = 1) -> Any:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        assert isinstance(response.get("text"), str), response
        return json.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
