"""The audit log in the back office: read-only, for administrators (the «core.view_auditentry»
permission; decision 0012), filterable by whose data it was and by who acted, so «who looked
at or changed customer X» is one click from the customer's page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from abonent.core.models import AuditEntry, JobOutbox


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the system (ledger, journals, gateway events): staff look, never
    add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _user_label(user: Any) -> str:
    name = getattr(user, "full_name", "") or str(user)
    login = getattr(user, "login", "")
    return f"{name} ({login})" if login and login != name else name


class SubjectFilter(admin.SimpleListFilter):
    """Whose data: chosen from a customer's admin page («журнал по клиенту») or by
    `?subject_user_id=<id>`; shown once chosen, with the customer's name."""

    title = _("клиент")
    parameter_name = "subject_user_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        if not value or not value.isdigit():
            return []
        user = get_user_model().objects.filter(pk=int(value)).first()
        return [(value, _user_label(user) if user else f"#{value}")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> Any:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(subject_user_id=int(value))
        return queryset


class ActorFilter(admin.SimpleListFilter):
    """Who acted: any staff member, or «the customers themselves»."""

    title = _("кто")
    parameter_name = "actor"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        staff = get_user_model().objects.filter(is_staff=True).order_by("last_name", "pk")
        return [
            ("customers", str(_("клиенты (сами)"))),
            *((str(u.pk), _user_label(u)) for u in staff),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> Any:
        value = self.value()
        if value == "customers":
            return queryset.filter(actor__is_staff=False)
        if value and value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset


class StaffOnlyFilter(admin.SimpleListFilter):
    title = _("доступ сотрудников")
    parameter_name = "staff"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("reads", str(_("просмотры и выгрузки"))), ("all", str(_("все действия")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> Any:
        if self.value() == "reads":
            return queryset.filter(action__in=["staff.viewed", "staff.searched", "staff.exported"])
        if self.value() == "all":
            return queryset.filter(action__startswith="staff.")
        return queryset


# What each audit action means, for people reading the log (the codes stay in the data).
ACTION_LABELS: dict[str, Any] = {
    "user.signup": _("регистрация"),
    "user.login": _("вход"),
    "user.profile_update": _("изменение профиля"),
    "user.phone_change": _("смена телефона"),
    "user.email_change": _("смена e-mail"),
    "user.password_change": _("смена пароля"),
    "user.password_reset": _("восстановление пароля"),
    "user.data_export": _("выгрузка своих данных"),
    "user.delete": _("удаление учётной записи"),
    "device.pin_set": _("установка PIN"),
    "device.pin_remove": _("отключение PIN"),
    "device.pin_locked": _("PIN заблокирован"),
    "device.revoke": _("завершение сеанса"),
    "device.revoke_others": _("завершение других сеансов"),
    "account.link": _("привязка ЛС"),
    "account.rename": _("переименование ЛС"),
    "account.unlink": _("отвязка ЛС"),
    "reading.submit": _("передача показаний"),
    "appeal.create": _("новое обращение"),
    "appeal.message": _("сообщение в обращении"),
    "appeal.note": _("внутренняя заметка"),
    "appeal.take": _("обращение взято в работу"),
    "appeal.hand_over": _("обращение передано"),
    "appeal.close": _("обращение закрыто"),
    "appeal.reopen": _("обращение открыто снова"),
    "appeal.rate": _("оценка ответа"),
    "appeal.callback": _("заказ обратного звонка"),
    "appeal.callback_done": _("обратный звонок выполнен"),
    "payments.payment_create": _("платёж"),
    "payments.payment_state": _("статус платежа"),
    "payments.refund_create": _("возврат"),
    "payments.card_saved": _("карта сохранена"),
    "payments.card_rename": _("карта переименована"),
    "payments.card_delete": _("карта удалена"),
    "payments.autopay_save": _("автоплатёж настроен"),
    "payments.autopay_delete": _("автоплатёж отключён"),
    "notices.settings_update": _("настройки оповещений"),
    "notices.push_subscribe": _("подписка на push"),
    "notices.push_unsubscribe": _("отписка от push"),
    "notices.outage_save": _("отключение сохранено"),
    "billing.run": _("расчёт начислений"),
    "billing.run_released": _("расчёт перезапущен"),
    "billing.period_close": _("закрытие периода"),
    "billing.import_accounts": _("загрузка ЛС"),
    "billing.import_balances": _("загрузка сальдо"),
    "billing.import_charges": _("загрузка начислений"),
    "staff.viewed": _("сотрудник: просмотр"),
    "staff.searched": _("сотрудник: поиск"),
    "staff.exported": _("сотрудник: выгрузка"),
    "staff.action": _("сотрудник: действие"),
    "staff.created": _("сотрудник: создание"),
    "staff.changed": _("сотрудник: изменение"),
    "staff.deleted": _("сотрудник: удаление"),
    "staff.role_given": _("роль выдана"),
    "staff.role_removed": _("роль снята"),
}


class ActionFilter(admin.SimpleListFilter):
    title = _("действие")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return sorted(ACTION_LABELS.items(), key=lambda item: str(item[1]))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(action=value) if value else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "who", "what", "subject", "object_type", "object_id", "ip"]
    list_filter = [SubjectFilter, ActorFilter, StaffOnlyFilter, ActionFilter]
    search_fields = ["action", "object_id", "=subject_user_id"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    show_full_result_count = False

    @admin.display(description=_("кто"), ordering="actor")
    def who(self, obj: AuditEntry) -> str:
        if obj.actor is None:
            return str(_("система"))
        label = _user_label(obj.actor)
        return f"{label} · {_('сотрудник')}" if obj.actor.is_staff else label

    @admin.display(description=_("действие"), ordering="action")
    def what(self, obj: AuditEntry) -> str:
        return str(ACTION_LABELS.get(obj.action, obj.action))

    @admin.display(description=_("чьи данные"), ordering="subject_user_id")
    def subject(self, obj: AuditEntry) -> str:
        if obj.subject_user_id is None:
            return "—"
        url = reverse("admin:core_auditentry_changelist")
        return format_html(
            '<a href="{}?subject_user_id={}">#{}</a>', url, obj.subject_user_id, obj.subject_user_id
        )


@admin.register(JobOutbox)
class JobOutboxAdmin(ReadOnlyAdmin):
    """Read-only: the relay (beat, `manage.py relay_outbox`) is what changes these rows."""

    list_display = ["id", "task", "created_at", "eta", "attempts", "relayed_at", "last_error"]
    list_filter = [("relayed_at", admin.EmptyFieldListFilter), "task"]
    search_fields = ["task"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in JobOutbox._meta.fields]
