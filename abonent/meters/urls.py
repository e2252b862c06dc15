from django.urls import path

from abonent.meters import views

app_name = "meters"

urlpatterns = [
    path("meters/<int:meter_id>/", views.meter_view, name="detail"),
    path("meters/accounts/<int:account_id>/readings.pdf", views.readings_pdf_view, name="pdf"),
]
