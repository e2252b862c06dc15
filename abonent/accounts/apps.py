from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "abonent.accounts"
    label = "accounts"
    verbose_name = "Лицевые счета"
