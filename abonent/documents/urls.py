from django.urls import path

from abonent.documents import views

app_name = "documents"

urlpatterns = [
    path("accounts/<id:account_id>/bills/", views.bill_list, name="bill_list"),
    path("bills/<id:bill_id>.pdf", views.bill_pdf, name="bill_pdf"),
    path("accounts/<id:account_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
]
