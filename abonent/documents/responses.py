"""The HTTP shape of a PDF download, shared by the API and the web views."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse


def pdf_response(content: bytes, *, filename: str, ascii_filename: str) -> HttpResponse:
    """`application/pdf` as an attachment; the Russian name per RFC 6266/5987 (`filename*`)
    with a plain ASCII `filename` for old clients; private, never sniffed."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_filename}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
