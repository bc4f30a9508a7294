from django.apps import AppConfig


class MlserveConfig(AppConfig):
    name = "mlserve"
