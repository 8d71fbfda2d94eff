"""Forwarding's background tasks (django-tasks, database backend; run by `manage.py runworker`).

`deliver` is the nudge for one delivery: the Delivery row holds the state and the claim
(forwarding/services.py), so running it twice, early or after a crash is harmless.

`sweep` recovers what a worker that died left behind: django-tasks-db marks a task RUNNING when
a worker takes it and never looks at it again, so a worker killed mid-attempt strands its
delivery. Each sweep re-queues such deliveries once their lease has expired and queues the next
sweep, DESTINATIONS_SWEEP_INTERVAL later. The chain is kept alive without a separate scheduler
(no extra service to run): every worker start and every `deliver` re-queue a sweep when none
is waiting (sweep_ensure), so a sweep lost with a dead worker is replaced; and a sweep queues
its successor only when no other is waiting, so concurrent starts collapse back into one chain.
"""

from django.conf import settings
from django_tasks import task

from forwarding import services


@task()
def deliver(delivery_public_id: str) -> str:
    outcome = services.delivery_attempt(public_id=delivery_public_id)
    services.sweep_ensure(after=settings.DESTINATIONS_SWEEP_INTERVAL)
    return outcome


@task()
def sweep() -> int:
    requeued = services.deliveries_sweep()
    services.sweep_ensure(after=settings.DESTINATIONS_SWEEP_INTERVAL)
    return requeued
