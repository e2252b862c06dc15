"""Attachment checks: the type is read from the content (magic bytes; for DOCX/XLSX the zip's
own manifest; for DOC/XLS the OLE2 directory), never from the name or the declared type.
Names are cleaned, files go to PRIVATE storage under generated paths, and an optional clamd
scan runs before anything is stored."""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import socket
import struct
import unicodedata
import uuid
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from abonent.core.errors import DomainError, ValidationFailed


class UploadLike(Protocol):
    """What Django's UploadedFile offers and the service needs."""

    @property
    def name(self) -> str | None: ...

    @property
    def size(self) -> int | None: ...

    def chunks(self, chunk_size: int | None = None) -> Any: ...

    def seek(self, offset: int, whence: int = 0) -> Any: ...


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str
    label: str


PDF = FileKind("application/pdf", "pdf", "PDF")
JPEG = FileKind("image/jpeg", "jpg", "JPEG")
PNG = FileKind("image/png", "png", "PNG")
HEIC = FileKind("image/heic", "heic", "HEIC")
DOC = FileKind("application/msword", "doc", "DOC")
XLS = FileKind("application/vnd.ms-excel", "xls", "XLS")
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "DOCX"
)
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "XLSX")
KINDS = (PDF, JPEG, PNG, HEIC, DOC, DOCX, XLS, XLSX)
ALLOWED_LABEL = "PDF, JPEG, PNG, HEIC, DOC, DOCX, XLS, XLSX"

HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_UNPACKED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 200


def _heic(head: bytes) -> bool:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box = struct.unpack(">I", head[:4])[0]
    brands = {head[8:12]}
    end = min(box, len(head)) if box >= 16 else 16
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return bool(brands & HEIC_BRANDS)


def _ole2_streams(data: bytes) -> set[str]:
    """Names in an OLE2 (Compound File) directory, read by following the FAT chain."""
    if len(data) < 512 or data[:8] != OLE2_MAGIC:
        return set()
    sector_size = 1 << struct.unpack_from("<H", data, 30)[0]
    if sector_size not in (512, 4096):
        return set()
    first_dir = struct.unpack_from("<I", data, 48)[0]
    fat_sectors = list(struct.unpack_from("<109I", data, 76))
    fat: list[int] = []
    for sector in fat_sectors:
        if sector >= 0xFFFFFFFA:
            continue
        offset = (sector + 1) * sector_size
        chunk = data[offset : offset + sector_size]
        if len(chunk) < sector_size:
            break
        fat.extend(struct.unpack(f"<{sector_size // 4}I", chunk))
    names: set[str] = set()
    sector, seen = first_dir, set[int]()
    while sector < 0xFFFFFFFA and sector not in seen and len(seen) < 10_000:
        seen.add(sector)
        offset = (sector + 1) * sector_size
        chunk = data[offset : offset + sector_size]
        for entry in range(0, len(chunk) - 127, 128):
            length = struct.unpack_from("<H", chunk, entry + 64)[0]
            if 2 <= length <= 64:
                raw = chunk[entry : entry + length - 2]
                names.add(raw.decode("utf-16-le", errors="replace"))
        sector = fat[sector] if sector < len(fat) else 0xFFFFFFFE
    return names


def _ooxml(handle: IO[bytes]) -> FileKind | None:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    with archive:
        infos = archive.infolist()
        if len(infos) > ZIP_MAX_ENTRIES:
            return None
        unpacked = sum(i.file_size for i in infos)
        packed = max(1, sum(i.compress_size for i in infos))
        if unpacked > ZIP_MAX_UNPACKED or unpacked / packed > ZIP_MAX_RATIO:
            return None  # a zip bomb is no office document
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names:
            return None
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            return None  # macros
        info = archive.getinfo("[Content_Types].xml")
        if info.file_size > 1024 * 1024:
            return None
        try:
            manifest = archive.read(info).decode("utf-8", errors="replace")
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
            return None
    if "word/document.xml" in names and f'ContentType="{DOCX_MAIN}"' in manifest:
        return DOCX
    if "xl/workbook.xml" in names and f'ContentType="{XLSX_MAIN}"' in manifest:
        return XLSX
    return None


def detect_kind(handle: IO[bytes]) -> FileKind | None:
    """The allowed kind this content really is, or None."""
    handle.seek(0)
    head = handle.read(64)
    handle.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if _heic(head):
        return HEIC
    if head.startswith(b"PK\x03\x04"):
        kind = _ooxml(handle)
        handle.seek(0)
        return kind
    if head.startswith(OLE2_MAGIC):
        data = handle.read()
        handle.seek(0)
        streams = _ole2_streams(data)
        if any(n.lower().endswith("vba") or n == "Macros" for n in streams):
            return None
        if "WordDocument" in streams:
            return DOC
        if "Workbook" in streams or "Book" in streams:
            return XLS
    return None


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069]')


