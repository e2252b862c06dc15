"""Payments back office (Russian): payments with lines, events and refunds (read-only, with
a «refund in full» action), saved cards, autopay, reconciliation reports."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core import clock
from abonent.core.admin import ReadOnlyAdmin
from abonent.core.errors import DomainError
from abonent.payments.models import (
    AutopayRun,
    AutopaySetting,
    GatewayEvent,
    Payment,
    PaymentLine,
    ReconciliationReport,
    Refund,
    SavedCard,
)
from abonent.payments.services import refund_create
from abonent.privacy.admin_audit import AuditedAdmin


class LineInline(admin.TabularInline):
    model = PaymentLine
    extra = 0
    can_delete = False
    readonly_fields = ["account", "service", "amount", "refunded_amount"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundInline(LineInline):
    model = Refund  # type: ignore[assignment]
    readonly_fields = [
        "amount",
        "status",
        "gateway_refund_id",
        "reason",
        "created_by",
        "created_at",
    ]


@admin.register(Payment)
class PaymentAdmin(AuditedAdmin, ReadOnlyAdmin):
    audit_user_path = "user"
    list_display = ["id", "user", "purpose", "amount", "status", "gateway", "created_at", "paid_at"]
    list_filter = ["status", "purpose", "gateway", "source"]
    search_fields = ["=id", "gateway_payment_id", "user__phone", "user__email"]
    date_hierarchy = "created_at"
    inlines = [LineInline, RefundInline]
    actions = ["refund_in_full"]

    @admin.action(description=_("Вернуть деньги полностью"), permissions=["refund"])
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        for payment in queryset:
            try:
                refund_create(
                    payment_id=payment.pk,
                    amount=payment.amount - payment.refunded_amount,
                    actor=request.user,
                    reason=gettext("Возврат из бэк-офиса"),
                    now=clock.now(),
                )
            except DomainError as exc:
                self.message_user(request, f"№ {payment.pk}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request, gettext("№ %(id)s: возврат оформлен") % {"id": payment.pk}
                )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_refund_permission(self, request: HttpRequest) -> bool:
        """Money goes back only by someone allowed to create refunds (administrators)."""
        return request.user.has_perm("payments.add_refund")


@admin.register(SavedCard)
class SavedCardAdmin(AuditedAdmin, ReadOnlyAdmin):
    audit_user_path = "user"
    list_display = [
        "id",
        "user",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "created_at",
        "deleted_at",
    ]
    search_fields = ["user__phone", "user__email", "last4"]
    exclude = ["token"]


@admin.register(GatewayEvent)
class GatewayEventAdmin(AuditedAdmin, ReadOnlyAdmin):
    audit_user_path = "payment__user"
    list_display = ["received_at", "gateway", "event_id", "kind", "payment", "outcome"]
    list_filter = ["gateway", "kind"]
    search_fields = ["event_id", "gateway_payment_id"]


@admin.register(AutopaySetting)
class AutopaySettingAdmin(AuditedAdmin, ReadOnlyAdmin):
    audit_user_path = "user"
    list_display = ["account", "user", "mode", "day", "cap", "enabled"]
    list_filter = ["mode", "enabled"]


@admin.register(AutopayRun)
class AutopayRunAdmin(AuditedAdmin, ReadOnlyAdmin):
    audit_user_path = "setting__user"
    list_display = ["setting", "month", "status", "payment", "message"]
    list_filter = ["status"]


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(ReadOnlyAdmin):
    list_display = ["day", "gateway", "checked", "mismatch_count", "created_at"]

    @admin.display(description=_("расхождений"))
    def mismatch_count(self, obj: ReconciliationReport) -> int:
        return len(obj.mismatches)
