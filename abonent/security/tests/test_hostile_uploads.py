"""Hostile attachments through the API: path-traversal and header-injection names, disguised
types, polyglots, decompression bombs. Each is refused (and nothing stored) or neutralised
(stored under a generated path, served as a download of its real type that no browser runs)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from abonent.appeals.models import Attachment, Message
from abonent.appeals.tests.factories import image_bytes, pdf_bytes, upload
from abonent.security.tests.world import World


def _send(world: World, *files: Any) -> Any:
    client = Client(headers=world.owner.auth)
    return client.post(
        f"/api/v1/appeals/{world.owner.ids['appeal_id']}/messages",
        {"body": "Вложение", "files": list(files)},
    )


def _stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\boot.pdf", "boot.pdf"),
        ("/var/lib/abonent/settings.py.pdf", "settings.py.pdf"),
        ("счёт\x00.exe.pdf", "счёт.exe.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.pdf"),
        ('x"\r\nSet-Cookie: session=evil.pdf', "x.pdf"),  # the form parser drops the rest
        ("....pdf", "pdf.pdf"),
        ("CON.pdf", "CON.pdf"),
    ],
)
def test_a_hostile_name_is_cleaned_and_the_file_stays_in_private_storage(
    world: World, private_storage: Path, name: str, shown: str
) -> None:
    response = _send(world, upload(name, pdf_bytes(), "application/pdf"))

    assert response.status_code == 201, response.content
    attachment = Attachment.objects.order_by("-pk").first()
    assert attachment is not None
    assert attachment.name == shown
    # stored under a generated name inside the private folder, whatever the name said
    assert attachment.path.startswith("appeals/")
    assert ".." not in attachment.path
    assert "\\" not in attachment.path
    stored = private_storage / attachment.path
    assert stored.resolve().is_relative_to(private_storage.resolve())
    assert stored.read_bytes() == pdf_bytes()
    # and the download header cannot be split or inject anything
    download = Client(headers=world.owner.auth).get(f"/api/v1/attachments/{attachment.pk}")
    disposition = download["Content-Disposition"]
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert "Set-Cookie" not in {k for k, _ in download.items() if k != "Content-Disposition"}


# ---------------------------------------------------------------- disguised types


HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        ("отчёт.pdf", HTML, "application/pdf"),
        ("фото.jpg", SVG, "image/jpeg"),
        ("photo.png", b"GIF89a" + b"\x00" * 64, "image/png"),
        ("script.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"),
        ("doc.docx", b"PK\x03\x04" + b"\x00" * 100, "application/octet-stream"),
    ],
    ids=["html-as-pdf", "svg-as-jpeg", "gif-as-png", "shell-as-pdf", "broken-zip-as-docx"],
)
def test_a_disguised_type_is_refused_and_nothing_is_stored(
    world: World, private_storage: Path, name: str, data: bytes, declared: str
) -> None:
    before = (Message.objects.count(), _stored_files(private_storage))

    response = _send(world, upload(name, data, declared))

    assert response.status_code == 422
    assert response.json()["code"] == "file_type_not_allowed"
    assert (Message.objects.count(), _stored_files(private_storage)) == before


# ---------------------------------------------------------------- polyglots


def test_a_pdf_html_polyglot_is_served_as_a_pdf_download_no_browser_runs(world: World) -> None:
    # given a file that is a PDF by its magic bytes and an HTML page to a sniffing browser
    polyglot = pdf_bytes() + b"\n" + HTML

    response = _send(world, upload("report.html", polyglot, "text/html"))

    # then it is kept as what its content starts as, and served so nothing renders it
    assert response.status_code == 201
    attachment = Attachment.objects.order_by("-pk").first()
    assert attachment is not None
    assert (attachment.name, attachment.content_type) == ("report.pdf", "application/pdf")
    download = Client(headers=world.owner.auth).get(f"/api/v1/attachments/{attachment.pk}")
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]


def test_a_jpeg_with_a_script_after_its_end_is_neutralised_the_same_way(world: World) -> None:
    polyglot = image_bytes("JPEG") + HTML

    response = _send(world, upload("photo.jpg", polyglot, "image/jpeg"))

    assert response.status_code == 201
    attachment = Attachment.objects.order_by("-pk").first()
    assert attachment is not None
    download = Client(headers=world.owner.auth).get(f"/api/v1/attachments/{attachment.pk}")
    assert download["Content-Type"] == "image/jpeg"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]


# ---------------------------------------------------------------- decompression bombs


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid PNG of 2.5 gigapixels in about a kilobyte: one-bit greyscale, rows of zeros."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = compressor.compress(row * 64) + compressor.flush()  # only the first rows: enough
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def jpeg_bomb() -> bytes:
    """A real small JPEG whose frame header claims 65 000 × 65 000 pixels."""
    data = bytearray(image_bytes("JPEG", size=(16, 16)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 65_000, 65_000)
    return bytes(data)


@pytest.mark.parametrize(
    ("name", "make"),
    [("bomb.png", png_bomb), ("bomb.jpg", jpeg_bomb)],
    ids=["png", "jpeg"],
)
def test_a_decompression_bomb_is_refused_before_anything_decodes_it(
    world: World, private_storage: Path, name: str, make: Any
) -> None:
    data = make()
    assert len(data) < 20_000
    before = (Message.objects.count(), _stored_files(private_storage))

    response = _send(world, upload(name, data, "image/png"))

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "image_not_accepted"
    assert body["fields"]["files"] == [
        f"Изображение «{name}» повреждено или слишком большое: не больше 100 Мп."
    ]
    assert (Message.objects.count(), _stored_files(private_storage)) == before


def test_a_truncated_png_is_refused(world: World) -> None:
    good = image_bytes("PNG", size=(64, 64))
    broken = good[:40] + b"\x00" * 20 + good[60:]

    response = _send(world, upload("scan.png", broken, "image/png"))

    assert response.status_code == 422
    assert response.json()["code"] == "image_not_accepted"


def test_a_big_but_honest_photo_is_accepted(world: World) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 100, 50)).save(buffer, "JPEG", quality=30)

    response = _send(world, upload("IMG_2041.JPG", buffer.getvalue(), "image/jpeg"))

    assert response.status_code == 201
