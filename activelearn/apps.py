from django.apps import AppConfig


class ActivelearnConfig(AppConfig):
    name = "activelearn"
