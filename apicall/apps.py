from django.apps import AppConfig


class ApicallConfig(AppConfig):
    name = "apicall"
    verbose_name = "API calls"
