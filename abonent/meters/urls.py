from django.urls import path

from abonent.meters import views

app_name = "meters"

urlpatterns = [
    path("meters/<id:meter_id>/", views.meter_view, name="detail"),
    path("meters/accounts/<id:account_id>/readings.pdf", views.readings_pdf_view, name="pdf"),
]
