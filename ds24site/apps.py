from django.apps import AppConfig


class Ds24SiteConfig(AppConfig):
    """The project package doubles as an app for project-wide checks and commands."""

    name = "ds24site"
    verbose_name = "ds24site"

    def ready(self):
        from ds24site import checks  # noqa: F401  (registers the system checks)
