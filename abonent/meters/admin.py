"""Meters and readings in the back office (Russian), searchable by serial and ЛС number."""

from __future__ import annotations

from django.contrib import admin

from abonent.meters.models import Meter, Reading


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = [
        "serial",
        "account",
        "service",
        "status",
        "scales",
        "installed_date",
        "next_verification_date",
        "remote",
    ]
    list_filter = ["status", "service", "remote", "account__branch"]
    search_fields = ["serial", "account__number"]
    raw_id_fields = ["account"]
    list_select_related = ["account", "service"]


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["meter", "scale", "month", "value", "status", "source", "taken_at"]
    list_filter = ["status", "source", "month"]
    search_fields = ["meter__serial", "meter__account__number"]
    raw_id_fields = ["meter", "entered_by"]
    list_select_related = ["meter"]
    date_hierarchy = "month"
