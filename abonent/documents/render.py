"""PDF rendering with Typst: one reused compiler per thread, data passed as JSON.

The templates (`templates/documents/*.typ`) are Typst modules exporting one function each
(`bill(d, qr)`, `statement(d)`) and never see Python. A document is compiled from a fixed
two-line entry point that imports the template and calls it with the data as ONE JSON
string literal (`json(bytes("…"))`), plus the payment QR as an SVG string literal:

    #import "bill.typ": bill
    #bill(json(bytes("{\\"number\\":…}")), bytes("<svg …>"))

Only `\\` and `"` are special inside a Typst string literal and both are escaped, so no
value can reach Typst as markup or code: this is data passing, not generating Typst.

Why not `sys_inputs`: Typst keys its caches on the whole standard library, and
`sys.inputs` lives in it, so a compiler given new `sys_inputs` lays out every paragraph of
every bill from scratch (measured: ~10 ms of a ~13 ms bill). With the data in the entry
source, the template, the fonts and every paragraph that did not change (labels, headings,
requisites) come from the reused compiler's cache, and a bill costs a few milliseconds.

Fonts are the ones embedded in Typst itself (Libertinus Serif, with Cyrillic): no system
font is looked up, so a fresh machine renders the same bytes and the text extracts.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typst

TEMPLATES = Path(__file__).resolve().parent / "templates" / "documents"

_local = threading.local()


class RenderError(RuntimeError):
    """Typst refused a document: a bug in a template or its data, never the customer's."""


def compiler() -> typst.Compiler:
    """This thread's compiler (a `typst.Compiler` is not shared between threads)."""
    found: typst.Compiler | None = getattr(_local, "compiler", None)
    if found is None:
        found = typst.Compiler(
            root=str(TEMPLATES),
            font_paths=typst.Fonts(include_system_fonts=False, include_embedded_fonts=True),
            ignore_system_fonts=True,
        )
        _local.compiler = found
    return found


def typst_string(value: str) -> str:
    """A Typst string literal holding exactly `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def compile_pdf(source: str, *, timestamp: datetime | None = None) -> bytes:
    if timestamp is not None:  # Typst wants whole seconds at a fixed offset
        timestamp = timestamp.astimezone(UTC).replace(microsecond=0)
    try:
        pdf = compiler().compile(
            input=source.encode(), format="pdf", timestamp=timestamp, pdf_tags=False
        )
    except typst.TypstError as exc:
        raise RenderError(f"{exc.message}: {exc.diagnostic}") from exc
    assert isinstance(pdf, bytes)  # narrows typst's return type for mypy  # nosec B101
    return pdf


def bill_pdf(*, data: dict[str, Any], qr_svg: str, timestamp: datetime | None = None) -> bytes:
    source = (
        '#import "bill.typ": bill\n'
        f"#bill(json(bytes({typst_string(to_json(data))})), bytes({typst_string(qr_svg)}))\n"
    )
    return compile_pdf(source, timestamp=timestamp)


def statement_pdf(*, data: dict[str, Any], timestamp: datetime | None = None) -> bytes:
    source = (
        '#import "statement.typ": statement\n'
        f"#statement(json(bytes({typst_string(to_json(data))})))\n"
    )
    return compile_pdf(source, timestamp=timestamp)
