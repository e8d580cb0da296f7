from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "robotrace.accounts"
    label = "accounts"
    verbose_name = "Organisations and people"

    def ready(self) -> None:
        from robotrace.accounts import signals  # noqa: F401
