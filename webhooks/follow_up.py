"""The loop that puts received IPNs into the event log with their follow-up work
(webhooks.services.events_follow_up) in a task worker, beside django-tasks' own loop
(forwarding/management/commands/runworker.py).

The receiver keeps each IPN as received (InboundIPN); this takes them in batches as long as
any wait, then looks again every FOLLOW_UP_INTERVAL seconds. It runs in a thread of its own,
with its own database connection, so a slow delivery task never holds up the log. Any number
of workers may run it: batches are taken under a lock (see events_follow_up).

During a burst it stands back: while IPNs arrive faster than FOLLOW_UP_DEFER_RATE a second,
and none has waited FOLLOW_UP_MAX_DEFER seconds yet, it takes no batch. Putting an IPN in the
log costs more than receiving it (an event row under a dozen and a half indexes, the
roll-ups, forwarding), and on SQLite every batch holds the database's one write lock, which
each delivery needs: the receiver answered half as many IPNs a second with the follow-up
running beside it as without (docs/benchmarks.md). So a burst is answered first and put in the
log when it passes, or after FOLLOW_UP_MAX_DEFER at the latest. Steady traffic, even at tens
of IPNs a second, never waits for this.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from webhooks import services

logger = logging.getLogger(__name__)


class FollowUpLoop(threading.Thread):
    def __init__(self, interval: float | None = None):
        super().__init__(name="follow-up", daemon=True)
        self.interval = settings.FOLLOW_UP_INTERVAL if interval is None else interval
        self.stopping = threading.Event()
        self._last_look: tuple[float, int] | None = None  # (monotonic time, newest IPN's id)

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                if self._standing_back() or not self._batch():
                    self.stopping.wait(self.interval)
        finally:
            connection.close()

    def _standing_back(self) -> bool:
        """Whether a burst is on (the module's docstring): IPNs arriving faster than
        FOLLOW_UP_DEFER_RATE a second since the last look, the oldest waiting for less than
        FOLLOW_UP_MAX_DEFER seconds. Two reads by primary key; an error is left to _batch."""
        close_old_connections()  # a connection the database dropped is replaced
        try:
            newest, oldest = services.inbound_span()
        except Exception:
            return False
        now, last = time.monotonic(), self._last_look
        self._last_look = (now, newest) if newest is not None else None
        if newest is None or last is None or now <= last[0]:
            return False
        rate = (newest - last[1]) / (now - last[0])
        waited = (timezone.now() - oldest).total_seconds()
        return rate > settings.FOLLOW_UP_DEFER_RATE and waited < settings.FOLLOW_UP_MAX_DEFER

    def _batch(self) -> int:
        """One batch; how many IPNs it took. An error is logged and waited out: the batch's
        IPNs stay and are taken again, so a bad moment loses nothing, and a receiver's bug
        shows in the log rather than stopping the loop."""
        try:
            return services.events_follow_up()
        except Exception:
            logger.exception("following up new events failed; retrying in %ss", self.interval)
            return 0

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        self.join(timeout)
