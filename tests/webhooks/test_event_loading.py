"""Event.from_db builds loaded rows without Model.__init__; they must be the rows Django's
own loading gives, and what it relies on must hold."""

import pytest
from django.db.models import Model, signals

from tests.conftest import follow_up, keep_ipn, on_payment
from webhooks.models import Event, PaymentEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(webhook):
    keep_ipn(webhook, on_payment(order_id="LOAD1"))
    follow_up()
    return Event.objects.get(order_id="LOAD1")


def djangos_own(event_id: int) -> Event:
    """The row made by Model.from_db (Model.__init__), from the same values."""
    names = [field.attname for field in Event._meta.concrete_fields]
    values = list(Event.objects.filter(pk=event_id).values_list(*names).get())
    return Model.from_db.__func__(Event, "default", names, values)


def test_a_loaded_event_is_what_django_would_make(stored):
    own = djangos_own(stored.pk)
    fields = [field.attname for field in Event._meta.concrete_fields]
    assert {name: getattr(stored, name) for name in fields} == {
        name: getattr(own, name) for name in fields
    }
    assert (
        (stored._state.adding, stored._state.db)
        == (own._state.adding, own._state.db)
        == (
            False,
            "default",
        )
    )
    assert stored.webhook.pk == stored.webhook_id
    assert isinstance(PaymentEvent.objects.get(pk=stored.pk), PaymentEvent)


def test_an_init_listener_gets_djangos_way(stored):
    seen = []

    def listen(instance, **kwargs):
        seen.append(instance.pk)

    signals.post_init.connect(listen, sender=Event)
    try:
        Event.objects.get(pk=stored.pk)
    finally:
        signals.post_init.disconnect(listen, sender=Event)
    assert seen == [stored.pk]


def test_loaded_events_save_refresh_and_defer_as_usual(stored):
    stored.signal_error = "receiver failed"
    stored.save(update_fields=["signal_error"])
    assert Event.objects.get(pk=stored.pk).signal_error == "receiver failed"
    stored.refresh_from_db()
    assert stored.signal_error == "receiver failed"
    partial = Event.objects.only("order_id").get(pk=stored.pk)  # Django's way
    assert partial.get_deferred_fields()
    assert partial.payload == stored.payload  # loaded when first read
