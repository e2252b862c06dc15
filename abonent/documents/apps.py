from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "abonent.documents"
    label = "documents"
    verbose_name = "Документы (PDF)"
