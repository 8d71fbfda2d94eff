"""`manage.py demo` (what `make demo` runs): the app, the stand-in, a verified demo connection,
webhooks of each kind registered in the stand-in, a destination receiving events, a few days of
history seeded once, a refund the stand-in reports by IPN, and signed IPNs that arrive, end to
end in real processes."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ds24standin.server import DEMO_KEYS

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the demo runs on its own SQLite file; once per CI run is enough",
)
def test_demo_runs_end_to_end(tmp_path):
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SECRET_KEY": "demo-" + "k" * 60,
        "FIELD_ENCRYPTION_KEY": os.environ["FIELD_ENCRYPTION_KEY"],
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "LOG_LEVEL": "WARNING",
    }

    def manage(*args, timeout=60):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip

    assert manage("migrate", "--noinput").returncode == 0
    demo = manage("demo", "--interval", "0.2", "--duration", "6", timeout=90)
    assert demo.returncode == 0, demo.stderr
    out = demo.stdout
    assert "Demo connection: OK as demo-vendor" in out
    assert f"ds24site demo: http://127.0.0.1:{port}/admin/" in out
    assert "No admin account yet: python manage.py ensureadmin" in out
    for key, access in DEMO_KEYS.items():
        assert f"{key}  ({access})" in out
    for name in ("Demo payments", "Demo e-tickets", "Demo affiliations"):
        assert f"connection_test  -> {name}: HTTP 200 'OK'" in out
        assert f"Registered {name} in the stand-in (IPN id " in out
    assert f"{'on_refund':16} -> Demo payments: HTTP 200 'OK' (sent by the stand-in)" in out
    assert "HTTP 4" not in out and "HTTP 5" not in out and "not delivered" not in out

    counted = manage(
        "shell", "--no-imports", "-c",
        "from webhooks.models import Event, Webhook; from connections.models import Connection; "
        "print(Event.objects.filter(signature='verified').count() >= 6, "
        "Event.objects.exclude(event='connection_test').exists(), "
        "Webhook.objects.filter(ds24_registered__isnull=False).count() == 3, "
        "Connection.objects.get().status)",
    )  # fmt: skip
    assert counted.stdout.split() == ["True", "True", "True", "verified"], counted.stderr
    assert "Demo destination: Demo receiver at http://127.0.0.1:" in out
    assert "History: " in out and " refunds over 6 days, a redelivery, a revision" in out
    forwarded = int(out.split("Demo receiver received ")[1].split()[0])
    assert forwarded > 0

    story = manage("shell", "--no-imports", "-c", STORY)
    history_size = manage("shell", "--no-imports", "-c", HISTORY_SIZE)
    assert story.stdout.split() == ["True"] * 8, story.stdout + story.stderr

    again = manage("demo", "--interval", "0.2", "--duration", "1", timeout=90)
    assert again.returncode == 0, again.stderr
    assert "History: already seeded by an earlier run." in again.stdout
    assert manage("shell", "--no-imports", "-c", HISTORY_SIZE).stdout == history_size.stdout


# Each piece of the story, one line each: True when it is there.
STORY = """
from django.db.models import Count
from dashboard.models import DailyTotal
from forwarding.models import Delivery
from webhooks.models import Event, RejectedDelivery
history = Event.objects.filter(webhook__name="Demo payments", order_id__startswith="HIST")
paid = set(history.filter(event="on_payment").values_list("order_id", flat=True))
refunded = set(history.filter(event="on_refund").values_list("order_id", flat=True))
print(len(paid) >= 20, bool(refunded) and refunded <= paid)
print(len({e.received.date() for e in history}) >= 6)
print(history.filter(delivery_count=2).count() == 1)
print(history.values("business_key").annotate(n=Count("id")).filter(n=2).count() == 1)
print(RejectedDelivery.objects.filter(reason="invalid sha signature").count() == 1)
print(Delivery.objects.filter(destination__name="Demo receiver", status="succeeded").exists())
print(DailyTotal.objects.filter(api_mode="live").values("day").distinct().count() >= 6)
"""
HISTORY_SIZE = "from webhooks.models import Event; print(Event.objects.filter(order_id__startswith='HIST').count())"  # noqa: E501
