import os

from django.conf import settings
from django_tasks_db.management.commands import db_worker

from forwarding.services import sweep_ensure
from webhooks.follow_up import FollowUpLoop


class Command(db_worker.Command):
    help = (
        "Run a task worker: django-tasks-db's db_worker (same options), which first makes sure "
        "a forwarding sweep is queued, so deliveries a killed worker left behind are sent, and "
        "follows up new events (roll-ups, forwarding, ipn_received) in a thread beside it."
    )

    def handle(self, *args, **options):
        # Behind the web server for the CPU: a burst of IPNs is answered first, and its events
        # are put in the log and forwarded as the burst leaves room (docs/benchmarks.md).
        os.nice(settings.WORKER_NICENESS)
        # Without this, a sweep lost with a dead worker would wait for the next delivery.
        sweep_ensure()
        follow_up = FollowUpLoop()
        follow_up.start()
        try:
            super().handle(*args, **options)
        finally:
            # Lets a batch in progress commit (it is one transaction: stopped halfway it would
            # only be done again by the next worker, but not twice).
            follow_up.stop(timeout=30)
