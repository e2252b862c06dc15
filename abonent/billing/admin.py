"""Billing back office (Russian): catalogue, tariffs, norms, periods with run/close actions,
read-only charges, bills and ledger."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.billing.models import (
    Bill,
    BillingPeriod,
    Charge,
    LedgerEntry,
    Norm,
    PeriodStatus,
    Service,
    Tariff,
)
from abonent.billing.services import billing_run_enqueue, period_close
from abonent.core import clock
from abonent.core.admin import ReadOnlyAdmin
from abonent.core.errors import DomainError
from abonent.privacy.admin_audit import AuditedAdmin


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "unit", "norm_basis", "metered", "sort_order"]
    search_fields = ["name", "code"]


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["service", "branch", "price", "valid_from", "valid_to"]
    list_filter = ["branch", "service"]
    date_hierarchy = "valid_from"


@admin.register(Norm)
class NormAdmin(admin.ModelAdmin):
    list_display = ["service", "branch", "value", "valid_from", "valid_to"]
    list_filter = ["branch", "service"]


@admin.register(BillingPeriod)
class BillingPeriodAdmin(admin.ModelAdmin):
    list_display = [
        "month",
        "branch",
        "status",
        "run_progress_display",
        "run_started_at",
        "run_finished_at",
        "closed_at",
    ]
    list_filter = ["branch", "status"]
    readonly_fields = [
        "status",
        "run_progress",
        "run_started_at",
        "run_finished_at",
        "run_error",
        "closed_at",
    ]
    actions = ["action_run", "action_close"]

    @admin.display(description=_("готово"))
    def run_progress_display(self, obj: BillingPeriod) -> str:
        if obj.run_error:
            return gettext("прерван на %(pct)s %%: %(error)s") % {
                "pct": obj.run_progress,
                "error": obj.run_error,
            }
        if obj.run_started_at and not obj.run_finished_at:
            return gettext("идёт: %(pct)s %%") % {"pct": obj.run_progress}
        return f"{obj.run_progress} %"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Рассчитать"), permissions=["change"])
    def action_run(self, request: HttpRequest, queryset: QuerySet[BillingPeriod]) -> None:
        for period in queryset.select_related("branch"):
            try:
                billing_run_enqueue(period=period, now=clock.now(), actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            self.message_user(
                request,
                gettext("%(period)s: расчёт запущен. Ход расчёта — в колонке «готово».")
                % {"period": period},
                messages.SUCCESS,
            )

    @admin.action(description=_("Закрыть период"), permissions=["change"])
    def action_close(self, request: HttpRequest, queryset: QuerySet[BillingPeriod]) -> None:
        for period in queryset.filter(status=PeriodStatus.OPEN).select_related("branch"):
            try:
                result = period_close(period=period, now=clock.now(), actor=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            self.message_user(
                request,
                gettext("%(period)s закрыт: проводок %(entries)s, квитанций %(bills)s")
                % {"period": period, "entries": result.entries, "bills": result.bills},
                messages.SUCCESS,
            )


@admin.register(Charge)
class ChargeAdmin(AuditedAdmin, ReadOnlyAdmin):
    audit_account_path = "account"
    list_display = [
        "account",
        "service",
        "period",
        "for_month",
        "method",
        "volume",
        "unit",
        "tariff",
        "amount",
        "is_recalculation",
    ]
    list_filter = ["period__branch", "method", "is_recalculation", "service"]
    search_fields = ["account__number"]
    list_select_related = ["account", "service", "period__branch"]
    show_full_result_count = False


@admin.register(Bill)
class BillAdmin(AuditedAdmin, ReadOnlyAdmin):
    audit_account_path = "account"
    list_display = [
        "number",
        "account",
        "period",
        "opening_balance",
        "charged",
        "recalculated",
        "paid",
        "total_due",
        "issued_at",
    ]
    list_filter = ["period__branch"]
    search_fields = ["account__number", "number"]
    list_select_related = ["account", "period__branch"]
    show_full_result_count = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AuditedAdmin, ReadOnlyAdmin):
    audit_account_path = "account"
    list_display = ["account", "service", "kind", "amount", "month", "at", "source_ref"]
    list_filter = ["kind", "service"]
    search_fields = ["account__number", "source_ref"]
    list_select_related = ["account", "service"]
    show_full_result_count = False
