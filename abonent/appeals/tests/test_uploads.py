"""Attachment checks by content: allowed kinds, disguised ones, limits, names, clamd."""

from __future__ import annotations

import io
from typing import Any

import pytest

from abonent.appeals import uploads
from abonent.appeals.tests.factories import (
    EICAR,
    docx_bytes,
    exe_bytes,
    fake_clamd,
    heic_bytes,
    image_bytes,
    ole2_bytes,
    pdf_bytes,
    plain_zip_bytes,
    upload,
    xlsx_bytes,
)
from abonent.core.errors import DomainError, ValidationFailed


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (pdf_bytes(), "application/pdf"),
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("PNG"), "image/png"),
        (heic_bytes(), "image/heic"),
        (ole2_bytes("WordDocument"), "application/msword"),
        (ole2_bytes("Workbook"), "application/vnd.ms-excel"),
        (docx_bytes(), uploads.DOCX.content_type),
        (xlsx_bytes(), uploads.XLSX.content_type),
    ],
)
def test_allowed_kinds_are_recognised_by_content(data: bytes, content_type: str) -> None:
    kind = uploads.detect_kind(io.BytesIO(data))

    assert kind is not None
    assert kind.content_type == content_type


@pytest.mark.parametrize(
    "data",
    [
        exe_bytes(),
        b"<html><script>alert(1)</script></html>",
        b"GIF89a\x01\x00\x01\x00",
        plain_zip_bytes(),  # a zip that is no office document
        docx_bytes(macro=True),  # .docm: macros
        ole2_bytes("SummaryInformation"),  # an OLE2 container with no Word/Excel stream
        b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif" + b"\x00" * 32,  # AVIF, not HEIC
    ],
)
def test_other_content_is_not_allowed(data: bytes) -> None:
    assert uploads.detect_kind(io.BytesIO(data)) is None


def test_an_exe_renamed_pdf_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        uploads.check_files([upload("счёт.pdf", exe_bytes(), "application/pdf")])

    assert err.value.code == "file_type_not_allowed"
    assert "счёт.pdf" in err.value.message
    assert "PDF, JPEG, PNG, HEIC, DOC, DOCX, XLS, XLSX" in err.value.message


def test_a_file_over_the_limit_is_refused(settings: Any) -> None:
    settings.APPEALS_MAX_FILE_SIZE = 1536 * 1024
    data = pdf_bytes() + b"0" * (1536 * 1024)

    with pytest.raises(ValidationFailed) as err:
        uploads.check_files([upload("big.pdf", data)])

    assert err.value.code == "file_too_large"
    assert err.value.fields == {"files": ["Файл «big.pdf» больше 1,5 МБ."]}


def test_the_size_limit_message_names_megabytes() -> None:
    data = pdf_bytes() + b"0" * (10 * 1024 * 1024)

    with pytest.raises(ValidationFailed) as err:
        uploads.check_files([upload("скан.pdf", data)])

    assert err.value.message == "Файл «скан.pdf» больше 10 МБ."


def test_too_many_files_are_refused() -> None:
    files = [upload(f"{n}.pdf", pdf_bytes()) for n in range(6)]

    with pytest.raises(ValidationFailed) as err:
        uploads.check_files(files)

    assert err.value.code == "too_many_files"
    assert err.value.message == "Можно приложить не больше 5 файлов к одному сообщению."


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        uploads.check_files([upload("пусто.pdf", b"")])

    assert err.value.code == "file_empty"


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("Договор.pdf", uploads.PDF, "Договор.pdf"),
        ("../../etc/passwd", uploads.PDF, "passwd.pdf"),
        ("C:\\Users\\anna\\фото 1.JPG", uploads.JPEG, "фото 1.jpg"),
        ("фото.pdf", uploads.JPEG, "фото.jpg"),  # named PDF, really a JPEG
        ("invoice.exe.pdf", uploads.PDF, "invoice.exe.pdf"),
        ("evil\u202egnp.exe", uploads.PNG, "evilgnp.png"),  # right-to-left override removed
        ('a<b>:"c"|?*\x00\x1f.docx', uploads.DOCX, "abc.docx"),
        ("   ...   ", uploads.PDF, "файл.pdf"),
        ("", uploads.PNG, "файл.png"),
        ("x" * 300 + ".pdf", uploads.PDF, "x" * 100 + ".pdf"),
        ("Скан паспорта", uploads.PDF, "Скан паспорта.pdf"),
    ],
)
def test_names_are_cleaned_and_get_the_real_extension(
    raw: str, kind: uploads.FileKind, expected: str
) -> None:
    assert uploads.clean_name(raw, kind) == expected


def test_clamd_scans_when_configured_and_refuses_a_virus(settings: Any) -> None:
    with fake_clamd() as clamd:
        settings.CLAMD_HOST, settings.CLAMD_PORT = clamd["host"], clamd["port"]
        infected = pdf_bytes() + EICAR

        ok = uploads.check_files([upload("ok.pdf", pdf_bytes())])
        with pytest.raises(ValidationFailed) as err:
            uploads.check_files([upload("bad.pdf", infected)])

    assert [f.name for f in ok] == ["ok.pdf"]
    assert err.value.code == "file_infected"
    assert clamd["scanned"] == [pdf_bytes(), infected]


def test_an_unreachable_clamd_refuses_rather_than_lets_through(settings: Any) -> None:
    with fake_clamd() as clamd:
        port = clamd["port"]
    settings.CLAMD_HOST, settings.CLAMD_PORT, settings.CLAMD_TIMEOUT = "127.0.0.1", port, 1

    with pytest.raises(DomainError) as err:
        uploads.check_files([upload("ok.pdf", pdf_bytes())])

    assert err.value.status == 503
    assert err.value.code == "scanner_unavailable"


def test_without_clamd_settings_nothing_is_scanned() -> None:
    assert uploads.clamd_instream(b"anything") == ""
