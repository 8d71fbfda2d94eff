from django_tasks_db.management.commands import db_worker

from forwarding.services import sweep_ensure


class Command(db_worker.Command):
    help = (
        "Run a task worker: django-tasks-db's db_worker (same options), which first makes sure "
        "a forwarding sweep is queued, so deliveries a killed worker left behind are sent."
    )

    def handle(self, *args, **options):
        # Without this, a sweep lost with a dead worker would wait for the next delivery.
        sweep_ensure()
        super().handle(*args, **options)
