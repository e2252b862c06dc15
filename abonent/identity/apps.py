from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "abonent.identity"
    label = "identity"
    verbose_name = "Пользователи и вход"
