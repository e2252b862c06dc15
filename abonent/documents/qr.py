"""GOST R 56042-2014 payment QR codes: the payload and a fast SVG picture of it.

The payload is the «ST00012» (UTF-8) format a Russian banking app reads when a customer
scans the bill: the payee's requisites, the ЛС, the sum in kopecks, the purpose and the
period. The picture is drawn by segno with a FIXED mask: choosing the best of eight masks
costs about five times as much as the whole rest of the encoding, and a scanner reads any
mask; error correction level M survives a creased or badly printed bill.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import segno
from segno import consts as _consts
from segno import encoder as _enc

from abonent.core.money import to_kopecks

if TYPE_CHECKING:
    from abonent.accounts.models import Branch, PersonalAccount

HEADER = "ST00012"  # ST = standard, 0001 = version, 2 = UTF-8
QR_MASK = 0
QR_ERROR = "m"
_ERROR = _consts.ERROR_LEVEL_M
_CAPACITY: Any = _consts.SYMBOL_CAPACITY
_ECC: Any = _consts.ECC
QR_BORDER = 4  # the quiet zone, in modules, that the standard asks for

_DARK_RUN = re.compile(b"\x01+")
_FORBIDDEN = str.maketrans({"|": " ", "\r": " ", "\n": " ", "\t": " "})


def clean_value(value: object) -> str:
    """A field value without the separator or line breaks, single-spaced."""
    return " ".join(str(value).translate(_FORBIDDEN).split())


def payment_qr_payload(
    *,
    branch: Branch,
    account: PersonalAccount,
    amount: Decimal,
    period_month: date,
    purpose: str,
) -> str:
    """`ST00012|Name=…|…|Sum=<kopecks>|Purpose=…|paymPeriod=MMYYYY`; no Sum when nothing is due."""
    fields: list[tuple[str, object]] = [
        ("Name", branch.payee_name),
        ("PersonalAcc", branch.payee_account),
        ("BankName", branch.bank_name),
        ("BIC", branch.bank_bic),
        ("CorrespAcc", branch.bank_corr_account),
        ("PayeeINN", branch.payee_inn),
        ("KPP", branch.payee_kpp),
        ("persAcc", account.number),
    ]
    if amount > 0:
        fields.append(("Sum", to_kopecks(amount)))
    fields.append(("Purpose", purpose))
    fields.append(("paymPeriod", f"{period_month:%m%Y}"))
    return "|".join([HEADER, *(f"{name}={clean_value(value)}" for name, value in fields)])


@functools.cache
def _symbol(version: int) -> tuple[tuple[bytearray, ...], tuple[tuple[int, int, int], ...]]:
    """A version's fixed part (function patterns, format and version info for error M and
    the fixed mask) and its data modules in placement order, each with its mask bit.

    Everything here depends on the version only, so it is built once per version instead of
    once per code: placing ~5,000 bits and masking them module by module is most of what
    segno spends on a code once the mask choice is skipped.
    """
    size = _enc.calc_matrix_size(version)
    matrix = _enc.make_matrix(size, size)
    _enc.add_finder_patterns(matrix, size, size)
    _enc.add_alignment_patterns(matrix, size, size)
    mask_fn = _enc.get_data_mask_functions(False)[QR_MASK]
    positions: list[tuple[int, int, int]] = []
    # The two-module columns, right to left, alternately upwards and downwards, skipping
    # the vertical timing pattern (ISO/IEC 18004:2015, 7.7.3), as segno places them.
    for right in range(size - 1, 0, -2):
        if right <= 6:
            right -= 1
        upwards = (right & 2) == 0
        for vertical in range(size):
            for j in (right, right - 1):
                up = upwards ^ (j < 6)
                i = (size - 1 - vertical) if up else vertical
                if matrix[i][j] == 0x2:
                    positions.append((i, j, 1 if mask_fn(i, j) else 0))
    _enc.add_format_info(matrix, version, _ERROR, QR_MASK)
    _enc.add_version_info(matrix, version)
    return matrix, tuple(positions)


def _codewords(payload: str) -> tuple[int, bytes]:
    """The version and the final bit sequence (data + error correction), by segno."""
    segments = _enc.prepare_data(payload, None, "utf-8")
    version = _enc.find_version(segments, _ERROR, eci=False, micro=False)
    buff = _enc.Buffer()
    ver_range = _enc.version_range(version)
    for segment in segments:
        _enc.write_segment(buff, segment, None, ver_range, False)
    capacity = _CAPACITY[version][_ERROR]
    _enc.write_terminator(buff, capacity, None, len(buff))
    _enc.write_padding_bits(buff, version, len(buff))
    _enc.write_pad_codewords(buff, version, capacity, len(buff))
    return version, _final_message(version, bytes(buff.getbits()))


_BITS = tuple(bytes((byte >> i) & 1 for i in range(7, -1, -1)) for byte in range(256))
_ASCII_BITS = bytes.maketrans(b"\x00\x01", b"01")


class _Codewords:
    """What segno's `make_blocks` reads: the data codewords as integers."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def toints(self) -> Any:
        return iter(self.data)


def _final_message(version: int, bits: bytes) -> bytes:
    """Data and error-correction codewords, interleaved, as bits (ISO/IEC 18004:2015, 7.6).

    segno's `make_final_message` with the bit twiddling done by tables; the Reed-Solomon
    blocks are still segno's. The remainder bits are left to the placement (zeros).
    """
    data = int(bits.translate(_ASCII_BITS), 2).to_bytes(len(bits) // 8, "big")
    data_blocks, error_blocks = _enc.make_blocks(_ECC[version][_ERROR], _Codewords(data))
    out = bytearray()
    for blocks in (data_blocks, error_blocks):
        longest = max(len(block) for block in blocks)
        for k in range(longest):
            out.extend(block[k] for block in blocks if k < len(block))
    return b"".join(_BITS[byte] for byte in out)


def qr_matrix(payload: str) -> tuple[bytearray, ...]:
    """The QR modules (1 = dark), row by row; the same as `segno.make_qr(payload,
    error="m", mask=0, boost_error=False, encoding="utf-8").matrix`, about twice as fast."""
    version, bits = _codewords(payload)
    fixed, positions = _symbol(version)
    matrix = tuple(bytearray(row) for row in fixed)
    n = len(bits)
    for idx, (i, j, mask_bit) in enumerate(positions):
        matrix[i][j] = (bits[idx] if idx < n else 0) ^ mask_bit
    return matrix


def qr_matrix_by_segno(payload: str) -> tuple[bytearray, ...]:
    """The reference `qr_matrix` is checked against (tests) — segno's public API."""
    qr = segno.make_qr(payload, error=QR_ERROR, mask=QR_MASK, boost_error=False, encoding="utf-8")
    return qr.matrix


def qr_svg(payload: str) -> str:
    """The QR as a one-path SVG, one user unit per module, quiet zone included.

    Drawn here from the matrix, one stroked horizontal line per run of dark modules
    (`M x y.5 h n`), rather than by segno's writer: several times cheaper, and a short path
    is also what Typst converts fastest.
    """
    matrix = qr_matrix(payload)
    size = len(matrix) + 2 * QR_BORDER
    runs = [
        f"M{m.start() + QR_BORDER} {y}.5h{m.end() - m.start()}"
        for y, row in enumerate(matrix, start=QR_BORDER)
        for m in _DARK_RUN.finditer(row)
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path stroke="#000" d="{"".join(runs)}"/></svg>'
    )
