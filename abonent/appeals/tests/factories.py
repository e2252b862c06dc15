"""Builders for appeals tests: categories, operators, appeals, and real small files of every
allowed kind (plus disguised ones), made in memory."""

from __future__ import annotations

import io
import socket
import struct
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from abonent.appeals import services
from abonent.appeals.models import Appeal, CannedAnswer, Category

# Monday 23 November 2026, 10:00 in Krasnoyarsk (UTC+7): specialists are at work.
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
OPERATOR_PASSWORD = "operator-pass-2026"


def make_category(name: str = "Начисления", sla_hours: int = 8, **extra: Any) -> Category:
    category, _ = Category.objects.get_or_create(
        name=name, defaults={"sla_hours": sla_hours, **extra}
    )
    return category


def make_operator(phone: str = "+79130000001", first_name: str = "Ольга", **extra: Any) -> Any:
    user = get_user_model().objects.create_user(
        phone=phone,
        password=OPERATOR_PASSWORD,
        first_name=first_name,
        last_name=extra.pop("last_name", "Специалистова"),
        is_staff=True,
        **extra,
    )
    user.groups.add(services.operators_group_ensure())
    return get_user_model().objects.get(pk=user.pk)  # a fresh permission cache


def make_canned(title: str = "Приветствие", body: str = "Здравствуйте! Уже смотрим.") -> Any:
    return CannedAnswer.objects.create(title=title, body=body)


def make_appeal(
    user: Any,
    *,
    category: Category | None = None,
    subject: str = "Вопрос по начислению",
    body: str = "Почему выросла сумма за отопление?",
    files: list[Any] | None = None,
    now: datetime = NOW,
    account_id: int | None = None,
) -> Appeal:
    return services.appeal_create(
        user=user,
        category_id=(category or make_category()).pk,
        account_id=account_id,
        subject=subject,
        body=body,
        files=files or [],
        now=now,
    )


# ---------------------------------------------------------------- files


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def image_bytes(kind: str = "JPEG", size: tuple[int, int] = (40, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, kind)
    return buffer.getvalue()


def heic_bytes() -> bytes:
    ftyp = b"ftyp" + b"heic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + b"\x00" * 64


def _ooxml(parts: dict[str, str], main_type: str, main_part: str) -> bytes:
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{main_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def docx_bytes(*, macro: bool = False) -> bytes:
    main = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macro
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    parts = {"word/document.xml": "<w:document/>"}
    if macro:
        parts["word/vbaProject.bin"] = "x"
    return _ooxml(parts, main, "word/document.xml")


def xlsx_bytes() -> bytes:
    return _ooxml(
        {"xl/workbook.xml": "<workbook/>"},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "xl/workbook.xml",
    )


def plain_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not an office document")
    return buffer.getvalue()


def _dir_entry(name: str, kind: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    entry = encoded.ljust(64, b"\x00")
    entry += struct.pack("<HBB", len(encoded), kind, 1)  # name length, type, colour
    entry += struct.pack("<III", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)  # siblings, child
    entry += b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16  # clsid, state, times
    entry += struct.pack("<IQ", 0xFFFFFFFE, 0)  # start sector, size
    return entry.ljust(128, b"\x00")


def ole2_bytes(stream: str = "WordDocument") -> bytes:
    """A minimal Compound File (the DOC/XLS container): a FAT sector and a directory sector
    naming the root and one stream."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16  # magic, class id
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6  # 512-byte sectors
    # directory sectors, FAT sectors, first directory sector, transaction, mini cutoff,
    # first mini FAT, mini FAT sectors, first DIFAT, DIFAT sectors; then the DIFAT itself.
    header += struct.pack("<9I", 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    header += struct.pack("<109I", 0, *([0xFFFFFFFF] * 108))
    fat = struct.pack("<II", 0xFFFFFFFD, 0xFFFFFFFE) + b"\xff" * (512 - 8)
    directory = _dir_entry("Root Entry", 5) + _dir_entry(stream, 2)
    directory = directory.ljust(512, b"\x00")
    return header + fat + directory


def exe_bytes() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"PE\x00\x00"


EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


# ---------------------------------------------------------------- a fake clamd on loopback


@contextmanager
def fake_clamd() -> Iterator[dict[str, Any]]:
    """A loopback server speaking clamd's INSTREAM: «FOUND» when the stream holds the EICAR
    test string, «OK» otherwise. Yields {"host", "port", "scanned": [bytes, ...]}."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    state: dict[str, Any] = {"host": "127.0.0.1", "port": server.getsockname()[1], "scanned": []}
    stop = threading.Event()

    def read_exact(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise ConnectionError
            data += part
        return data

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    command = read_exact(conn, len(b"zINSTREAM\0"))
                    assert command == b"zINSTREAM\0", command
                    body = b""
                    while True:
                        (length,) = struct.unpack(">I", read_exact(conn, 4))
                        if length == 0:
                            break
                        body += read_exact(conn, length)
                    state["scanned"].append(body)
                    verdict = b"Win.Test.EICAR_HDB-1 FOUND" if EICAR in body else b"OK"
                    conn.sendall(b"stream: " + verdict + b"\0")
                except (ConnectionError, OSError, AssertionError):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)
