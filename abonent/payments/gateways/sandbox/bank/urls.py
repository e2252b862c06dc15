from django.urls import path

from abonent.payments.gateways.sandbox.bank import views

app_name = "sandbox_bank"

urlpatterns = [
    path("", views.root, name="root"),
    path("api/payments", views.payments, name="payments"),
    path("api/payments/<str:public_id>", views.payment_detail, name="payment"),
    path("api/payments/<str:public_id>/capture", views.payment_capture, name="capture"),
    path("api/payments/<str:public_id>/cancel", views.payment_cancel, name="cancel"),
    path("api/refunds", views.refunds, name="refunds"),
    path("pay/<str:public_id>/", views.pay_page, name="pay"),
    path("3ds/<str:public_id>/", views.three_ds_page, name="three_ds"),
    path("done/<str:public_id>/", views.done_page, name="done"),
    path("receipt/<str:public_id>/", views.receipt_page, name="receipt"),
]
