"""`manage.py relay_outbox`: hand the jobs kept in the outbox while the broker (Redis) was
down over to it now, without waiting for beat. Safe to run at any moment, also beside beat."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from abonent.core import clock
from abonent.core.outbox import outbox_relay


class Command(BaseCommand):
    help = "Передать брокеру задачи, отложенные в базе, пока он был недоступен."

    def handle(self, *args: Any, **options: Any) -> None:
        result = outbox_relay(now=clock.now())
        self.stdout.write(f"relayed: {result.relayed}, pending: {result.pending}")
        if result.broker_down:
            raise CommandError("the broker is still unavailable; run again once it is back")
