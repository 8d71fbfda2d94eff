from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self):
        from api import schema  # noqa: F401  (registers the OpenAPI description of our auth)

        post_migrate.connect(create_cache_tables, sender=self)


def create_cache_tables(using, **kwargs):
    """The table of the database cache (the default CACHE_URL), where the API's throttle
    counts: made by every `migrate`, which `make run`, deployments and the benchmarks already
    run, so no step can be forgotten. Does nothing when it exists or another cache is set."""
    call_command("createcachetable", database=using, verbosity=0)
