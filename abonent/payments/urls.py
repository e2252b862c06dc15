from django.urls import path

from abonent.payments import views

app_name = "payments"

urlpatterns = [
    path("pay/rules/", views.pay_rules, name="rules"),
    path("pay/result/<id:payment_id>/", views.result_page, name="result"),
    path("payments/", views.payment_list_page, name="list"),
    path("payments/<id:payment_id>/", views.result_page, name="detail"),
    path("payments/<id:payment_id>/receipt.pdf", views.receipt_pdf, name="receipt"),
    path("cards/", views.cards_page, name="cards"),
    path("cards/add/", views.card_add, name="card_add"),
    path("cards/check/<id:payment_id>/", views.card_result, name="card_result"),
    path("cards/<id:card_id>/rename/", views.card_rename, name="card_rename"),
    path("cards/<id:card_id>/delete/", views.card_delete, name="card_delete"),
    path("autopay/", views.autopay_page, name="autopay"),
]
