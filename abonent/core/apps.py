from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "abonent.core"
    label = "core"
    verbose_name = _("Общее")

    def ready(self) -> None:
        from abonent.core.ids import register

        register()  # before any URLconf is read
