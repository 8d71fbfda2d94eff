"""The health of what receives, forwards and calls: each webhook, destination and connection,
and the worker; one query each, red first, each problem with the link that fixes it. What a
user may not view is left out."""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Count, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from connections.models import Connection
from forwarding.models import Delivery, Destination
from webhooks.models import InboundIPN, RejectedDelivery, Webhook

RED, AMBER, OK = "red", "amber", "ok"
LEVEL_ORDER = {RED: 0, AMBER: 1, OK: 2}
REJECTIONS_WINDOW = timedelta(hours=24)
DELIVERY_WINDOW = timedelta(days=7)  # as the destinations list's success rate
# A ready task waiting longer than this means no worker is taking tasks.
WORKER_LATE = timedelta(minutes=5)
# A received IPN still not in the event log after this means no worker is following up (one
# that keeps up takes it within a second; a burst may take a minute).
INBOUND_LATE = timedelta(minutes=2)


@dataclass
class Item:
    what: str  # Webhook, Destination, Connection, Worker
    name: str
    state: str
    level: str
    detail: str = ""
    url: str = ""  # the object's page
    action: str = ""  # what to do about it (for red and amber)
    action_url: str = ""


def admin_url(name: str, *args, query: dict | None = None) -> str:
    url = reverse(f"admin:{name}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


def webhook_items(now) -> list[Item]:
    recent = RejectedDelivery.objects.filter(
        webhook=OuterRef("pk"), received__gte=now - REJECTIONS_WINDOW
    ).order_by()
    webhooks = (
        Webhook.objects.with_activity()
        .annotate(
            rejections=Coalesce(
                Subquery(recent.values("webhook").annotate(n=Count("pk")).values("n")), 0
            ),
            latest_reason=Subquery(recent.order_by("-id").values("reason")[:1]),
        )
        .defer("passphrase")
    )
    items = []
    for webhook in webhooks:
        status = webhook.status
        change = admin_url("webhooks_webhook_change", webhook.pk)
        rejected = admin_url(
            "webhooks_rejecteddelivery_changelist", query={"webhook__id__exact": webhook.pk}
        )
        last = (
            f"last received {timezone.localtime(webhook.last_received):%Y-%m-%d %H:%M}"
            if webhook.last_received
            else "nothing received yet"
        )
        detail = last
        if webhook.rejections:
            detail += f"; {webhook.rejections} rejected in 24 h, latest: {webhook.latest_reason}"
        item = Item("Webhook", webhook.name, Webhook.Status(status).label, OK, detail, change)
        if status == Webhook.Status.REJECTING:
            item.level, item.action, item.action_url = (
                RED,
                "See why deliveries are rejected (a passphrase that differs from Digistore24's?)",
                rejected,
            )
        elif status == Webhook.Status.PAUSED:
            item.level, item.action, item.action_url = (
                AMBER,
                "Activate it: Digistore24 is retrying the refused deliveries",
                change,
            )
        elif status == Webhook.Status.SILENT:
            item.level, item.action, item.action_url = (
                AMBER,
                "Check its registration in Digistore24, or send a test IPN",
                change,
            )
        elif webhook.rejections:
            item.level, item.action, item.action_url = (AMBER, "See the rejections", rejected)
        items.append(item)
    return items


def destination_items(now, *, deliveries_visible: bool) -> tuple[list[Item], list[dict]]:
    """The destinations' health, and their deliveries of the last 7 days by outcome (for the
    success chart)."""
    recent = Delivery.objects.filter(
        destination=OuterRef("pk"), created__gte=now - DELIVERY_WINDOW
    ).order_by()

    def count(status):
        counted = recent.filter(status=status).values("destination").annotate(n=Count("pk"))
        return Coalesce(Subquery(counted.values("n")), 0)

    destinations = Destination.objects.defer("secret", "previous_secret")
    if deliveries_visible:
        destinations = destinations.annotate(
            **{status: count(status) for status in Delivery.Status.values}
        )
    items, outcomes = [], []
    for destination in destinations:
        status = destination.status
        change = admin_url("forwarding_destination_change", destination.pk)
        failed = admin_url(
            "forwarding_delivery_changelist",
            query={"destination__id__exact": destination.pk, "status__exact": "failed"},
        )
        item = Item(
            "Destination", destination.name, Destination.Status(status).label, OK, "", change
        )
        if status == Destination.Status.FAILING:
            since = timezone.localtime(destination.failing_since)
            item.level, item.detail = RED, f"failing since {since:%Y-%m-%d %H:%M}"
            item.action = "See the failed deliveries and what the endpoint answered"
            item.action_url = failed if deliveries_visible else change
        elif status == Destination.Status.DISABLED:
            item.level = RED if destination.disabled_reason else AMBER
            item.detail = destination.disabled_reason or "disabled"
            item.action, item.action_url = "Fix the endpoint, then enable it again", change
        items.append(item)
        if deliveries_visible:
            outcomes.append(
                {
                    "name": destination.name,
                    **{status: getattr(destination, status) for status in Delivery.Status.values},
                }
            )
    return items, outcomes


def connection_items() -> list[Item]:
    items = []
    for connection in Connection.objects.defer("api_key"):
        change = admin_url("connections_connection_change", connection.pk)
        account = connection.ds24_user_name or connection.ds24_user_id or "account unknown"
        access = Connection.Access(connection.access).label
        item = Item(
            "Connection",
            connection.name,
            Connection.Status(connection.status).label,
            OK,
            f"{account}; access: {access.lower()}",
            change,
        )
        if connection.status == Connection.Status.FAILED:
            item.level, item.detail = RED, f"{item.detail}; {connection.last_error}"
            item.action, item.action_url = "Renew the key or verify it again", change
        elif connection.status == Connection.Status.UNVERIFIED:
            item.level, item.action, item.action_url = AMBER, "Verify it", change
        items.append(item)
    return items


def worker_item(now, *, tasks_visible: bool) -> Item:
    """Queue depth and the oldest waiting task: tasks ready to run (not the ones scheduled for
    later); one aggregate over the backend's partial index of ready tasks."""
    queue = DBTaskResult.objects.ready().order_by()
    waiting = queue.aggregate(depth=Count("pk"), oldest=Min("enqueued_at"))
    depth, oldest = waiting["depth"], waiting["oldest"]
    opts = DBTaskResult._meta
    tasks = admin_url(
        f"{opts.app_label}_{opts.model_name}_changelist", query={"status__exact": "READY"}
    )
    item = Item(
        "Worker",
        "Background tasks",
        "Idle" if not depth else f"{depth} waiting",
        OK,
        url=tasks if tasks_visible else "",
    )
    if oldest is not None:
        age = now - oldest
        item.detail = f"oldest waiting since {timezone.localtime(oldest):%Y-%m-%d %H:%M:%S}"
        if age > WORKER_LATE:
            item.level, item.state = RED, f"{depth} waiting, not taken"
            item.action = "Start a worker: manage.py runworker (see the README)"
    return item


def inbound_item(now) -> Item:
    """Received IPNs not yet in the event log: none, or a few for a moment, while a worker
    runs; their number and the oldest's age otherwise (one aggregate over a table that is
    empty whenever the workers keep up)."""
    waiting = InboundIPN.objects.aggregate(depth=Count("pk"), oldest=Min("received"))
    depth, oldest = waiting["depth"], waiting["oldest"]
    item = Item("Worker", "Received IPNs", "In the log" if not depth else f"{depth} waiting", OK)
    if oldest is not None:
        item.detail = f"oldest received {timezone.localtime(oldest):%Y-%m-%d %H:%M:%S}"
        if now - oldest > INBOUND_LATE:
            item.level, item.state = RED, f"{depth} not in the event log yet"
            item.action = "Start a worker: manage.py runworker (see the README)"
    return item


def dashboard_health(user) -> tuple[list[Item], list[dict]]:
    """What `user` may see of the health, red first; and the delivery outcomes per
    destination."""
    now = timezone.now()
    items, outcomes = [], []
    if user.has_perm("webhooks.view_webhook"):
        items += webhook_items(now)
    if user.has_perm("forwarding.view_destination"):
        destinations, outcomes = destination_items(
            now, deliveries_visible=user.has_perm("forwarding.view_delivery")
        )
        items += destinations
    if user.has_perm("connections.view_connection"):
        items += connection_items()
    if user.has_perm("webhooks.view_event"):
        items.append(inbound_item(now))
    if user.has_perm(f"{DBTaskResult._meta.app_label}.view_dbtaskresult"):
        items.append(worker_item(now, tasks_visible=True))
    items.sort(key=lambda item: LEVEL_ORDER[item.level])
    return items, outcomes
