"""Forwarding: how fast task workers (`manage.py runworker`, what `serve` starts) deliver a
backlog of events to a destination that answers at once (bench/receiver.py), with one and
with two of them, and how long an event waits between the receiver's OK and its first delivery
attempt while IPNs arrive at a steady pace with one worker running, as `make run` has it."""

import json
import secrets
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from bench import db, servers
from bench.load import Ledger, post_ipns
from bench.stats import percentile

FIRST_ATTEMPTS = (
    "SELECT e.received, a.started, a.duration_ms FROM forwarding_attempt a"
    " JOIN forwarding_delivery d ON d.id = a.delivery_id"
    " JOIN webhooks_event e ON e.id = d.event_id"
    " WHERE a.number = 1 AND e.id > %s"
)


def forwarding(
    *,
    database_url: str,
    workdir: Path,
    backlog_seconds: int,
    paced_seconds: int,
    paced_rate: int,
    connections: int,
) -> dict:
    port, receiver_port = servers.free_port(), servers.free_port()
    env = servers.app_environment(
        database_url,
        port,
        DESTINATIONS_ALLOW_LOCAL="true",  # the receiver is on 127.0.0.1, over http
        DJANGO_SUPERUSER_PASSWORD=secrets.token_urlsafe(18),
    )
    servers.manage(env, "migrate", "--noinput")
    servers.manage(env, "ensureadmin")
    webhook = json.loads(
        servers.manage(env, "addwebhook", "bench forwarding", "--kind", "payments")
    )
    token = servers.manage(env, "addapitoken", "admin", "--writable").split()[-1]
    receiver = servers.Process(
        [servers.PYTHON, "-m", "bench.receiver", str(receiver_port)], env, workdir / "receiver.log"
    )
    web = servers.Process([*servers.GUNICORN, "ds24site.wsgi"], env, workdir / "web.log")
    workers: list[servers.Process] = []
    load = {
        "port": port,
        "path": urlsplit(webhook["url"]).path,
        "passphrase": webhook["passphrase"],
        "ledger": Ledger(),
        "workdir": workdir / "load",
        "connections": connections,
    }
    try:
        receiver.wait_http(receiver_port)
        web.wait_http(port, "/healthz")
        created = requests.post(
            f"http://127.0.0.1:{port}/api/v1/destinations/",
            json={"name": "bench receiver", "url": f"http://127.0.0.1:{receiver_port}/"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        created.raise_for_status()

        throughput, memory = [], []
        for count in (1, 2):
            first = _last_event(database_url)
            post_ipns(**load, seconds=backlog_seconds)  # no worker runs: a backlog builds up
            workers = [_worker(env, workdir, f"{count}-{n}") for n in range(count)]
            _drain(database_url, workers)
            throughput.append({"workers": count, **_rate(database_url, first)})
            memory += [m for worker in workers for m in servers.process_memory(worker.pid)]
            _stop(workers)

        workers = [_worker(env, workdir, "paced")]
        post_ipns(**load, seconds=1, delay_ms=connections * 1000 // paced_rate)  # warm-up
        _drain(database_url, workers)
        first = _last_event(database_url)
        post_ipns(**load, seconds=paced_seconds, delay_ms=connections * 1000 // paced_rate)
        _drain(database_url, workers)
        delays = _delays(database_url, first)
        memory += [m for worker in workers for m in servers.process_memory(worker.pid)]
        received = int(requests.get(f"http://127.0.0.1:{receiver_port}/", timeout=30).text)
    finally:
        _stop(workers)
        web.stop()
        receiver.stop()
    (pending,) = db.rows(
        database_url, "SELECT COUNT(*) FROM forwarding_delivery WHERE status <> 'succeeded'"
    )[0]
    (succeeded,) = db.rows(
        database_url, "SELECT COUNT(*) FROM forwarding_delivery WHERE status = 'succeeded'"
    )[0]
    return {
        "throughput": throughput,
        "paced_rate": paced_rate,
        "delay": delays,
        "deliveries_succeeded": succeeded,
        "deliveries_not_succeeded": pending,
        "receiver_got": received,
        "memory": memory,
    }


def _worker(env: dict[str, str], workdir: Path, name: str) -> servers.Process:
    return servers.Process(servers.TASK_WORKER, env, workdir / f"worker-{name}.log")


def _stop(workers: list[servers.Process]) -> None:
    for worker in workers:
        worker.stop()


def _last_event(url: str) -> int:
    return db.rows(url, "SELECT COALESCE(MAX(id), 0) FROM webhooks_event")[0][0]


# IPNs not yet in the event log (their deliveries not made yet), and deliveries not yet sent.
UNFINISHED = (
    "SELECT (SELECT COUNT(*) FROM webhooks_inboundipn)"
    " + (SELECT COUNT(*) FROM forwarding_delivery WHERE status = 'pending')"
)


def _drain(url: str, workers: list[servers.Process], timeout: float = 300) -> None:
    """Until every IPN is in the event log and no delivery is pending."""
    deadline = time.monotonic() + timeout
    while db.rows(url, UNFINISHED)[0][0]:
        for worker in workers:
            if worker.popen.poll() is not None:
                raise RuntimeError(f"a task worker exited; see {worker.log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"deliveries still pending after {timeout:g} s")
        time.sleep(0.2)


def _rate(url: str, after_event: int) -> dict:
    """Deliveries a second of the events after `after_event`: from the start of the first
    attempt to the end of the last."""
    attempts = [
        (db.timestamp(started), duration_ms)
        for _, started, duration_ms in db.rows(url, FIRST_ATTEMPTS, (after_event,))
    ]
    begin = min(started for started, _ in attempts)
    end = max(started.timestamp() + duration_ms / 1000 for started, duration_ms in attempts)
    return {"deliveries": len(attempts), "per_s": len(attempts) / (end - begin.timestamp())}


def _delays(url: str, after_event: int) -> dict:
    """Seconds from receiving each event (set before its row is written, so a little earlier
    than the OK) to the start of its first delivery attempt."""
    delays = [
        (db.timestamp(started) - db.timestamp(received)).total_seconds()
        for received, started, _ in db.rows(url, FIRST_ATTEMPTS, (after_event,))
    ]
    return {
        "events": len(delays),
        "p50_s": statistics.median(delays),
        "p99_s": percentile(delays, 0.99),
        "max_s": max(delays),
    }
