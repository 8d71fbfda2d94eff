"""Following new events: oldest first from a cursor, never missing or repeating one, even when
deliveries commit out of order."""

import threading

import pytest
from django.db import connection, connections

from tests.conftest import PASSPHRASE, follow_up, keep_ipn, on_payment
from webhooks.models import Event
from webhooks.services import webhook_create

FOLLOW = "/api/v1/events/follow/"
# Committed data only: on PostgreSQL, follow waits for the writing transaction to commit, and a
# test wrapped in one never does.
pytestmark = pytest.mark.django_db(transaction=True)


def store(webhook, transaction_id):
    """An IPN kept and put into the event log, as the receiver and a worker do."""
    keep_ipn(webhook, on_payment(transaction_id=transaction_id, order_id=transaction_id))
    follow_up()


def follow(api_get, cursor=None, **params):
    if cursor:
        params["cursor"] = cursor
    response = api_get(FOLLOW, params)
    assert response.status_code == 200, response.content
    body = response.json()
    return [e["transaction_id"] for e in body["results"]], body["cursor"], body["more"]


def test_pages_oldest_first_until_caught_up(api_get, webhook):
    for n in range(5):
        store(webhook, f"T{n}")
    seen, cursor, more = follow(api_get, limit=2)
    assert (seen, more) == (["T0", "T1"], True)
    seen, cursor, more = follow(api_get, cursor, limit=2)
    assert (seen, more) == (["T2", "T3"], True)
    seen, cursor, more = follow(api_get, cursor, limit=2)
    assert (seen, more) == (["T4"], False)
    assert follow(api_get, cursor) == ([], cursor, False)  # caught up: same cursor back
    store(webhook, "T5")
    assert follow(api_get, cursor)[0] == ["T5"]


def test_start_latest_skips_the_backlog_and_filters_apply(api_get, webhook):
    store(webhook, "OLD")
    seen, cursor, _ = follow(api_get, start="latest")
    assert seen == []
    store(webhook, "NEW")
    other = webhook_create(name="All", kind="all", passphrase=PASSPHRASE)
    store(other, "ELSEWHERE")
    assert follow(api_get, cursor)[0] == ["NEW", "ELSEWHERE"]
    assert follow(api_get, cursor, webhook=str(other.public_id))[0] == ["ELSEWHERE"]


@pytest.mark.parametrize(
    "params",
    [{"cursor": "garbage"}, {"cursor": "djEuMS4y"[:-1] + "!"}, {"limit": "0"}, {"limit": "501"},
     {"limit": "many"}, {"start": "middle"}, {"event": "on_lottery_win"}],
)  # fmt: skip
def test_bad_follow_parameters_are_400(api_get, webhook, params):
    response = api_get(FOLLOW, params)
    assert response.status_code == 400
    assert response.json()["message"]


def test_a_delivery_committing_late_is_neither_missed_nor_repeated(api_get):
    """The race: A takes the smaller id but commits after B. A follower reading in between
    must not be handed B (its cursor would pass A's id and A would be lost)."""
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    # A second webhook: A and B then share no roll-up row, whose lock would make B wait for A.
    other = webhook_create(name="Everything", kind="all", passphrase=PASSPHRASE)
    store(webhook, "EARLIER")
    seen, cursor, _ = follow(api_get)
    assert seen == ["EARLIER"]

    a_inserted, release_a, b_done = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def deliver_a():
        from django.db import transaction

        try:
            with transaction.atomic():
                store(webhook, "A")
                a_inserted.set()
                assert release_a.wait(10)
        except Exception as exc:  # surfaced by the main thread
            errors.append(exc)
        finally:
            a_inserted.set()
            connections.close_all()

    def deliver_b():
        try:
            assert a_inserted.wait(10)
            store(other, "B")  # PostgreSQL: commits at once; SQLite: waits for A's lock
            b_done.set()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver_a), threading.Thread(target=deliver_b)]
    for thread in threads:
        thread.start()
    assert a_inserted.wait(10)
    if connection.vendor == "postgresql":
        assert b_done.wait(10)  # B is committed, with the larger id, while A is not
    during, cursor_during, _ = follow(api_get, cursor)
    release_a.set()
    for thread in threads:
        thread.join(10)
    assert not errors, errors

    a, b = Event.objects.get(transaction_id="A"), Event.objects.get(transaction_id="B")
    assert a.id < b.id
    assert during == []  # B is held back while A, before it, is in flight
    after, cursor_after, _ = follow(api_get, cursor_during)
    assert after == ["A", "B"]
    assert follow(api_get, cursor_after)[0] == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="transaction ids: PostgreSQL")
def test_a_cursor_from_another_server_is_refused(api_get, webhook):
    from webhooks.follow import Position

    response = api_get(FOLLOW, {"cursor": Position(10**15, 1).encode()})
    assert response.status_code == 400
    assert "another database server" in response.json()["message"]
