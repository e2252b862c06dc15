"""Appeals API: my appeals, a thread, messages with attachments, downloads, close/reopen/rate,
read marks, call-back slots and requests. Attachments go as multipart/form-data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from abonent.appeals import selectors, services, uploads
from abonent.appeals.models import Appeal, AppealStatus, Side
from abonent.appeals.responses import attachment_response
from abonent.core import clock
from abonent.core.errors import ValidationFailed
from abonent.core.http import client_ip
from abonent.core.ids import Id
from abonent.core.pagination import Pagination
from abonent.identity.api import ErrorOut
from abonent.identity.auth import customer_auth
from abonent.privacy.services import STAFF_VIEWED, staff_access_record_safely

router = Router(tags=["Обращения"], auth=customer_auth)

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 503: ErrorOut}


class CategoryOut(Schema):
    id: int
    name: str
    description: str
    sla_hours: int = Field(description="Срок ответа в рабочих часах специалистов")


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str = Field(description="Тип, определённый по содержимому файла")
    url: str


class MessageOut(Schema):
    id: int = Field(description="Растёт в порядке сообщений: для догрузки «после id N»")
    is_operator: bool
    is_auto: bool = Field(description="Автоответ (например, вне рабочего времени)")
    author: str
    body: str
    created_at: datetime
    attachments: list[AttachmentOut]


class AppealOut(Schema):
    id: int
    subject: str
    category_id: int
    category: str
    status: str = Field(description="new / in_progress / waiting_customer / answered / closed")
    status_label: str
    account_id: int | None
    account_number: str | None
    branch_id: int
    created_at: datetime
    last_message_at: datetime
    deadline_at: datetime = Field(description="Ответить до (по сроку темы, в рабочих часах)")
    unread: int = Field(description="Непрочитанные сообщения специалистов")
    rating: int | None
    closed_at: datetime | None
    reopen_until: datetime | None = Field(description="Закрытое можно открыть снова до")

    # The list gives Appeal rows; the detail view gives a ready dict.
    @staticmethod
    def resolve_category(obj: Appeal | dict[str, Any]) -> str:
        return obj["category"] if isinstance(obj, dict) else obj.category.name

    @staticmethod
    def resolve_status_label(obj: Appeal | dict[str, Any]) -> str:
        status = obj["status"] if isinstance(obj, dict) else obj.status
        return str(AppealStatus(status).label)

    @staticmethod
    def resolve_account_number(obj: Appeal | dict[str, Any]) -> str | None:
        if isinstance(obj, dict):
            return obj["account_number"]
        return obj.account.number if obj.account else None

    @staticmethod
    def resolve_unread(obj: Appeal | dict[str, Any]) -> int:
        return int(obj["unread"] if isinstance(obj, dict) else getattr(obj, "unread", 0))


class AppealDetailOut(AppealOut):
    messages: list[MessageOut]
    last_read_id: int = Field(description="До какого сообщения прочитано вами")
    deadline_text: str = Field(description="«завтра до 12:00» по времени филиала")
    specialists_working_now: bool
    specialists_back: str = Field(description="«завтра с 08:00 по красноярскому времени»")
    can_reopen: bool
    can_rate: bool
    call_centre_phone: str


def _detail(request: HttpRequest, appeal_id: int) -> dict[str, Any]:
    appeal = selectors.appeal_for_customer(user=request.user, appeal_id=appeal_id)
    view = selectors.thread_view(appeal=appeal, side=Side.CUSTOMER, now=clock.now())
    data: dict[str, Any] = {
        field: getattr(appeal, field)
        for field in (
            "id",
            "subject",
            "category_id",
            "status",
            "account_id",
            "branch_id",
            "created_at",
            "last_message_at",
            "deadline_at",
            "rating",
            "closed_at",
            "reopen_until",
        )
    }
    data.update(
        category=appeal.category.name,
        status_label=str(AppealStatus(appeal.status).label),
        account_number=appeal.account.number if appeal.account else None,
        unread=sum(
            1
            for m in view.messages
            if m.is_operator and view.unread_from and m.pk >= view.unread_from
        ),
        messages=[selectors.message_payload(m) for m in view.messages],
        last_read_id=selectors.read_mark(appeal=appeal, side=Side.CUSTOMER),
        deadline_text=view.deadline_text,
        specialists_working_now=view.is_open_now,
        specialists_back=view.back_at,
        can_reopen=view.can_reopen,
        can_rate=view.can_rate,
        call_centre_phone=appeal.branch.call_centre_phone,
    )
    return data


@router.get("/appeals/categories", response=list[CategoryOut], summary="Темы обращений")
def categories(request: HttpRequest):
    return selectors.category_list()


@router.get(
    "/appeals",
    response=list[AppealOut],
    summary="Мои обращения: статус, срок ответа, непрочитанные",
)
@paginate(Pagination)
def appeal_list(request: HttpRequest) -> Any:
    return selectors.appeal_list_for_customer(user=request.user)


class AppealIn(Schema):
    category_id: Id
    account_id: Id | None = Field(
        None, description="ЛС, о котором обращение; обязателен, если у вас их несколько"
    )
    subject: str = Field(max_length=150)
    body: str = Field(description="Текст обращения")


def _uploads(request: HttpRequest, files: list[UploadedFile] | None) -> list[UploadedFile]:
    """The files of the form; a `files` part sent as text (not a file) is a client's mistake
    that would silently drop the attachment, so it is refused."""
    if "files" in request.POST:
        raise ValidationFailed(
            _("Вложение не получено: поле files должно содержать файл."),
            code="files_not_files",
            fields={"files": [_("Нужен файл, а не текст.")]},
        )
    return list(files or [])


@router.post(
    "/appeals",
    response={201: AppealDetailOut, **ERRORS},
    summary="Новое обращение (multipart/form-data, файлы в поле files)",
    description=(
        "До 5 файлов по 10 МБ: PDF, JPEG, PNG, HEIC, DOC, DOCX, XLS, XLSX — тип проверяется по "
        "содержимому. Вне рабочего времени в ответе уже есть автоответ о том, когда ответят."
    ),
)
def appeal_create(
    request: HttpRequest,
    data: Form[AppealIn],
    files: list[UploadedFile] = File(None),  # noqa: B008
):
    appeal = services.appeal_create(
        user=request.user,
        category_id=data.category_id,
        account_id=data.account_id,
        subject=data.subject,
        body=data.body,
        files=_uploads(request, files),
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(201, _detail(request, appeal.pk))


@router.get(
    "/appeals/{id:appeal_id}",
    response={200: AppealDetailOut, 401: ErrorOut, 404: ErrorOut},
    summary="Обращение и переписка",
)
def appeal_detail(request: HttpRequest, appeal_id: int):
    return _detail(request, appeal_id)


class MessageIn(Schema):
    body: str = Field("", description="Текст; может быть пустым, если приложены файлы")


@router.post(
    "/appeals/{id:appeal_id}/messages",
    response={201: MessageOut, **ERRORS},
    summary="Написать в обращение (multipart/form-data, файлы в поле files)",
)
def message_create(
    request: HttpRequest,
    appeal_id: int,
    data: Form[MessageIn],
    files: list[UploadedFile] = File(None),  # noqa: B008
):
    message = services.message_send(
        appeal_id=appeal_id,
        user=request.user,
        body=data.body,
        files=_uploads(request, files),
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(201, selectors.message_payload_fresh(message_id=message.pk))


class ReadIn(Schema):
    last_id: Id | None = Field(None, description="Прочитано до этого id; без него — всё")


class ReadOut(Schema):
    last_read_id: int


@router.post(
    "/appeals/{id:appeal_id}/read",
    response={200: ReadOut, **ERRORS},
    summary="Отметить прочитанным",
)
def appeal_read(request: HttpRequest, appeal_id: int, data: ReadIn):
    mark = services.appeal_mark_read(
        appeal_id=appeal_id, user=request.user, last_id=data.last_id, now=clock.now()
    )
    return {"last_read_id": mark}


@router.post(
    "/appeals/{id:appeal_id}/close",
    response={200: AppealDetailOut, **ERRORS},
    summary="Закрыть обращение (вопрос решён)",
)
def appeal_close(request: HttpRequest, appeal_id: int):
    services.appeal_close(appeal_id=appeal_id, user=request.user, now=clock.now())
    return _detail(request, appeal_id)


@router.post(
    "/appeals/{id:appeal_id}/reopen",
    response={200: AppealDetailOut, **ERRORS},
    summary="Открыть закрытое обращение снова (в течение срока после закрытия)",
)
def appeal_reopen(request: HttpRequest, appeal_id: int):
    services.appeal_reopen(appeal_id=appeal_id, user=request.user, now=clock.now())
    return _detail(request, appeal_id)


class RatingIn(Schema):
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=500)


@router.post(
    "/appeals/{id:appeal_id}/rating",
    response={200: AppealDetailOut, **ERRORS},
    summary="Оценить ответ (1–5)",
)
def appeal_rate(request: HttpRequest, appeal_id: int, data: RatingIn):
    services.appeal_rate(
        appeal_id=appeal_id,
        user=request.user,
        rating=data.rating,
        comment=data.comment,
        now=clock.now(),
    )
    return _detail(request, appeal_id)


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime


@router.get(
    "/appeals/callback-slots",
    response=list[SlotOut],
    summary="Когда специалист может перезвонить (рабочее время филиала)",
)
def callback_slots(request: HttpRequest):
    from abonent.accounts.selectors import branch_for_user

    branch = branch_for_user(user_id=request.user.pk)
    if branch is None:
        return []
    slots = selectors.callback_slots_for(branch=branch, now=clock.now())
    return [{"starts_at": a, "ends_at": b} for a, b in slots]


class CallbackIn(Schema):
    starts_at: datetime = Field(description="Начало выбранного окна из /appeals/callback-slots")
    phone: str = Field("", max_length=20, description="Пусто — телефон из профиля")
    appeal_id: Id | None = None


class CallbackOut(Schema):
    id: int
    phone: str
    slot_from: datetime
    slot_to: datetime
    status: str


@router.post(
    "/appeals/callbacks",
    response={201: CallbackOut, **ERRORS},
    summary="Заказать обратный звонок",
)
def callback_create(request: HttpRequest, data: CallbackIn):
    callback = services.callback_request_create(
        user=request.user,
        appeal_id=data.appeal_id,
        slot_from=data.starts_at,
        phone=data.phone or None,
        now=clock.now(),
    )
    return Status(201, callback)


@router.get(
    "/attachments/{id:attachment_id}",
    url_name="attachment_download",
    summary="Скачать вложение (только участникам обращения)",
    openapi_extra={
        "responses": {
            200: {
                "description": "Файл (Content-Disposition: attachment) с типом по содержимому",
                "content": {
                    kind.content_type: {"schema": {"type": "string", "format": "binary"}}
                    for kind in uploads.KINDS
                },
            },
            404: {"description": "Нет такого файла или нет доступа"},
        }
    },
)
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    attachment = selectors.attachment_for_user(user=request.user, attachment_id=attachment_id)
    appeal = attachment.message.appeal
    if appeal.user_id != request.user.pk:  # an operator opens a customer's file: audited
        staff_access_record_safely(
            actor=request.user,
            action=STAFF_VIEWED,
            object_type=attachment._meta.label_lower,
            object_id=str(attachment.pk),
            subject_user_ids=[appeal.user_id],
            ip=client_ip(request),
            now=clock.now(),
            data={"via": "console", "appeal": appeal.pk},
            throttle=True,
        )
    return attachment_response(attachment)
