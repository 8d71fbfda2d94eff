"""Waiting for forwarding to finish, with the retry schedule's waits compressed.

A destination failing half the time leaves a quarter of its deliveries waiting 5 minutes, an
eighth 30 minutes, and so on for days (forwarding.services.RETRY_DELAYS). A soak pass cannot
wait that long, so time is made to pass: every round, the next attempt of each waiting
delivery, and the task queued for it, become due now. The attempts themselves are made by the
app's own worker as usual, with the same claim, lease and webhook-id. A delivery that used up
its schedule (12 failures in a row: 1 in 4096 at 50 %) is sent again with "Retry now"
(forwarding.services.deliveries_retry), as an operator would; each is counted and reported.
"""

import time
from dataclasses import dataclass, field


@dataclass
class Drained:
    seconds: float = 0.0
    finished: bool = False
    pending: int = 0
    rounds: int = 0
    fast_forwarded: int = 0
    retried_now: dict[str, int] = field(default_factory=dict)  # destination name -> count


def fast_forward() -> int:
    """Make every waiting delivery (not held by a worker) and its queued task due now; one
    transaction, so a worker sees both or neither. Returns how many deliveries."""
    from django.db import transaction
    from django.db.models import Q
    from django.utils import timezone
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    from forwarding.models import Delivery

    now = timezone.now()
    with transaction.atomic():
        waiting = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__gt=now)
        waiting = waiting.filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        task_ids = list(waiting.values_list("task_id", flat=True))
        moved = waiting.update(next_attempt_at=now)
        DBTaskResult.objects.filter(
            id__in=task_ids, status=TaskResultStatus.READY, run_after__gt=now
        ).exclude(run_after=get_date_max()).update(run_after=now)
    return moved


def retry_exhausted() -> dict[str, int]:
    """ "Retry now" for deliveries that failed for good; the count per destination."""
    from forwarding.models import Delivery
    from forwarding.services import deliveries_retry

    counts = {}
    failed = Delivery.objects.filter(status=Delivery.Status.FAILED).select_related("destination")
    for delivery in failed:
        if deliveries_retry(deliveries=[delivery]):
            name = delivery.destination.name
            counts[name] = counts.get(name, 0) + 1
    return counts


def drain(*, destinations: int, deadline: float, interval: float = 1.0) -> Drained:
    """Wait until every IPN the app kept is in the event log, each test-mode event has a
    delivery to each of `destinations` and all succeeded, or `deadline` (monotonic)."""
    from django.db import DatabaseError, connections

    from forwarding.models import Delivery
    from webhooks.models import Event, InboundIPN

    result = Drained()
    started = time.monotonic()
    while True:
        try:
            result.fast_forwarded += fast_forward()
            for name, count in retry_exhausted().items():
                result.retried_now[name] = result.retried_now.get(name, 0) + count
            logged = not InboundIPN.objects.exists()
            expected = Event.objects.filter(api_mode="test").count() * destinations
            total = Delivery.objects.count()
            succeeded = Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count()
        except DatabaseError:  # SQLite busy with the worker: try again next round
            connections.close_all()
            logged, expected, total, succeeded = False, 0, -1, -1
        result.rounds += 1
        result.pending = expected - succeeded
        if logged and total == expected and succeeded == expected:
            result.finished = True
            break
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    result.seconds = time.monotonic() - started
    return result
