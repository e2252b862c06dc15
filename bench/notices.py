"""Notices throughput: an outage fan-out to N customers, notifications created per second, and
deliveries sent per second to the outbox channels (SMS file, e-mail files, Web Push to a
loopback push service).

    DATABASE_URL=postgres://user@127.0.0.1:5432/abonent_bench uv run python bench/notices.py
    uv run python bench/notices.py --quick     # smoke run on a temporary SQLite file

Use a throw-away database: it migrates it and adds, for each fan-out size N (10,000, 30,000 and
100,000: the cost growth), a branch «Бенчград-N» with N customers, each with one ЛС on one of
20 streets (set-based INSERT … SELECT). Then, in the same run:

* fan-out — at each size, `outage_notify` of an outage covering every street: the notices
  (address match in SQL, batches of 20,000 recipients) and their deliveries (SMS: the outage
  default);
* bare — one INSERT … SELECT of the same N rows into notices_notification itself (same table,
  indexes and constraints; no address match, no deliveries): the ceiling for the table;
* create — `notifications_create` of M drafts of a bill (in-app + e-mail planned), per second;
* deliver — `deliveries_dispatch` of D SMS and D e-mail deliveries and P push deliveries in
  chunks of 200 (claim, send, mark — two UPDATEs per delivery), per second.

Prints the figures and the machine's load (a shared, loaded machine gives low, noisy figures:
compare runs on the same machine). Not a test.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
TMP = Path(tempfile.mkdtemp(prefix="abonent-bench-notices-"))
if "postgres" not in os.environ.get("DATABASE_URL", ""):
    os.environ["DATABASE_URL"] = f"sqlite:///{TMP / 'bench.sqlite3'}"
os.environ.update(
    SMS_BACKEND="outbox",
    SMS_OUTBOX_PATH=str(TMP / "sms.log"),
    EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    EMAIL_FILE_PATH=str(TMP / "email"),
    CELERY_TASK_ALWAYS_EAGER="false",
    # Jobs are queued (as in production) into memory and never run: the bench sends itself.
    CELERY_BROKER_URL="memory://localhost/",
    PUBLIC_MEDIA_ROOT=str(TMP / "public"),
    LOG_LEVEL="WARNING",
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from abonent.accounts.models import Branch  # noqa: E402
from abonent.billing.models import Service  # noqa: E402
from abonent.notices import push  # noqa: E402
from abonent.notices.models import (  # noqa: E402
    Delivery,
    DeliveryState,
    Outage,
    OutageAddress,
    PushSubscription,
)
from abonent.notices.services import (  # noqa: E402
    NotificationDraft,
    deliveries_dispatch,
    notifications_create,
)
from abonent.notices.services.outages import outage_notify  # noqa: E402

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in the branch: no quiet hours
STREETS = 20
RESULTS = ROOT / "bench" / "results"
FIGURES: dict[str, Any] = {}
PG = connection.vendor == "postgresql"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def series(n: int) -> str:
    if PG:
        return f"seq AS (SELECT g AS n FROM generate_series(1, {int(n)}) g)"
    return f"seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {int(n)})"


def pad(expr: str, width: int) -> str:
    if PG:
        return f"LPAD(CAST({expr} AS TEXT), {width}, '0')"
    return f"SUBSTR('{'0' * width}' || CAST({expr} AS TEXT), -{width}, {width})"


def customers_create(branch: Branch, total: int, offset: int = 0) -> float:
    """N customers (phone and e-mail), each with one ЛС at a flat of «Бенчград»; numbered
    from `offset` + 1 so that several sizes live side by side in one database."""
    started = time.perf_counter()
    rec = "" if PG else "RECURSIVE "
    at = connection.ops.adapt_datetimefield_value(NOW)
    stamp = "md5(CAST(n AS TEXT))" if PG else "hex(randomblob(16))"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH {rec}{series(total)} INSERT INTO accounts_address "
            "(branch_id, settlement, street, house, building, flat) "
            f"SELECT %s, 'Бенчград', 'ул. Бенчмарк-' || CAST(n %% {STREETS} AS TEXT), "
            f"CAST(n / 2000 + 1 AS TEXT), '', CAST(n + {int(offset)} AS TEXT) FROM seq WHERE 1 = 1 "
            "ON CONFLICT DO NOTHING",
            [branch.pk],
        )
        cursor.execute(
            "INSERT INTO accounts_personalaccount "
            "(branch_id, number, address_id, owner_name, area, residents, status) "
            f"SELECT %s, '88' || {pad('CAST(a.flat AS INTEGER)', 10)}, a.id, 'Бенчев Бенч', 50, 2, "
            "'open' FROM accounts_address a WHERE a.branch_id = %s",
            [branch.pk, branch.pk],
        )
        cursor.execute(
            f"WITH {rec}{series(total)} INSERT INTO identity_user "
            "(password, is_superuser, phone, email, first_name, patronymic, last_name, "
            "is_active, is_staff, date_joined, consent_version, session_stamp) "
            f"SELECT '!', %s, '+7988' || {pad(f'n + {int(offset)}', 7)}, "
            f"'bench' || CAST(n + {int(offset)} AS TEXT) || "
            f"'@example.com', 'Бенч', '', '', %s, %s, %s, '', {stamp} FROM seq",
            [False, True, False, at],
        )
        cursor.execute(
            "INSERT INTO accounts_accountlink (user_id, account_id, label, created_at) "
            "SELECT u.id, a.id, '', %s FROM identity_user u "
            "JOIN accounts_personalaccount a ON a.branch_id = %s "
            f"AND a.number = '88' || {pad('CAST(SUBSTR(u.phone, 6) AS INTEGER)', 10)} "
            f"WHERE u.phone LIKE '+7988%%' AND u.id > (SELECT COALESCE(MAX(id), 0) - {int(total)} "
            "FROM identity_user)",
            [at, branch.pk],
        )
        if PG:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def bench_branch(size: int) -> Branch:
    source = Branch.objects.get(code="krasnoyarsk")
    data = {
        f.attname: getattr(source, f.attname)
        for f in Branch._meta.concrete_fields
        if f.attname not in ("id", "code", "name")
    }
    branch, _ = Branch.objects.update_or_create(
        code=f"bench-notices-{size}", defaults={**data, "name": f"Бенчград-{size}"}
    )
    return branch


def outage_everywhere(branch: Branch, title: str) -> Outage:
    outage = Outage.objects.create(
        branch=branch,
        kind="emergency",
        service=Service.objects.get(code="hot-water"),
        title=title,
        starts_at=NOW,
        expected_end_at=NOW + timedelta(hours=6),
        published_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    OutageAddress.objects.bulk_create(
        OutageAddress(outage=outage, settlement="Бенчград", street=f"ул. Бенчмарк-{i}")
        for i in range(STREETS)
    )
    return outage


def bare_insert(branch: Branch, key: str) -> float:
    """The same rows, one INSERT … SELECT into the same table, nothing else."""
    at = connection.ops.adapt_datetimefield_value(NOW)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notices_notification (user_id, kind, title, body, link, created_at, "
            "read_at, emergency, dedupe_key) "
            "SELECT l.user_id, 'outage', 'Аварийное отключение: горячее водоснабжение', "
            "'ул. Бенчмарк. Восстановим ориентировочно к 16:00.', '/info/outages/1/', %s, NULL, "
            "%s, %s FROM accounts_accountlink l JOIN accounts_personalaccount a "
            "ON a.id = l.account_id WHERE a.branch_id = %s",
            [at, True, key, branch.pk],
        )
    return time.perf_counter() - started


class _Push(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def dispatch_all(ids: list[int]) -> tuple[float, int]:
    started = time.perf_counter()
    sent = 0
    for start in range(0, len(ids), 200):
        sent += deliveries_dispatch(delivery_ids=ids[start : start + 200], now=NOW).sent
    return time.perf_counter() - started, sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        help="fan-out sizes (10,000 30,000 100,000; quick: 1,000 5,000)",
    )
    parser.add_argument("--create", type=int, help="drafts for notifications_create (20,000)")
    parser.add_argument("--deliver", type=int, help="SMS and e-mail deliveries each (5,000)")
    parser.add_argument("--push", type=int, help="push deliveries (1,000)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here (bench/run.py)")
    args = parser.parse_args()
    quick = args.quick
    sizes = sorted(args.sizes or ([1_000, 5_000] if quick else [10_000, 30_000, 100_000]))
    customers = sizes[-1]
    create_n = min(args.create or (2_000 if quick else 20_000), customers)
    deliver_n = min(args.deliver or (500 if quick else 5_000), customers)
    push_n = min(args.push or (100 if quick else 1_000), customers)
    load = os.getloadavg()
    db = "PostgreSQL" if PG else "SQLite (the 100,000 goal is for PostgreSQL: set DATABASE_URL)"
    print(f"notices bench on {db}; {os.cpu_count()} cores, load average {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f} at start", flush=True)  # fmt: skip

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    if Branch.objects.filter(code__startswith="bench-notices-").exists():
        sys.exit("use a fresh database: the bench branches are there already")

    # ---- fan-out vs bare insert of the same rows, at each size (cost growth)
    runs = []
    offset = 0
    # The first fan-out of a process pays for imports and warm caches: a small one goes first
    # and is not reported, so the sizes compare like with like.
    for size in [200, *sizes]:
        branch = bench_branch(size)
        seed = customers_create(branch, size, offset)
        offset += size
        print(f"seed: {size:,} customers with an ЛС each in {seed:.1f} s", flush=True)
        outage = outage_everywhere(branch, "Бенчмарк: авария")
        started = time.perf_counter()
        made = outage_notify(outage_id=outage.pk, event="published", now=NOW)
        fan_out = time.perf_counter() - started
        planned = Delivery.objects.filter(notification__dedupe_key=f"outage:{outage.pk}:published")
        deliveries = planned.count()
        bare = bare_insert(branch, f"bench:bare:{size}")
        assert made == size, (made, size)
        if size == 200:
            continue
        runs.append(
            {
                "recipients": size,
                "notices": made,
                "deliveries": deliveries,
                "seconds": round(fan_out, 3),
                "per_s": round(made / fan_out),
                "bulk_insert_s": round(bare, 3),
                "peak_rss_mb": round(peak_mb()),
            }
        )
        print(
            f"fan-out: {made:,} notices + {deliveries:,} deliveries in {fan_out:.2f} s "
            f"({made / fan_out:,.0f}/s); bare INSERT of the same rows: {bare:.2f} s "
            f"({size / bare:,.0f}/s), ratio {bare / fan_out:.0%}",
            flush=True,
        )
    last = runs[-1]
    FIGURES["sizes"] = runs
    FIGURES["fan_out"] = {
        "customers": last["recipients"],
        "notices": last["notices"],
        "deliveries": last["deliveries"],
        "seconds": last["seconds"],
        "bare_insert_seconds": last["bulk_insert_s"],
        "goal_seconds": 60,
    }
    print(
        f"goal < 60 s at 100,000: {'met' if last['seconds'] < 60 else 'NOT met'} "
        f"({last['seconds']:.1f} s at {last['recipients']:,})",
        flush=True,
    )

    # ---- notifications_create (the entry point every app uses)
    users = list(
        branch.personalaccount_set.values_list("links__user_id", flat=True).order_by("pk")[
            :create_n
        ]
    )
    drafts = (
        NotificationDraft(
            user_id=u,
            kind="bill",
            title="Новая квитанция за ноябрь 2026",
            body="ЛС 88…: к оплате 3 210,00 ₽.",
            link="/accounts/1/bills/",
            dedupe_key=f"bench-bill:{u}",
        )
        for u in users
    )
    started = time.perf_counter()
    notifications_create(drafts=drafts, now=NOW)
    create = time.perf_counter() - started
    FIGURES["create_per_s"] = round(len(users) / create)
    print(
        f"create: {len(users):,} notifications_create (in-app + e-mail planned) in "
        f"{create:.2f} s ({len(users) / create:,.0f}/s)",
        flush=True,
    )

    # ---- delivery to the outbox channels
    sms_ids = list(planned.order_by("pk").values_list("pk", flat=True)[:deliver_n])
    took, sent = dispatch_all(sms_ids)
    FIGURES["sms_per_s"] = round(sent / took)
    print(f"deliver SMS (outbox file): {sent:,} in {took:.2f} s ({sent / took:,.0f}/s)", flush=True)
    mail_ids = list(
        Delivery.objects.filter(channel="email", state=DeliveryState.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[:deliver_n]
    )
    took, sent = dispatch_all(mail_ids)
    FIGURES["email_per_s"] = round(sent / took)
    print(
        f"deliver e-mail (file backend): {sent:,} in {took:.2f} s ({sent / took:,.0f}/s)",
        flush=True,
    )

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Push)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.WEBPUSH_ALLOW_LOOPBACK_HTTP = True
    settings.WEBPUSH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = push.vapid_generate()
    push.vapid_keys.cache_clear()
    try:
        push_users = users[:push_n]
        keys = [
            PushSubscription(
                user_id=u, endpoint=f"{base}/push/{u}", p256dh=p, auth=a, created_at=NOW
            )
            for u in push_users
            for p, a in [_browser_keys()]
        ]
        PushSubscription.objects.bulk_create(keys)
        notifications_create(
            drafts=(
                NotificationDraft(
                    user_id=u,
                    kind="reading",
                    title="Приём показаний открыт",
                    body="Передайте показания с 15 по 25 число.",
                    link="/meters/",
                    dedupe_key=f"bench-reading:{u}",
                )
                for u in push_users
            ),
            now=NOW,
        )
        push_ids = list(
            Delivery.objects.filter(channel="push", state=DeliveryState.PENDING).values_list(
                "pk", flat=True
            )
        )
        took, sent = dispatch_all(push_ids)
        FIGURES["push_per_s"] = round(sent / took)
        print(
            f"deliver Web Push (encrypt + POST to a loopback push service): {sent:,} in "
            f"{took:.2f} s ({sent / took:,.0f}/s)",
            flush=True,
        )
    finally:
        server.shutdown()
    end_load = os.getloadavg()
    print(f"peak RSS {peak_mb():.0f} MB; load average at the end {end_load[0]:.2f}", flush=True)
    FIGURES.update(
        database=connection.vendor,
        cores=os.cpu_count(),
        load_average_start=round(load[0], 2),
        load_average_end=round(end_load[0], 2),
        peak_rss_mb=round(peak_mb()),
    )
    text = json.dumps(FIGURES, indent=2, ensure_ascii=False) + "\n"
    # Run by bench/run.py the figures go into its report; by hand, into bench/results.
    out = args.json or (
        RESULTS
        / f"{datetime.now(tz=UTC).date()}-notices-{connection.vendor}{'-quick' * quick}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"written {out}")
    return 0


def _browser_keys() -> tuple[str, str]:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return b64(point), b64(os.urandom(16))


if __name__ == "__main__":
    sys.exit(main())
