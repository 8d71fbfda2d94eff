"""The loop that does new events' follow-up work (webhooks.services.events_follow_up) in a task
worker, beside django-tasks' own loop (forwarding/management/commands/runworker.py).

The receiver stores an event in one statement and the database queues it (FollowUp); this
takes the queue in batches as long as there is one, then looks again every FOLLOW_UP_INTERVAL
seconds. It runs in a thread of its own, with its own database connection, so a slow delivery
task never holds up the roll-ups or the routing of new events. Any number of workers may run
it: batches are taken under a lock (see events_follow_up).
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from webhooks import services

logger = logging.getLogger(__name__)


class FollowUpLoop(threading.Thread):
    def __init__(self, interval: float | None = None):
        super().__init__(name="follow-up", daemon=True)
        self.interval = settings.FOLLOW_UP_INTERVAL if interval is None else interval

        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                if not self._batch():
                    self.stopping.wait(self.interval)
        finally:
            connection.close()

    def _batch(self) -> int:
        """One batch; how many events it followed up. An error is logged and waited out: the
        batch's events stay queued and are taken again, so a bad moment loses nothing, and a
        receiver's bug shows in the log rather than stopping the loop."""
        close_old_connections()  # a connection the database dropped is replaced
        try:
            return services.events_follow_up()
        except Exception:
            logger.exception("following up new events failed; retrying in %ss", self.interval)
            return 0

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        self.join(timeout)
