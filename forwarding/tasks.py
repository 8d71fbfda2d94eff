"""Forwarding's background tasks (django-tasks, database backend; run by `manage.py runworker`).

`deliver` is the nudge for one delivery, which sends it with other due deliveries in a batch
(services.delivery_attempt); the Delivery row holds the state and the claim, so running it
twice, early or after a crash is harmless.

`sweep` recovers what a worker that died left behind: django-tasks-db marks a task RUNNING when
a worker takes it and never looks at it again, so a worker killed mid-attempt strands its
delivery. Each sweep re-queues such deliveries once their lease has expired and queues the next
sweep, DESTINATIONS_SWEEP_INTERVAL later. The chain is kept alive without a separate scheduler
(no extra service to run): every worker start and `deliver` (at most once per interval and
process) re-queue a sweep when none is waiting (sweep_ensure), so a sweep lost with a dead
worker is replaced; and a sweep queues its successor only when no other is waiting, so
concurrent starts collapse back into one chain.
"""

import time

from django.conf import settings
from django_tasks import task

from forwarding import services


@task()
def deliver(delivery_public_id: str) -> str:
    outcome = services.delivery_attempt(public_id=delivery_public_id)
    _sweep_ensure_now_and_then()
    return outcome


# When this process last made sure a sweep is queued (time.monotonic()).
_sweep_checked = float("-inf")


def _sweep_ensure_now_and_then() -> None:
    """sweep_ensure, at most once per sweep interval in a process: a lost sweep is replaced
    within an interval all the same, without a query for every delivery."""
    global _sweep_checked
    if time.monotonic() - _sweep_checked >= settings.DESTINATIONS_SWEEP_INTERVAL:
        services.sweep_ensure(after=settings.DESTINATIONS_SWEEP_INTERVAL)
        _sweep_checked = time.monotonic()


@task()
def sweep() -> int:
    requeued = services.deliveries_sweep()
    services.sweep_ensure(after=settings.DESTINATIONS_SWEEP_INTERVAL)
    return requeued