def clean_name(raw: str | None, kind: FileKind) -> str:
    """A safe display name: no path, no control or bidi characters, the extension of what the
    file really is («договор.exe.pdf» → «договор.exe.pdf», «фото.pdf» that is a JPEG →
    «фото.jpg»)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 5 or " " in ext:
        stem = name  # no extension to replace
    stem = stem.strip(" .")[:100].strip(" .") or _("файл")
    return f"{stem}.{kind.extension}"


def storage() -> Storage:
    return storages[settings.APPEALS_STORAGE_ALIAS]


def generated_path(now: datetime, kind: FileKind) -> str:
    return f"appeals/{now:%Y/%m}/{uuid.uuid4().hex}.{kind.extension}"


@dataclass
class CheckedFile:
    data: bytes
    name: str
    kind: FileKind
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def image_fits(data: bytes, kind: FileKind) -> bool:
    """A JPEG or PNG whose header Pillow reads, within APPEALS_MAX_IMAGE_PIXELS. Thumbnails of
    attachments are shown in the thread, so a decompression bomb (a few kilobytes declaring
    50 000 × 50 000 pixels) would hang the customer's or the operator's browser. Only the
    header and (for PNG) the chunk checksums are read: nothing is decoded here."""
    if kind not in (JPEG, PNG):
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > settings.APPEALS_MAX_IMAGE_PIXELS:
                    return False
                image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        struct.error,
    ):
        return False
    return True


def _read_limited(upload: UploadLike, limit: int) -> bytes | None:
    parts, total = [], 0
    upload.seek(0)
    for chunk in upload.chunks():
        total += len(chunk)
        if total > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _mb(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")


def check_files(uploads: Sequence[UploadLike], *, field: str = "files") -> list[CheckedFile]:
    """Every check, before anything is stored; the first failure refuses the whole message."""
    limit_count = settings.APPEALS_MAX_FILES
    limit_size = settings.APPEALS_MAX_FILE_SIZE
    if len(uploads) > limit_count:
        raise ValidationFailed(
            _("Можно приложить не больше %(n)d файлов к одному сообщению.") % {"n": limit_count},
            code="too_many_files",
            fields={field: [_("Не больше %(n)d файлов.") % {"n": limit_count}]},
        )
    checked = []
    for upload in uploads:
        shown = (upload.name or _("файл"))[-80:]
        data = _read_limited(upload, limit_size)
        if data is None or (upload.size or 0) > limit_size:
            message = _("Файл «%(name)s» больше %(mb)s МБ.") % {
                "name": shown,
                "mb": _mb(limit_size),
            }
            raise ValidationFailed(message, code="file_too_large", fields={field: [message]})
        if not data:
            message = _("Файл «%(name)s» пустой.") % {"name": shown}
            raise ValidationFailed(message, code="file_empty", fields={field: [message]})
        kind = detect_kind(io.BytesIO(data))
        if kind is None:
            message = _(
                "Файл «%(name)s» нельзя приложить: подходят только %(types)s "
                "(тип проверяется по содержимому файла)."
            ) % {"name": shown, "types": ALLOWED_LABEL}
            raise ValidationFailed(message, code="file_type_not_allowed", fields={field: [message]})
        if not image_fits(data, kind):
            message = _(
                "Изображение «%(name)s» повреждено или слишком большое: не больше %(mp)s Мп."
            ) % {"name": shown, "mp": settings.APPEALS_MAX_IMAGE_PIXELS // 1_000_000}
            raise ValidationFailed(message, code="image_not_accepted", fields={field: [message]})
        scan(data, name=shown)
        checked.append(
            CheckedFile(
                data=data,
                name=clean_name(upload.name, kind),
                kind=kind,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    return checked


def store(files: list[CheckedFile], *, now: datetime) -> list[str]:
    """Save to private storage under generated paths; returns the paths (same order)."""
    target = storage()
    paths = []
    try:
        for f in files:
            paths.append(target.save(generated_path(now, f.kind), ContentFile(f.data)))
    except Exception:
        discard(paths)
        raise
    return paths


def discard(paths: list[str]) -> None:
    target = storage()
    for path in paths:
        # Best effort: an orphan file is harmless, no row points to it.
        with contextlib.suppress(Exception):
            target.delete(path)


# ---------------------------------------------------------------- virus scanner (clamd)


class ScannerUnavailable(DomainError):
    code = "scanner_unavailable"
    status = 503


def _clamd_connect() -> socket.socket | None:
    timeout = settings.CLAMD_TIMEOUT
    if settings.CLAMD_SOCKET:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(settings.CLAMD_SOCKET)
        return sock
    if settings.CLAMD_HOST:
        return socket.create_connection((settings.CLAMD_HOST, settings.CLAMD_PORT), timeout)
    return None


def clamd_instream(data: bytes) -> str:
    """clamd's INSTREAM: the file in length-prefixed chunks; the reply is «stream: OK»,
    «stream: <virus> FOUND» or an error. Returns the reply text ('' when no scanner is set)."""
    try:
        sock = _clamd_connect()
        if sock is None:
            return ""
        with sock:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), 64 * 1024):
                chunk = data[start : start + 64 * 1024]
                sock.sendall(struct.pack(">I", len(chunk)) + chunk)
            sock.sendall(struct.pack(">I", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
    except OSError as exc:
        raise ScannerUnavailable(
            _("Проверка файлов на вирусы сейчас недоступна. Попробуйте отправить файл позже.")
        ) from exc
    return reply.rstrip(b"\0").decode("utf-8", errors="replace").strip()


def scan(data: bytes, *, name: str) -> None:
    reply = clamd_instream(data)
    if not reply or reply.endswith(" OK"):
        return
    if reply.endswith("FOUND"):
        message = _("В файле «%(name)s» найден вирус, он не принят.") % {"name": name}
        raise ValidationFailed(message, code="file_infected", fields={"files": [message]})
    raise ScannerUnavailable(
        _("Проверка файлов на вирусы сейчас недоступна. Попробуйте отправить файл позже.")
    )
