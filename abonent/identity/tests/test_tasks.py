from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from abonent.identity import services
from abonent.identity.models import VerificationCode
from abonent.identity.tasks import codes_purge
from config.celery import app


@pytest.mark.django_db
def test_codes_purge_drops_only_codes_older_than_a_day() -> None:
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        services.password_reset_start(login="+79131112233", now=timezone.now(), ip=None)
    services.password_reset_start(login="+79134445566", now=timezone.now(), ip=None)

    deleted = codes_purge.delay().get()

    assert deleted == 1
    assert list(VerificationCode.objects.values_list("target", flat=True)) == ["+79134445566"]


def test_beat_schedules_the_purge_daily() -> None:
    entry = app.conf.beat_schedule["identity-codes-purge"]

    assert entry["task"] == codes_purge.name
    assert entry["schedule"] == 86400
