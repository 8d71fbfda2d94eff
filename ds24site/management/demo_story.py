"""The demo's story (`manage.py demo`): a few days of history, seeded once, so the dashboard's
charts have shape and the event log shows what a vendor meets in real life: payments, then
refunds of some of the same orders, a redelivery, a revision, a rejected delivery, and a
destination that receives the events.

The history goes through the receiver's own path (`ipn_verify`, `ipn_store` with a past
`received`, `delivery_reject`, then a worker's `events_follow_up`), so the roll-up, the
forwarding and the counters see it as they would see real IPNs. It is marked live: the
dashboard leaves test purchases out, and a demo of flat charts shows nothing. So it is only
seeded into a database without events of its own.
"""

import random
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import transaction
from django.utils import timezone

from forwarding.models import Destination
from webhooks import samples
from webhooks.models import Event, Webhook
from webhooks.services import (
    FORM_CONTENT_TYPE,
    Rejection,
    delivery_reject,
    events_follow_up,
    ipn_store,
    ipn_verify,
)

HISTORY_DAYS = 6
# Order ids of the history are HIST<day><n>: the first one tells a second run it is there.
FIRST_ORDER = "HIST0101"
PRODUCTS = [  # (id, name, gross price in EUR)
    ("654321", "Online-Kurs: Jörg Müllers Masterclass", "49.00"),
    ("654322", "E-Book: Kochen mit Jörg", "19.00"),
    ("654323", "Coaching-Paket (3 Termine)", "199.00"),
]
SENDER_IP = "127.0.0.1"
DESTINATION = "Demo receiver"


class LocalReceiver:
    """A tiny HTTP server on 127.0.0.1 that answers every POST with 204 and counts them: the
    demo destination's other end, so forwarded deliveries succeed without leaving the machine."""

    def __init__(self):
        receiver = self
        self.count = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.count += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass  # the demo's terminal shows IPNs; deliveries are in the admin

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/demo-receiver"

    def start(self) -> "LocalReceiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def destination_ensure(*, url: str) -> Destination:
    """The demo destination, pointing at this run's receiver (its port changes every run) and
    active again if an earlier run's dead receiver got it disabled."""
    destination = Destination.objects.filter(name=DESTINATION).first() or Destination(
        name=DESTINATION
    )
    destination.url = url
    destination.active = True
    destination.disabled_reason = ""
    destination.disabled_at = None
    destination.full_clean()
    destination.save()
    return destination


def history_seed(*, webhook: Webhook, demo_webhooks: list[Webhook]) -> str:
    """Seed the history into the payments webhook, once; returns what happened, one line."""
    if Event.objects.filter(webhook=webhook, order_id=FIRST_ORDER).exists():
        return "History: already seeded by an earlier run."
    if Event.objects.exclude(webhook__in=demo_webhooks).exists():
        return (
            "History: not seeded, this database holds events of other webhooks (the demo's "
            "history is marked live and would count in their figures)."
        )
    rng = random.Random(24)  # noqa: S311 - a story, not a secret: the same one every time
    now = timezone.localtime()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    payments = refunds = 0
    with transaction.atomic():
        for days_ago in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=days_ago)
            for n in range(1, 3 + rng.randint(0, 4) + (HISTORY_DAYS - days_ago) // 2):
                when = day + timedelta(seconds=rng.randint(8 * 3600, 22 * 3600))
                payment = _payment(rng, f"HIST{HISTORY_DAYS - days_ago + 1:02d}{n:02d}", when)
                _store(webhook, payment, when)
                payments += 1
                if rng.random() < 0.2:  # about one order in five comes back
                    later = min(when + timedelta(hours=rng.randint(2, 40)), now)
                    _store(webhook, _refund(rng, payment), later)
                    refunds += 1
        # The newest history payment, sent again as it was: one row, two deliveries.
        _store(webhook, payment, when + timedelta(minutes=1))
        # …and again with the buyer's email corrected: the same order and transaction, a
        # changed field, so a revision of it.
        _store(webhook, {**payment, "email": "anna.mueller@example.com"}, when + timedelta(hours=1))
    # Into the log now, as a worker would do it, so that a second run finds it there and the
    # pages show it before the server's worker starts.
    while events_follow_up():
        pass
    _reject(webhook, _payment(rng, "HISTFAKE", now))
    return (
        f"History: {payments} payments and {refunds} refunds over {HISTORY_DAYS} days, a "
        "redelivery, a revision and a rejected delivery (bad signature)."
    )


def _payment(rng: random.Random, order_id: str, when: datetime) -> dict[str, str]:
    product_id, product_name, gross = rng.choice(PRODUCTS)
    gross = Decimal(gross)
    net = (gross / Decimal("1.19")).quantize(Decimal("0.01"))
    return samples.on_payment(
        api_mode="live",
        order_id=order_id,
        transaction_id=str(rng.randint(100_000_000, 999_999_999)),
        order_date=when.strftime("%Y-%m-%d"),
        order_time=when.strftime("%H:%M:%S"),
        transaction_date=when.strftime("%Y-%m-%d"),
        product_id=product_id,
        product_name=product_name,
        amount=str(net),
        amount_brutto=str(gross),
        amount_netto=str(net),
        amount_vat=str(gross - net),
        email=f"kunde.{order_id.lower()}@example.com",
    )


def _refund(rng: random.Random, payment: dict[str, str]) -> dict[str, str]:
    """The refund Digistore24 reports for a payment: the same order, a transaction of its own
    that names the payment as its parent, the amounts negated."""
    amounts = ("amount", "amount_brutto", "amount_netto", "amount_vat")
    return {
        **payment,
        "event": "on_refund",
        "transaction_type": "refund",
        "transaction_id": str(rng.randint(100_000_000, 999_999_999)),
        "parent_transaction_id": payment["transaction_id"],
        **{key: f"-{payment[key]}" for key in amounts},
    }


def _store(webhook: Webhook, params: dict[str, str], received: datetime) -> None:
    body = samples.signed_body(params, webhook.passphrase)
    _pairs, signature = ipn_verify(
        webhook=webhook, method="POST", body=body, content_type=FORM_CONTENT_TYPE
    )
    ipn_store(
        webhook=webhook, body=body, signature=signature, sender_ip=SENDER_IP, received=received
    )


def _reject(webhook: Webhook, params: dict[str, str]) -> None:
    """A delivery signed with a passphrase that is not the webhook's, judged by the receiver's
    own rules, so the admin's Re-verify gives the same answer."""
    body = samples.signed_body(params, "a passphrase from another webhook")
    try:
        ipn_verify(webhook=webhook, method="POST", body=body, content_type=FORM_CONTENT_TYPE)
    except Rejection as rejection:
        delivery_reject(
            webhook=webhook,
            rejection=rejection,
            method="POST",
            content_type=FORM_CONTENT_TYPE,
            body=body,
            sender_ip=SENDER_IP,
        )
