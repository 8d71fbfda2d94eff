"""Migration 0006 fills the new search keys of events stored before it, in batches, and
unapplies cleanly."""

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import migrate_to, on_payment
from webhooks.models import Event

BEFORE = [("webhooks", "0005_webhook_ds24_registration")]
AFTER = [("webhooks", "0006_event_email_normalized")]


@pytest.fixture
def at_0005(transactional_db):
    apps = migrate_to(BEFORE)
    yield apps
    call_command("migrate", verbosity=0)  # the schema the next test expects


def test_backfill_fills_old_events_and_reverses(at_0005, monkeypatch):
    monkeypatch.setattr("webhooks.migrations.0006_event_email_normalized.BATCH", 2)
    Webhook = at_0005.get_model("webhooks", "Webhook")
    OldEvent = at_0005.get_model("webhooks", "Event")
    webhook = Webhook.objects.create(name="Old", kind="all", passphrase="p" * 32)
    payloads = [
        on_payment(order_id="O1", email="Kunde@Example.COM", buyer_first_name="Jörg",
                   buyer_last_name="Müller"),
        on_payment(order_id="O2", address_first_name="Hans", address_last_name="WEISS"),
        on_payment(order_id="O3", email=""),
        on_payment(order_id="O4", email="x@y.org", buyer_last_name="Nagel"),
        on_payment(order_id="O5"),
    ]  # fmt: skip
    for n, params in enumerate(payloads):
        OldEvent.objects.create(
            webhook=webhook, event="on_payment", scope="accepted", payload=list(params.items()),
            payload_hash=str(n), signature="verified", order_id=params["order_id"],
            email=params["email"],
        )  # fmt: skip

    migrate_to(AFTER)

    keys = {
        e.order_id: (e.email_normalized, e.buyer_name_normalized, e.buyer_last_name_normalized)
        for e in Event.objects.all()
    }
    assert keys == {
        "O1": ("kunde@example.com", "jörg müller", "müller"),
        "O2": ("kunde@example.com", "hans weiss", "weiss"),
        "O3": ("", "", ""),
        "O4": ("x@y.org", "nagel", "nagel"),
        "O5": ("kunde@example.com", "", ""),
    }
    assert Event.objects.get(order_id="O2").buyer_first_name == "Hans"
    assert list(Event.objects.search("KUNDE@example.com").values_list("order_id", flat=True))
    assert [e.order_id for e in Event.objects.search("Müller, Jörg")] == ["O1"]

    migrate_to(BEFORE)
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(
            cursor, "webhooks_event")]  # fmt: skip
    assert "email_normalized" not in columns and "buyer_first_name" not in columns
    assert OldEvent.objects.count() == 5
