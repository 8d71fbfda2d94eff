from django.apps import AppConfig


class ForwardingConfig(AppConfig):
    name = "forwarding"
    verbose_name = "Forwarding"

    def ready(self):
        # webhooks stores events and must not import forwarding (a lower layer); forwarding
        # hooks its routing into the storing transaction instead.
        from forwarding import receivers  # noqa: F401
