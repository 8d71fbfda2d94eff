import os
import random
import signal
import subprocess
import sys
import threading
import time

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from connections.client import Ds24Error
from connections.models import Connection
from connections.services import connection_call, connection_verify
from ds24site.commands import OneLineErrorCommand
from ds24site.management.demo_story import LocalReceiver, destination_ensure, history_seed
from ds24standin.ipn import send_ipn
from ds24standin.server import DEMO_KEYS, FULL_ACCESS, StandIn
from webhooks.models import Webhook
from webhooks.services import NotRegistrable, webhook_create, webhook_register

DEMO_WEBHOOKS = [  # (name, kind, events to send)
    ("Demo payments", "payments", ["on_payment", "on_payment", "on_payment", "on_refund"]),
    ("Demo e-tickets", "etickets", ["eticket"]),
    ("Demo affiliations", "affiliations", ["on_affiliation"]),
]
# A seeded single payment (ds24standin/data.py), refunded once per run through the stand-in's
# API: the stand-in then posts on_refund to the registered payments webhook.
DEMO_REFUND = "900000"


class Command(OneLineErrorCommand):
    help = (
        "Run the app with the Digistore24 stand-in: a demo connection pointing at it, a webhook "
        "of each kind registered there, a destination on this machine, a few days of history "
        "(seeded once), a refund the stand-in reports by IPN, and a stream of signed sample "
        "IPNs (what `make demo` runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=3.0, help="seconds between IPNs")
        parser.add_argument("--duration", type=float, help="stop after this many seconds")

    def handle(self, *, interval, duration, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive")
        # The receive URLs are http://127.0.0.1: the stand-in takes them, unlike Digistore24.
        standin = StandIn(allow_local_ipn_urls=True).start()
        # The demo connection and the server's Verify button both talk to the stand-in.
        settings.DS24_API_URL = standin.api_url
        settings.DS24_IPN_ALLOW_LOCAL_URLS = True
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
        # Forwarding to a receiver on this machine, so deliveries succeed without an account
        # anywhere; created before the history so that it is forwarded too.
        settings.DESTINATIONS_ALLOW_LOCAL = True
        receiver = LocalReceiver().start()
        destination = destination_ensure(url=receiver.url)
        self.stdout.write(f"Demo destination: {destination.name} at {receiver.url}")
        self.stdout.write(
            history_seed(webhook=webhooks[0][0], demo_webhooks=[w for w, _ in webhooks])
        )

        # gunicorn and a task worker (`serve`), so forwarding and receivers run too.
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            env={
                **os.environ,
                "DS24_API_URL": standin.api_url,
                "DS24_IPN_ALLOW_LOCAL_URLS": "true",
                "DESTINATIONS_ALLOW_LOCAL": "true",
            },
        )
        stop = threading.Event()
        try:
            self.wait_until_up(server)
            self.stdout.write(
                f"\nds24site demo: {settings.SITE_URL}/admin/  (Digistore24 stand-in: "
                f"{standin.api_url}); sending a signed IPN every {interval:g} s. Ctrl+C stops.\n"
            )
            self.stdout.write(self.logins())
            # Registration needs the app up: the stand-in checks each receive URL by GET.
            for webhook, _ in webhooks:
                self.stdout.write(f"  {self.register(webhook, connection)}")
            self.refund(standin, connection, webhooks)
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
            receiver.stop()
            self.stdout.write(f"{destination.name} received {receiver.count} forwarded events.")

    def logins(self) -> str:
        """Where to log in, and the keys to try in the admin (Connections, the API console):
        what a newcomer needs from this terminal. The admin's password is only stored hashed,
        so it is pointed to, not printed."""
        admins = list(
            get_user_model()
            .objects.filter(is_superuser=True, is_active=True)
            .values_list(get_user_model().USERNAME_FIELD, flat=True)[:3]
        )
        if admins:
            login = (
                f"Admin login: {', '.join(admins)} with the password printed when it was "
                "created (or DJANGO_SUPERUSER_PASSWORD); a new one: "
                f"python manage.py changepassword {admins[0]}"
            )
        else:
            login = "No admin account yet: python manage.py ensureadmin creates one."
        keys = "\n".join(f"    {key}  ({access})" for key, access in DEMO_KEYS.items())
        return f"{login}\nThe stand-in's API keys (for Connections and the API console):\n{keys}\n"

    def register(self, webhook, connection) -> str:
        try:
            outcome = webhook_register(webhook=webhook, connection=connection)
        except (NotRegistrable, Ds24Error) as exc:
            return f"{webhook.name} not registered in the stand-in: {exc}"
        return f"Registered {webhook.name} in the stand-in (IPN id {outcome.ipn_id})"

    def refund(self, standin, connection, webhooks):
        """What Digistore24 reports by IPN, the stand-in posts to the registered webhooks."""
        try:
            data = connection_call(
                connection=connection,
                function="refundTransaction",
                params={"transaction_id": DEMO_REFUND},
                interactive=True,
            )
        except Ds24Error as exc:
            self.stdout.write(f"  refundTransaction {DEMO_REFUND} in the stand-in failed: {exc}")
            return
        self.stdout.write(f"  refundTransaction in the stand-in: {data.get('note', '')}")
        names = {webhook.get_receive_url(): webhook.name for webhook, _ in webhooks}
        for delivery in standin.wait_for_deliveries(timeout=10):
            answer = (
                f"HTTP {delivery.status} {delivery.body[:40]!r}"
                if delivery.status
                else f"not delivered ({delivery.error})"
            )
            name = names.get(delivery.url, delivery.url)
            self.stdout.write(f"  {delivery.event:16} -> {name}: {answer} (sent by the stand-in)")

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
