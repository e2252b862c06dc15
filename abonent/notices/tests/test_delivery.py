"""Delivery: which channels, quiet hours in the branch's time, retries with backoff, and the
rule that no channel ever sends a notification twice — also after a crashed job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError

from abonent.accounts.tests.factories import link, make_account
from abonent.core.sms import SmsError
from abonent.notices import services
from abonent.notices.models import (
    ChannelPreference,
    Delivery,
    DeliveryState,
    Notification,
    NotificationSettings,
    PushSubscription,
)
from abonent.notices.services import NotificationDraft, notifications_create
from abonent.notices.tests.factories import NOW, draft, fake_push_service, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(customer: Any) -> Any:
    """The customer with an e-mail and an ЛС in Krasnoyarsk (UTC+7)."""
    customer.email = "petrov@example.com"
    customer.save(update_fields=["email"])
    link(customer, make_account())
    return customer


def channels_of(notification: Notification) -> list[str]:
    return sorted(notification.deliveries.values_list("channel", flat=True))


def create(
    drafts: list[NotificationDraft], *, now: datetime = NOW, emergency: bool = False
) -> list[Notification]:
    notifications_create(drafts=drafts, now=now, emergency=emergency)
    return list(Notification.objects.order_by("pk"))


def dispatch(now: datetime, ids: list[int] | None = None) -> services.DispatchResult:
    ids = ids if ids is not None else list(Delivery.objects.values_list("pk", flat=True))
    return services.deliveries_dispatch(delivery_ids=ids, now=now)


class FlakySms:
    """An SMS provider that refuses the first `fail` messages."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.sent: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str, key: str = "") -> str:
        if self.fail:
            self.fail -= 1
            raise SmsError("provider answered 503")
        self.sent.append((phone, text))
        return f"id-{len(self.sent)}"


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: nothing after this line runs."""


@pytest.fixture
def sms_backend(monkeypatch: pytest.MonkeyPatch) -> Any:
    def use(backend: Any) -> Any:
        monkeypatch.setattr("abonent.notices.services.delivery.get_sms_backend", lambda: backend)
        return backend

    return use


# ---------------------------------------------------------------- channel choice


def test_defaults_pick_email_for_a_bill_and_sms_for_an_outage_without_push(linked: Any) -> None:
    bill, outage = create(
        [draft(linked, kind="bill", key="bill:1"), draft(linked, kind="outage", key="outage:1:x")]
    )

    assert channels_of(bill) == ["email"]
    assert channels_of(outage) == ["sms"]


def test_a_push_subscription_adds_push_where_the_kind_wants_it(linked: Any) -> None:
    subscribe(linked, "https://fcm.googleapis.com/fcm/send/abc")

    bill, outage, reading = create(
        [
            draft(linked, kind="bill", key="b"),
            draft(linked, kind="outage", key="o"),
            draft(linked, kind="reading", key="r"),
        ]
    )

    assert channels_of(bill) == ["email", "push"]
    assert channels_of(outage) == ["push", "sms"]
    assert channels_of(reading) == ["push"]


def test_the_customers_choice_overrides_the_defaults(linked: Any) -> None:
    services.notification_settings_update(
        user=linked, now=NOW, channels={"bill": ["sms"], "outage": [], "reading": ["email"]}
    )

    bill, outage, reading = create(
        [
            draft(linked, kind="bill", key="b"),
            draft(linked, kind="outage", key="o"),
            draft(linked, kind="reading", key="r"),
        ]
    )

    assert channels_of(bill) == ["sms"]
    assert channels_of(outage) == []
    assert channels_of(reading) == ["email"]


def test_a_channel_without_an_address_is_not_planned(make_customer: Any) -> None:
    no_email = make_customer(phone="+79135550001")
    no_phone = make_customer(phone=None, email="only@example.com")

    a, b = create(
        [draft(no_email, kind="outage", key="o"), draft(no_phone, kind="outage", key="o")]
    )

    assert channels_of(a) == ["sms"]
    assert channels_of(b) == []  # outages: push + SMS by default; neither is possible


def test_an_inactive_user_gets_the_notice_but_no_deliveries(linked: Any) -> None:
    linked.is_active = False
    linked.save(update_fields=["is_active"])

    (bill,) = create([draft(linked)])

    assert channels_of(bill) == []


def test_the_same_key_again_makes_no_second_notice_or_delivery(linked: Any) -> None:
    create([draft(linked, key="bill:7")])
    create([draft(linked, key="bill:7"), draft(linked, key="bill:7")])

    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 1
    again = services.deliveries_plan(where="1 = 1", params=[], now=NOW)
    assert again == []


def test_the_database_refuses_a_second_delivery_of_a_channel(linked: Any) -> None:
    (bill,) = create([draft(linked)])

    with pytest.raises(IntegrityError):
        Delivery.objects.create(notification=bill, channel="email", due_at=NOW)


# ---------------------------------------------------------------- sending


def test_dispatch_sends_sms_and_email_and_marks_them_sent(
    linked: Any, sms_outbox: Any, mail_outbox: Any
) -> None:
    services.notification_settings_update(user=linked, now=NOW, channels={"bill": ["sms", "email"]})
    create([draft(linked)])

    result = dispatch(NOW)

    assert (result.sent, result.failed, result.retried) == (2, 0, 0)
    assert [m["text"] for m in sms_outbox.to("+79131112233")] == [
        "Новая квитанция. ЛС 240100123456: к оплате 1 234,50 ₽."
    ]
    (mail,) = mail_outbox.to("petrov@example.com")
    assert mail.subject == "Новая квитанция"
    assert "Подробнее: http://127.0.0.1:8000/accounts/1/bills/" in mail.body
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_the_jobs_run_after_commit_and_deliver(
    linked: Any, mail_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), _clock(NOW):
        notifications_create(drafts=[draft(linked)], now=NOW)

    assert [m.subject for m in mail_outbox.to("petrov@example.com")] == ["Новая квитанция"]
    assert Delivery.objects.get().state == DeliveryState.SENT


# ---------------------------------------------------------------- quiet hours (UTC+7)


def krs(day: int, hh: int, mm: int = 0) -> datetime:
    """Krasnoyarsk local time (UTC+7) as an aware UTC moment."""
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC) - timedelta(hours=7)


@pytest.mark.parametrize(
    ("local", "due"),
    [
        (krs(23, 21, 59), None),  # before the window: sent
        (krs(23, 22, 0), krs(24, 8, 0)),  # the window opens
        (krs(23, 23, 30), krs(24, 8, 0)),  # evening: tomorrow morning
        (krs(24, 0, 0), krs(24, 8, 0)),  # midnight local = 17:00 UTC of the day before
        (krs(24, 0, 30), krs(24, 8, 0)),  # after midnight: this morning
        (krs(24, 7, 59), krs(24, 8, 0)),
        (krs(24, 8, 0), None),  # the window is over
    ],
)
def test_quiet_hours_around_midnight_in_krasnoyarsk(
    linked: Any, local: datetime, due: datetime | None, mail_outbox: Any
) -> None:
    create([draft(linked)], now=local)

    result = dispatch(local)

    delivery = Delivery.objects.get()
    if due is None:
        assert (result.sent, delivery.state) == (1, DeliveryState.SENT)
    else:
        assert (result.deferred, delivery.state, delivery.due_at) == (1, DeliveryState.PENDING, due)
        assert delivery.attempts == 0
        assert mail_outbox.to("petrov@example.com") == []


def test_a_deferred_message_is_sent_in_the_morning_not_dropped(
    linked: Any, mail_outbox: Any
) -> None:
    night = krs(24, 0, 30)
    create([draft(linked)], now=night)
    dispatch(night)

    early = services.deliveries_due(now=krs(24, 7, 59))
    morning = services.deliveries_due(now=krs(24, 8, 0))
    result = dispatch(krs(24, 8, 0), morning.queued[0])

    assert early.queued == []
    assert result.sent == 1
    assert len(mail_outbox.to("petrov@example.com")) == 1


def test_an_emergency_goes_out_at_night(linked: Any, sms_outbox: Any) -> None:
    night = krs(24, 2, 15)
    create([draft(linked, kind="outage", key="outage:1:published")], now=night, emergency=True)

    result = dispatch(night)

    assert result.sent == 1
    assert len(sms_outbox.to("+79131112233")) == 1


def test_quiet_hours_follow_the_customers_settings(linked: Any, mail_outbox: Any) -> None:
    services.notification_settings_update(user=linked, now=NOW, quiet_enabled=False)
    create([draft(linked)], now=krs(24, 3, 0))

    assert dispatch(krs(24, 3, 0)).sent == 1
    NotificationSettings.objects.filter(user=linked).update(quiet_enabled=True)


def test_a_customer_without_an_account_uses_the_default_branchs_zone(
    make_customer: Any, settings: Any
) -> None:
    from abonent.accounts.tests.factories import make_branch

    settings.DEFAULT_BRANCH_CODE = "krs"
    make_branch()
    user = make_customer(phone="+79135550002", email="x@example.com")
    create([draft(user)], now=krs(24, 1, 0))

    assert dispatch(krs(24, 1, 0)).deferred == 1


# ---------------------------------------------------------------- retries and failures


def test_a_failing_channel_is_retried_with_backoff_and_does_not_block_the_others(
    linked: Any, sms_backend: Any, mail_outbox: Any
) -> None:
    flaky = sms_backend(FlakySms(fail=2))
    services.notification_settings_update(user=linked, now=NOW, channels={"bill": ["sms", "email"]})
    create([draft(linked)])

    first = dispatch(NOW)
    sms = Delivery.objects.get(channel="sms")

    assert (first.sent, first.retried) == (1, 1)  # e-mail went, SMS waits
    assert len(mail_outbox.to("petrov@example.com")) == 1
    assert (sms.state, sms.attempts, sms.due_at) == ("pending", 1, NOW + timedelta(seconds=30))
    assert sms.last_error == "Retry: provider answered 503"

    assert dispatch(NOW + timedelta(seconds=29)).sent == 0  # not due yet
    second = dispatch(NOW + timedelta(seconds=30))
    sms.refresh_from_db()
    assert (second.retried, sms.attempts) == (1, 2)
    assert sms.due_at == NOW + timedelta(seconds=30) + timedelta(minutes=2)

    third = dispatch(sms.due_at)
    sms.refresh_from_db()
    assert (third.sent, sms.state, sms.attempts) == (1, "sent", 3)
    assert len(flaky.sent) == 1
    assert len(mail_outbox.to("petrov@example.com")) == 1  # never re-sent


def test_backoff_grows_to_four_hours() -> None:
    delays = [services.retry_delay(n).total_seconds() for n in range(1, 8)]

    assert delays == [30, 120, 480, 1920, 7680, 14400, 14400]


def test_after_the_last_attempt_the_delivery_fails(
    linked: Any, sms_backend: Any, settings: Any
) -> None:
    settings.NOTICES_DELIVERY_MAX_ATTEMPTS = 2
    sms_backend(FlakySms(fail=5))
    services.notification_settings_update(user=linked, now=NOW, channels={"bill": ["sms"]})
    create([draft(linked)])

    dispatch(NOW)
    result = dispatch(NOW + timedelta(minutes=1))

    sms = Delivery.objects.get()
    assert (result.failed, sms.state, sms.attempts) == (1, "failed", 2)


class KeyedProvider:
    """An SMS provider with idempotency keys: a message whose key it has is not sent again.
    `die_after_accepting` messages are accepted, then the worker dies (nothing after runs)."""

    def __init__(self, die_after_accepting: int = 0) -> None:
        self.die = die_after_accepting
        self.sent: dict[str, str] = {}
        self.calls: list[str] = []

    def send(self, *, phone: str, text: str, key: str = "") -> str:
        self.calls.append(key)
        self.sent.setdefault(key, text)
        if self.die:
            self.die -= 1
            raise WorkerKilled
        return key


def test_a_crashed_job_is_sent_again_with_the_same_key_after_the_lease(
    linked: Any, sms_backend: Any
) -> None:
    provider = sms_backend(KeyedProvider(die_after_accepting=1))
    create([draft(linked, kind="outage", key="outage:1:published")])
    ids = list(Delivery.objects.values_list("pk", flat=True))
    key = f"delivery:{ids[0]}"

    with pytest.raises(WorkerKilled):
        dispatch(NOW, ids)
    # The broker hands the job out again (acks_late): the row is still claimed, not re-sent…
    retried = dispatch(NOW + timedelta(seconds=5), ids)
    # …the sweeper leaves a live claim alone, and takes the dead one back once the lease ran out
    early = services.deliveries_due(now=NOW + timedelta(minutes=9))
    swept = services.deliveries_due(now=NOW + timedelta(minutes=11))
    again = dispatch(NOW + timedelta(minutes=11), ids)

    assert (retried.sent, retried.retried) == (0, 0)
    assert (early.reclaimed, early.queued) == (0, [])
    assert (swept.reclaimed, swept.abandoned, swept.queued) == (1, 0, [ids])
    assert again.sent == 1
    # the provider was asked twice with the same key, and delivered the message once
    assert provider.calls == [key, key]
    assert list(provider.sent) == [key]
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)


class DiesOnThird:
    """A keyless SMS provider (SMS.ru takes no idempotency key); the worker dies while the
    third message is being sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, *, phone: str, text: str, key: str = "") -> str:
        if len(self.sent) == 2:
            raise WorkerKilled
        self.sent.append(phone)
        return phone


