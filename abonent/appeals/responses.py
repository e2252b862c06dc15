"""The HTTP shape of an attachment download, shared by the API and the web pages."""

from __future__ import annotations

from django.http import FileResponse

from abonent.appeals import uploads
from abonent.appeals.models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """Always a download (`Content-Disposition: attachment`), of the type found by content,
    never sniffed, never cached by shared caches, and sandboxed should a browser render it."""
    handle = uploads.storage().open(attachment.path, "rb")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response
