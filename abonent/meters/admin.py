"""Meters and readings in the back office (Russian): filters, every version with its checks
and source, operator entry of a reading taken by phone, CSV export for the billing system."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonent.accounts.models import Branch
from abonent.billing.services.exchange import READING_FIELDS, exchange_render, export_readings
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.meters.models import Meter, Reading, ReadingStatus
from abonent.meters.services import ConfirmationRequired, ReadingInput, reading_enter
from abonent.privacy.admin_audit import AuditedAdmin


class ReadingInline(admin.TabularInline):
    model = Reading
    extra = 0
    can_delete = False
    ordering = ["-month", "scale", "-taken_at"]
    fields = (
        "month",
        "scale",
        "value",
        "consumption",
        "status",
        "source",
        "taken_at",
        "entered_by",
    )
    readonly_fields = (
        "month",
        "scale",
        "value",
        "consumption",
        "status",
        "source",
        "taken_at",
        "entered_by",
    )
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reading]:
        return super().get_queryset(request).select_related("entered_by")


@admin.register(Meter)
class MeterAdmin(AuditedAdmin):
    audit_account_path = "account"
    list_display = [
        "serial",
        "account",
        "service",
        "status",
        "scales",
        "installed_date",
        "next_verification_date",
        "remote",
        "enter_reading_link",
    ]
    list_filter = ["status", "service", "remote", "account__branch", "next_verification_date"]
    search_fields = ["serial", "account__number"]
    raw_id_fields = ["account"]
    list_select_related = ["account", "service"]
    inlines = [ReadingInline]

    @admin.display(description=gettext_lazy("показание"))
    def enter_reading_link(self, obj: Meter) -> str:
        url = reverse("admin:meters_meter_reading", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("ввести"))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<id:meter_id>/reading/",
                self.admin_site.admin_view(self.reading_view),
                name="meters_meter_reading",
            ),
            *super().get_urls(),
        ]

    def reading_view(self, request: HttpRequest, meter_id: int) -> HttpResponse:
        """An operator types the values a customer read out on the phone."""
        meter = get_object_or_404(Meter.objects.select_related("account", "service"), pk=meter_id)
        # an operator taking readings by phone has «add reading», not «change meter»
        if not (
            self.has_change_permission(request, meter)
            or request.user.has_perm("meters.add_reading")
        ):
            return redirect("admin:index")
        form = OperatorReadingForm(request.POST or None, meter=meter)
        if request.method == "POST" and form.is_valid():
            try:
                result = reading_enter(
                    operator=request.user,
                    item=ReadingInput(
                        meter_id=meter.pk,
                        values=form.values(),
                        confirm=form.confirmations(),
                    ),
                    now=clock.now(),
                    month=form.cleaned_data["month"],
                )
            except ConfirmationRequired as exc:
                for warning in exc.warnings:
                    form.add_error(None, warning["message"])
            except DomainError as exc:
                for name, msgs in exc.fields.items():
                    scale = name.rpartition(".")[2]
                    field = f"scale_{scale}" if f"scale_{scale}" in form.fields else None
                    for message in msgs:
                        form.add_error(field, message)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, result.message)
                return redirect("admin:meters_meter_change", meter.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Показание по телефону: счётчик № %(serial)s") % {"serial": meter.serial},
            "meter": meter,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/meters/operator_reading.html", context)


class OperatorReadingForm(forms.Form):
    month = forms.DateField(
        label=gettext_lazy("За месяц"),
        required=False,
        input_formats=["%Y-%m", "%m.%Y"],
        help_text=gettext_lazy("ГГГГ-ММ; пусто — по окну приёма на сегодня."),
    )
    confirm_rollover = forms.BooleanField(
        label=gettext_lazy("Абонент подтвердил переход через ноль"), required=False
    )
    confirm_high = forms.BooleanField(
        label=gettext_lazy("Абонент подтвердил большой расход"), required=False
    )

    def __init__(self, *args: Any, meter: Meter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meter = meter
        for scale in range(1, meter.scales + 1):
            name = meter.scale_name(scale)
            self.fields[f"scale_{scale}"] = forms.CharField(
                label=_("Показание «%(name)s»") % {"name": name} if name else _("Показание"),
                max_length=20,
            )
        self.order_fields(
            [f"scale_{s}" for s in range(1, meter.scales + 1)] + ["month", "confirm_rollover"]
        )

    def clean_month(self) -> date | None:
        value: date | None = self.cleaned_data.get("month")
        return value.replace(day=1) if value else None

    def values(self) -> dict[int, str]:
        return {s: self.cleaned_data[f"scale_{s}"] for s in range(1, self.meter.scales + 1)}

    def confirmations(self) -> frozenset[str]:
        chosen = set()
        if self.cleaned_data.get("confirm_rollover"):
            chosen.add("rollover")
        if self.cleaned_data.get("confirm_high"):
            chosen.add("high")
        return frozenset(chosen)


@admin.register(Reading)
class ReadingAdmin(AuditedAdmin):
    audit_account_path = "meter__account"
    list_display = [
        "meter",
        "scale",
        "month",
        "value",
        "consumption",
        "status",
        "source",
        "checks",
        "taken_at",
        "entered_by",
    ]
    list_filter = [
        "status",
        "source",
        "month",
        "out_of_window",
        "rollover",
        "confirmed_high",
        "meter__account__branch",
    ]
    search_fields = ["meter__serial", "meter__account__number"]
    raw_id_fields = ["meter", "entered_by", "supersedes"]
    list_select_related = ["meter", "entered_by"]
    date_hierarchy = "month"
    actions = ["export_csv"]
    readonly_fields = [
        "meter",
        "scale",
        "value",
        "month",
        "taken_at",
        "source",
        "entered_by",
        "consumption",
        "supersedes",
        "rollover",
        "confirmed_high",
        "out_of_window",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # readings are entered through the meter («ввести»), with the checks

    @admin.display(description=gettext_lazy("проверки"))
    def checks(self, obj: Reading) -> str:
        parts = []
        if obj.rollover:
            parts.append(_("через ноль"))
        if obj.confirmed_high:
            parts.append(_("большой расход подтверждён"))
        if obj.out_of_window:
            parts.append(_("вне окна"))
        return ", ".join(parts) or "—"

    @admin.action(description=gettext_lazy("Выгрузить принятые показания этих месяцев (CSV)"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Reading]) -> HttpResponse:
        """The billing system's export (billing_export --kind readings) for every branch and
        month among the chosen readings."""
        rows: list[dict[str, str]] = []
        pairs = (
            queryset.filter(status=ReadingStatus.ACCEPTED)
            .values_list("meter__account__branch", "month")
            .distinct()
            .order_by("meter__account__branch", "month")
        )
        branches = {b.pk: b for b in Branch.objects.all()}
        for branch_id, month in pairs:
            rows += export_readings(branch=branches[branch_id], month=month)
        content = exchange_render(rows=rows, fmt="csv", fields=READING_FIELDS)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="readings.csv"'
        return response
