from django.urls import path

from abonent.appeals import operator_views, views

app_name = "appeals"

urlpatterns = [
    # The list itself is web:appeals (/appeals/), the «Обращения» section of the cabinet.
    path("appeals/new/", views.appeal_new_view, name="new"),
    path("appeals/callback/", views.callback_view, name="callback"),
    path("appeals/<id:appeal_id>/", views.appeal_detail_view, name="detail"),
    path("appeals/<id:appeal_id>/messages/", views.appeal_message_view, name="message"),
    path("appeals/<id:appeal_id>/close/", views.appeal_close_view, name="close"),
    path("appeals/<id:appeal_id>/reopen/", views.appeal_reopen_view, name="reopen"),
    path("appeals/<id:appeal_id>/rate/", views.appeal_rate_view, name="rate"),
    path("operator/", operator_views.queue_view, name="operator_queue"),
    path("operator/report/", operator_views.report_view, name="operator_report"),
    path("operator/appeals/<id:appeal_id>/", operator_views.appeal_view, name="operator_appeal"),
    path(
        "operator/appeals/<id:appeal_id>/messages/",
        operator_views.message_view,
        name="operator_message",
    ),
    path("operator/appeals/<id:appeal_id>/take/", operator_views.take_view, name="operator_take"),
    path(
        "operator/appeals/<id:appeal_id>/hand-over/",
        operator_views.hand_over_view,
        name="operator_hand_over",
    ),
    path(
        "operator/appeals/<id:appeal_id>/close/", operator_views.close_view, name="operator_close"
    ),
    path(
        "operator/callbacks/<id:callback_id>/done/",
        operator_views.callback_done_view,
        name="operator_callback_done",
    ),
]
