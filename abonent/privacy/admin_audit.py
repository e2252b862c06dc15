"""`AuditedAdmin`: the admin of a model holding customers' personal data. Every staff read
(a change page, a search, an export or any other action) and every change lands in the audit
log (`AuditEntry`) with whose data it was, next to Django's own LogEntry, so «who looked at
or changed customer X» is one filter in «Журнал действий».

A model admin says whose data a row is by a path to the customer (`audit_user_path`,
e.g. "payment__user") or to the ЛС (`audit_account_path`, e.g. "meter__account"; an ЛС's
data belongs to every customer linked to it)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from abonent.core import clock
from abonent.core.http import client_ip
from abonent.privacy import services
from abonent.privacy.selectors import audit_subjects

# Query parameters of a change list that narrow it to one customer or ЛС (`user__id__exact`,
# `account`, `notification__user__phone`…): such a listing is recorded like a search. A filter
# by branch, status or month is not.
_NARROWING = re.compile(r"(^|__)(user|account)(__(id|pk))?(__exact)?$|phone|email")


class AuditedAdmin(admin.ModelAdmin):
    audit_user_path: str | None = None
    audit_account_path: str | None = None

    # ------------------------------------------------------------ helpers

    def audit_object_type(self) -> str:
        return self.model._meta.label_lower

    def audit_subjects_of(self, pks: list[Any]) -> dict[Any, set[int]]:
        return audit_subjects(
            model=self.model,
            pks=pks,
            user_path=self.audit_user_path,
            account_path=self.audit_account_path,
        )

    def _record(
        self,
        request: HttpRequest,
        *,
        action: str,
        pks: list[Any],
        data: dict[str, Any] | None = None,
        throttle: bool = False,
        safely: bool = True,
    ) -> None:
        subjects: set[int] = set()
        for ids in self.audit_subjects_of(pks).values():
            subjects |= ids
        record = services.staff_access_record_safely if safely else services.staff_access_record
        record(
            actor=request.user,
            action=action,
            object_type=self.audit_object_type(),
            object_id=str(pks[0]) if len(pks) == 1 else "",
            subject_user_ids=subjects,
            ip=client_ip(request),
            now=clock.now(),
            data=data,
            throttle=throttle,
        )

    # ------------------------------------------------------------ reads

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if response.status_code == 200 and isinstance(original, models.Model):
            self._record(request, action=services.STAFF_VIEWED, pks=[original.pk], throttle=True)
        return response

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        query = request.GET.get("q", "").strip()
        narrowed = {k: v for k, v in request.GET.items() if _NARROWING.search(k)}
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if response.status_code == 200 and changelist is not None and (query or narrowed):
            pks = [row.pk for row in changelist.result_list]
            if pks:
                data: dict[str, Any] = {"results": changelist.result_count}
                if query:
                    data["q"] = query[:100]
                if narrowed:
                    data["filters"] = {k: v[:100] for k, v in narrowed.items()}
                self._record(request, action=services.STAFF_SEARCHED, pks=pks, data=data)
        return response

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        """An action (a CSV export, «отметить: позвонили», a refund…) on chosen rows: recorded
        once the action ran, with whose rows they were."""
        response = super().response_action(request, queryset)
        if response is not None:
            action = request.POST.get("action", "")
            if request.POST.get("select_across") == "1":
                pks = list(queryset.values_list("pk", flat=True)[: services.MAX_SUBJECT_ROWS * 10])
            else:
                pks = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
                pks = list(queryset.filter(pk__in=pks).values_list("pk", flat=True))
            if pks:
                kind = (
                    services.STAFF_EXPORTED
                    if "export" in action or "csv" in action
                    else services.STAFF_ACTION
                )
                self._record(
                    request, action=kind, pks=pks, data={"action": action, "count": len(pks)}
                )
        return response

    # ------------------------------------------------------------ changes (with LogEntry)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        self._record(request, action=services.STAFF_CREATED, pks=[obj.pk], safely=False)
        return entry

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        fields = sorted(
            {f for part in message or [] for f in part.get("changed", {}).get("fields", [])}
        )
        self._record(
            request,
            action=services.STAFF_CHANGED,
            pks=[obj.pk],
            data={"fields": fields} if fields else None,
            safely=False,
        )
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        objs = list(queryset)
        result = super().log_deletions(request, objs)  # type: ignore[arg-type]
        for obj in objs:
            self._record(
                request,
                action=services.STAFF_DELETED,
                pks=[obj.pk],
                data={"repr": str(obj)[:200]},
                safely=False,
            )
        return result
