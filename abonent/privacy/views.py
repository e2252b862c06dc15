"""The customer's «Скачать мои данные» (152-ФЗ): a ZIP with everything held about them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.http import client_ip
from abonent.privacy import services


@login_required
@require_POST
def export_view(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    try:
        content_type, content = services.data_export_create(
            user=request.user, fmt="zip", now=now, ip=client_ip(request)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("identity:profile")
    response = HttpResponse(content, content_type=content_type)
    name = f"abonent-moi-dannye-{now:%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
