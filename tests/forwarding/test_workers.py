"""Real workers: `manage.py runworker` processes against the test database (a worker killed
mid-request, two workers racing), and a worker thread showing that the IPN answer does not wait
for slow receivers. Every worker started here is stopped by the test's end."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django_tasks_db.management.commands.db_worker import Worker

from forwarding.models import Attempt, Delivery, Destination
from tests.conftest import follow_up, keep_ipn, on_payment, signed, wait_for
from webhooks.follow_up import FollowUpLoop
from webhooks.models import Event
from webhooks.signals import ipn_received

ROOT = Path(__file__).resolve().parents[2]
WORKER_OPTIONS = ["--no-reload", "--no-startup-delay", "--interval", "0.1"]
pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    """The test database, as a DATABASE_URL for a worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def workers():
    """Start `manage.py runworker` processes; all are killed at the end."""
    started = []
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DESTINATIONS_ALLOW_LOCAL": "true",
        "DESTINATIONS_TIMEOUT": "3",  # a lease of 9 s
        "DESTINATIONS_SWEEP_INTERVAL": "0.5",
        "LOG_LEVEL": "WARNING",
    }

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runworker", *WORKER_OPTIONS],
            cwd=ROOT,
            env=env,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_a_killed_workers_delivery_is_sent_by_another_worker(post_ipn, webhook, receiver, workers):
    receiver.hold = True  # the first request hangs
    Destination.objects.create(name="CRM", url=receiver.url)
    post_ipn(webhook, signed(on_payment()))

    first = workers()
    assert receiver.arrived.wait(60), "the first worker never sent"
    os.kill(first.pid, signal.SIGKILL)  # mid-request
    first.wait(timeout=30)
    receiver.hold = False
    receiver.release.set()

    workers()
    wait_for(lambda: len(receiver.requests) == 2, "the second worker's attempt")
    wait_for(
        lambda: Delivery.objects.get().status == Delivery.Status.SUCCEEDED, "the delivery to end"
    )
    delivery = Delivery.objects.get()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.message_id] * 2
    assert delivery.attempts == 2  # the killed one counts, but left no Attempt row
    assert Attempt.objects.get().status_code == 200


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL only"
)
def test_two_workers_racing_over_500_deliveries_send_each_exactly_once(webhook, receivers, workers):
    receiver = receivers()
    for n in range(5):
        Destination.objects.create(name=f"D{n}", url=f"{receiver.url}/{n}")
    for n in range(100):
        keep_ipn(webhook, signed(on_payment(order_id=f"O{n}")))
    assert follow_up() == 100
    assert Delivery.objects.count() == 500

    racers = [workers(), workers()]
    wait_for(
        lambda: not Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).exists(),
        "all deliveries to succeed",
        timeout=300,
    )
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 500
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    assert Attempt.objects.count() == 500
    assert all(racer.poll() is None for racer in racers)  # both were working to the end


def test_the_ipn_answer_does_not_wait_for_slow_receivers_or_destinations(
    client, settings, webhook, receiver
):
    """An ipn_received receiver that would sleep 5 s and a destination that hangs run in two
    worker threads, beside the follow-up loop a worker runs: the answer arrives while both are
    still blocked, released only after."""
    settings.DESTINATIONS_TIMEOUT = 30  # the hanging destination must not time out first
    receiver.hold = True
    Destination.objects.create(name="CRM", url=receiver.url)
    order, receiver_started, release = [], threading.Event(), threading.Event()

    def slow_receiver(sender, event, **kwargs):
        receiver_started.set()
        release.wait(5)
        order.append("receiver finished")

    def run(worker):
        try:
            worker.run()
        finally:
            connections.close_all()

    workers = [
        Worker(
            queue_names=["default"],
            interval=0.05,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"thread-{n}",
            excluded_queue_names=[],
        )
        for n in range(2)
    ]
    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    follow_up_loop = FollowUpLoop(interval=0.05)
    ipn_received.connect(slow_receiver)
    follow_up_loop.start()
    for thread in threads:
        thread.start()
    try:
        response = client.post(
            webhook.get_receive_url().removeprefix("https://ds24.example.com"),
            data=urlencode(signed(on_payment())),
            content_type="application/x-www-form-urlencoded",
        )
        order.append("answered")
        assert response.content == b"OK"
        assert receiver_started.wait(30) and receiver.arrived.wait(30)
        assert order == ["answered"]  # both are still blocked
        release.set()
        receiver.release.set()
        wait_for(lambda: order == ["answered", "receiver finished"], "the receiver")
        wait_for(lambda: Delivery.objects.filter(status="succeeded").exists(), "the delivery")
        assert Event.objects.get().signal_error == ""
        assert Attempt.objects.get().status_code == 200
    finally:
        release.set()
        receiver.release.set()
        follow_up_loop.stop(timeout=30)
        for worker in workers:
            worker.running = False
        for thread in threads:
            thread.join(30)
        ipn_received.disconnect(slow_receiver)