def test_an_sms_is_marked_sent_as_it_leaves_so_a_crash_resends_only_the_one_in_flight(
    make_customer: Any, sms_backend: Any
) -> None:
    # given three customers' outage SMS in one claim group, and a worker killed at the third
    users = [make_customer(phone=f"+7913555010{i}") for i in range(3)]
    provider = sms_backend(DiesOnThird())
    # (an emergency: no quiet hours whatever the customers' time zone)
    create([draft(u, kind="outage", key="outage:1:published") for u in users], emergency=True)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))

    with pytest.raises(WorkerKilled):
        dispatch(NOW, ids)

    # then the two that left are «sent» and only the one in flight waits for the sweeper
    states = list(Delivery.objects.order_by("pk").values_list("state", flat=True))
    assert states == [DeliveryState.SENT, DeliveryState.SENT, DeliveryState.SENDING]
    assert len(provider.sent) == 2
    swept = services.deliveries_due(now=NOW + timedelta(minutes=11))
    assert (swept.reclaimed, swept.queued) == (1, [[ids[2]]])


def test_a_dead_claim_out_of_attempts_fails(linked: Any, sms_backend: Any, settings: Any) -> None:
    settings.NOTICES_DELIVERY_MAX_ATTEMPTS = 1
    sms_backend(KeyedProvider(die_after_accepting=1))
    create([draft(linked, kind="outage", key="outage:1:published")])

    with pytest.raises(WorkerKilled):
        dispatch(NOW)
    swept = services.deliveries_due(now=NOW + timedelta(minutes=11))

    assert (swept.reclaimed, swept.abandoned, swept.queued) == (0, 1, [])
    assert Delivery.objects.get().state == DeliveryState.FAILED


