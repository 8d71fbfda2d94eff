import os
import random
import signal
import subprocess
import sys
import threading
import time

import requests
from django.conf import settings
from django.core.management.base import CommandError

from connections.models import Connection
from connections.services import connection_verify
from ds24site.commands import OneLineErrorCommand
from ds24standin.ipn import send_ipn
from ds24standin.server import DEMO_KEYS, FULL_ACCESS, StandIn
from webhooks.models import Webhook
from webhooks.services import webhook_create

DEMO_WEBHOOKS = [  # (name, kind, events to send)
    ("Demo payments", "payments", ["on_payment", "on_payment", "on_payment", "on_refund"]),
    ("Demo e-tickets", "etickets", ["eticket"]),
    ("Demo affiliations", "affiliations", ["on_affiliation"]),
]


class Command(OneLineErrorCommand):
    help = (
        "Run the app with the Digistore24 stand-in: a demo connection pointing at it, a webhook "
        "of each kind, and a stream of signed sample IPNs (what `make demo` runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=3.0, help="seconds between IPNs")
        parser.add_argument("--duration", type=float, help="stop after this many seconds")

    def handle(self, *, interval, duration, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive")
        standin = StandIn().start()
        # The demo connection and the server's Verify button both talk to the stand-in.
        settings.DS24_API_URL = standin.api_url
        key = next(k for k, access in DEMO_KEYS.items() if access == FULL_ACCESS)
        connection = Connection.objects.filter(name="Demo (stand-in)").first() or Connection(
            name="Demo (stand-in)"
        )
        connection.set_key(key)
        connection.save()
        self.stdout.write(f"Demo connection: {connection_verify(connection=connection).message}")
        webhooks = []
        for name, kind, events in DEMO_WEBHOOKS:
            webhook = Webhook.objects.filter(name=name).first() or webhook_create(
                name=name, kind=kind
            )
            Webhook.objects.filter(pk=webhook.pk).update(connection=connection, active=True)
            webhooks.append((webhook, events))

        # gunicorn and a task worker (`serve`), so forwarding and receivers run too.
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            env={**os.environ, "DS24_API_URL": standin.api_url},
        )
        stop = threading.Event()
        try:
            self.wait_until_up(server)
            self.stdout.write(
                f"\nds24site demo: {settings.SITE_URL}/admin/  (Digistore24 stand-in: "
                f"{standin.api_url}); sending a signed IPN every {interval:g} s. Ctrl+C stops.\n"
            )
            streamer = threading.Thread(
                target=self.stream, args=(webhooks, interval, stop), daemon=True
            )
            streamer.start()
            deadline = time.monotonic() + duration if duration else None
            while server.poll() is None and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
            standin.stop()

    def wait_until_up(self, server):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError("the server exited; see the lines above")
            try:
                requests.get(f"{settings.SITE_URL}/healthz", timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)  # still booting; a busy machine can take more than a second
        raise CommandError(f"the app did not answer at {settings.SITE_URL} within 30 seconds")

    def stream(self, webhooks, interval, stop):
        """A connection test to each webhook, then random sample events, as Digistore24 would."""
        plan = [(webhook, "connection_test") for webhook, _ in webhooks]
        while not stop.is_set():
            if not plan:
                webhook, events = random.choice(webhooks)  # noqa: S311
                plan.append((webhook, random.choice(events)))  # noqa: S311
            webhook, event = plan.pop(0)
            try:
                response = send_ipn(webhook.get_receive_url(), event, webhook.passphrase)
                answer = f"HTTP {response.status_code} {response.text[:40]!r}"
            except requests.RequestException as exc:
                answer = f"not delivered ({type(exc).__name__})"
            self.stdout.write(f"  {event:16} -> {webhook.name}: {answer}")
            stop.wait(interval)
