from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxBankConfig(AppConfig):
    """A separate «bank»: its own tables, its own URL space, reached only over HTTP."""

    name = "abonent.payments.gateways.sandbox.bank"
    label = "sandbox_bank"
    verbose_name = _("Тестовый эквайер (песочница)")
    default_auto_field = "django.db.models.BigAutoField"