def test_an_email_delivery_carries_one_message_id_for_every_attempt(
    linked: Any, mail_outbox: Any
) -> None:
    create([draft(linked)])
    dispatch(NOW)

    delivery = Delivery.objects.get(channel="email")
    [message] = mail_outbox.to("petrov@example.com")
    assert message.extra_headers["Message-ID"] == f"<abonent-delivery-{delivery.pk}@abonent.local>"


def test_the_outbox_sms_backend_sends_a_keyed_message_once(tmp_path: Any) -> None:
    from abonent.core.sms import OutboxSmsBackend

    backend = OutboxSmsBackend(tmp_path / "sms.log")
    first = backend.send(phone="+79131112233", text="Авария", key="delivery:7")
    second = backend.send(phone="+79131112233", text="Авария", key="delivery:7")
    other = backend.send(phone="+79131112233", text="Авария", key="delivery:8")
    plain = backend.send(phone="+79131112233", text="Код 123456")

    # another process (its own backend on the same file) knows the key too
    elsewhere = OutboxSmsBackend(tmp_path / "sms.log").send(
        phone="+79131112233", text="Авария", key="delivery:8"
    )

    lines = (tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert elsewhere == other
    assert first == second
    assert (other, plain) != ("", "")


def test_the_sweeper_requeues_rows_whose_job_was_lost(linked: Any) -> None:
    create([draft(linked)])  # queued at NOW, but no job ever ran

    soon = services.deliveries_due(now=NOW + timedelta(minutes=5))
    later = services.deliveries_due(now=NOW + timedelta(minutes=11))

    assert soon.queued == []
    assert later.queued == [list(Delivery.objects.values_list("pk", flat=True))]


# ---------------------------------------------------------------- web push


def test_push_goes_to_every_browser_and_a_gone_subscription_is_dropped(
    linked: Any, settings: Any
) -> None:
    with fake_push_service(settings) as service:
        phone = subscribe(linked, service.endpoint("phone"))
        gone = subscribe(linked, service.endpoint("old-laptop", status=410))
        services.notification_settings_update(user=linked, now=NOW, channels={"bill": ["push"]})
        create([draft(linked)])

        result = dispatch(NOW)

    assert result.sent == 1
    assert sorted(r["path"] for r in service.received) == ["/push/old-laptop", "/push/phone"]
    assert service.received[0]["headers"]["content-encoding"] == "aes128gcm"
    assert service.received[0]["headers"]["authorization"].startswith("vapid t=")
    assert list(PushSubscription.objects.values_list("pk", flat=True)) == [phone.pk]
    assert not PushSubscription.objects.filter(pk=gone.pk).exists()
    phone.refresh_from_db()
    assert phone.last_success_at == NOW


def test_push_rejected_with_404_drops_the_subscription_and_skips(
    linked: Any, settings: Any
) -> None:
    with fake_push_service(settings) as service:
        subscribe(linked, service.endpoint("bad", status=404))
        services.notification_settings_update(user=linked, now=NOW, channels={"bill": ["push"]})
        create([draft(linked)])

        result = dispatch(NOW)

    assert (result.sent, result.failed) == (0, 1)
    assert PushSubscription.objects.count() == 0
    assert Delivery.objects.get().last_error == "push service answered 404"


def test_push_service_errors_are_retried(linked: Any, settings: Any) -> None:
    with fake_push_service(settings) as service:
        subscribe(linked, service.endpoint("busy", status=503))
        services.notification_settings_update(user=linked, now=NOW, channels={"bill": ["push"]})
        create([draft(linked)])

        result = dispatch(NOW)

    delivery = Delivery.objects.get()
    assert (result.retried, delivery.state, delivery.attempts) == (1, "pending", 1)
    assert PushSubscription.objects.count() == 1


def test_a_preference_row_per_kind_and_channel(linked: Any) -> None:
    services.notification_settings_update(user=linked, now=NOW, channels={"bill": ["push"]})
    services.notification_settings_update(user=linked, now=NOW, channels={"bill": ["email"]})

    rows = ChannelPreference.objects.filter(user=linked).order_by("channel")
    assert [(r.kind, r.channel, r.enabled) for r in rows] == [
        ("bill", "email", True),
        ("bill", "push", False),
        ("bill", "sms", False),
    ]


def _clock(at: datetime) -> Any:
    import time_machine

    return time_machine.travel(at, tick=False)
