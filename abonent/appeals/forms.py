"""Web forms of the appeals pages. They only shape the input; the rules live in the services
(files are checked there, by content)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from abonent.appeals.selectors import category_list


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> Any:
        # The files themselves are checked by the service (by content, with the limits).
        return data or []


ACCEPT = ".pdf,.jpg,.jpeg,.png,.heic,.doc,.docx,.xls,.xlsx,application/pdf,image/*"


def _files_field() -> FilesField:
    return FilesField(
        label=_("Файлы"),
        required=False,
        help_text=_("До %(n)d файлов по %(mb)d МБ: фото (JPEG, PNG, HEIC), PDF, Word, Excel.")
        % {
            "n": settings.APPEALS_MAX_FILES,
            "mb": settings.APPEALS_MAX_FILE_SIZE // (1024 * 1024),
        },
        widget=MultipleFileInput(attrs={"accept": ACCEPT, "multiple": True}),
    )


class AppealForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Тема"),
        queryset=category_list(),
        empty_label=_("Выберите тему"),
        error_messages={
            "required": _("Выберите тему обращения."),
            "invalid_choice": _("Выберите тему обращения."),
        },
    )
    account = forms.TypedChoiceField(
        label=_("Лицевой счёт"),
        coerce=int,
        required=False,
        error_messages={"invalid_choice": _("Выберите лицевой счёт из списка.")},
    )
    subject = forms.CharField(
        label=_("Кратко, о чём вопрос"),
        max_length=150,
        error_messages={"required": _("Напишите тему обращения.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    body = forms.CharField(
        label=_("Сообщение"),
        error_messages={"required": _("Напишите, в чём вопрос.")},
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachments = _files_field()

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.CharField, self.fields["body"]).max_length = settings.APPEALS_MESSAGE_MAX_LENGTH
        self.fields["body"].widget.attrs["maxlength"] = settings.APPEALS_MESSAGE_MAX_LENGTH
        if len(accounts) > 1:
            cast(forms.ChoiceField, self.fields["account"]).choices = [
                ("", _("Выберите лицевой счёт")),
                *accounts,
            ]
            self.fields["account"].required = True
            self.fields["account"].error_messages["required"] = _(
                "Выберите лицевой счёт, о котором обращение."
            )
        else:
            del self.fields["account"]


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Сообщение"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Напишите сообщение…")}),
    )
    attachments = _files_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs["maxlength"] = settings.APPEALS_MESSAGE_MAX_LENGTH


class OperatorMessageForm(MessageForm):
    internal = forms.BooleanField(label=_("Внутренняя заметка (клиент не увидит)"), required=False)
    waiting = forms.BooleanField(label=_("Ждём ответа клиента"), required=False)


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Оценка"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
        error_messages={"required": _("Поставьте оценку от 1 до 5.")},
    )
    comment = forms.CharField(
        label=_("Комментарий"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CallbackForm(forms.Form):
    slot = forms.ChoiceField(
        label=_("Когда позвонить"),
        error_messages={
            "required": _("Выберите время звонка."),
            "invalid_choice": _("Выберите время звонка из предложенных."),
        },
    )
    phone = forms.CharField(
        label=_("Телефон"),
        max_length=20,
        required=False,
        help_text=_("Пусто — позвоним на номер из профиля."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def __init__(self, *args: Any, slots: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["slot"]).choices = [("", _("Выберите время")), *slots]


class HandOverForm(forms.Form):
    to = forms.TypedChoiceField(label=_("Кому"), coerce=int)
    note = forms.CharField(
        label=_("Комментарий для коллеги"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, operators: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to"]).choices = operators


class QueueFilterForm(forms.Form):
    branch = forms.TypedChoiceField(label=_("Город"), coerce=int, required=False)
    category = forms.TypedChoiceField(label=_("Тема"), coerce=int, required=False)
    status = forms.ChoiceField(label=_("Статус"), required=False)
    mine = forms.BooleanField(label=_("Только мои"), required=False)

    def __init__(
        self,
        *args: Any,
        branches: list[tuple[int, str]],
        categories: list[tuple[int, str]],
        statuses: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["branch"]).choices = [("", _("Все города")), *branches]
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("Все темы")),
            *categories,
        ]
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            ("open", _("Открытые")),
            *statuses,
            ("all", _("Все, и закрытые")),
        ]
