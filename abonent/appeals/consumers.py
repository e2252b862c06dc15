"""WS /ws/appeals/{id}: a thread's live messages for its customer and for operators.

Refused: no session (4401), an appeal the user may not see (4404); a foreign Origin is refused
by the ASGI stack before this. On connect the socket joins its side's group FIRST, then sends
everything after the client's `?after=<last seen id>`, then `{"type": "synced"}`: nothing
committed in between is lost (a message may arrive twice; clients drop a known id).

Client → server: `{"type": "ping"}` (→ pong, keeps presence), `{"type": "read", "last_id": N}`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from abonent.appeals import realtime, selectors, services
from abonent.appeals.models import Side
from abonent.core import clock
from abonent.core.errors import DomainError

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


def _catch_up(*, appeal_id: int, side: str, after: int) -> list[dict[str, Any]]:
    appeal = selectors.appeal_for_operator(appeal_id=appeal_id)
    messages = selectors.thread_messages(
        appeal=appeal, include_internal=side == Side.OPERATOR, after_id=after
    )
    return [selectors.message_payload(m) for m in messages]


def _after(scope: dict[str, Any]) -> int | None:
    raw = scope.get("query_string", b"").decode("latin-1")
    for pair in raw.split("&"):
        key, _sep, value = pair.partition("=")
        if key == "after" and value.isdigit():
            return int(value)
    return None


class AppealConsumer(AsyncJsonWebsocketConsumer):
    appeal_id: int
    side: str
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.appeal_id = int(self.scope["url_route"]["kwargs"]["appeal_id"])
        side = await database_sync_to_async(selectors.socket_side)(
            user=user, appeal_id=self.appeal_id
        )
        if side is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.side = side
        self.group = realtime.appeal_group(self.appeal_id, side)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await database_sync_to_async(realtime.presence_join)(self.appeal_id, side)
        after = _after(self.scope)
        if after is not None:
            for payload in await database_sync_to_async(_catch_up)(
                appeal_id=self.appeal_id, side=side, after=after
            ):
                await self.send_json(payload)
        await self.send_json({"type": "synced", "side": side})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await database_sync_to_async(realtime.presence_leave)(self.appeal_id, self.side)
            self.group = None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or self.group is None:
            return
        kind = content.get("type")
        if kind == "ping":
            await database_sync_to_async(realtime.presence_touch)(self.appeal_id, self.side)
            await self.send_json({"type": "pong"})
        elif kind == "read":
            last_id = content.get("last_id")
            if isinstance(last_id, int) and last_id >= 0:
                with contextlib.suppress(DomainError):
                    await database_sync_to_async(services.appeal_mark_read)(
                        appeal_id=self.appeal_id,
                        user=self.scope["user"],
                        last_id=last_id,
                        now=clock.now(),
                        as_operator=self.side == Side.OPERATOR,
                    )

    async def appeal_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])
