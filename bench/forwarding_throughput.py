"""Forwarding throughput: `manage.py runworker` processes sending deliveries to a local receiver.

    .venv/bin/python bench/forwarding_throughput.py [--events 2000] [--workers 1 2]
        [--latency-rate 100] [--latency-events 1000] [--database-url postgres://…/scratch]
        [--worker-args "--interval 0.1"]

For each worker count: a backlog of --events events (stored through ipn_store, as the receiver
stores them, each routed to one destination) is sent by freshly started workers, and the rate
is taken from the first attempt to the last (deliveries/s) with the workers' CPU time per
delivery (the machine may be shared: CPU per delivery is the steadier number). Then, with the
workers idle and waiting, --latency-events events arrive at --latency-rate per second and the
delay from an event's storing (its `OK`) to its first attempt is reported (p50/p99). Last, the
workers' peak resident size (VmHWM).

Without --database-url it runs on a fresh SQLite file in a temporary directory; with one it
migrates that database and empties its events, deliveries and tasks: point it at a scratch
database.
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENV = {
    "DJANGO_SETTINGS_MODULE": "ds24site.settings",
    "DJANGO_READ_DOT_ENV_FILE": "false",
    "SECRET_KEY": "bench-" + "x" * 60,
    "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktbmV3ZXN0LTAxMjM0NTY3ODlhYmNkZWY=",
    "SITE_URL": "http://testserver",
    "ALLOWED_HOSTS": "testserver",
    # The receiver is on 127.0.0.1, which the SSRF guard refuses without this (as in the tests).
    "DESTINATIONS_ALLOW_LOCAL": "true",
    "LOG_LEVEL": "WARNING",
}


class Receiver(BaseHTTPRequestHandler):
    """A fast destination: reads the body and answers 204, keeping the connection open."""

    protocol_version = "HTTP/1.1"
    count = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
        Receiver.count += 1

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # a worker's batch connects at once; the default 5 resets some


def start_receiver() -> str:
    server = Server(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/hook"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def store_events(webhook, start: int, count: int, rate: float | None = None) -> None:
    """Store `count` distinct on_payment events as the receiver does, at `rate` per second."""
    from webhooks import samples
    from webhooks.services import ipn_store

    began = time.monotonic()
    for n in range(count):
        if rate:
            pause = began + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        params = samples.BY_EVENT["on_payment"](order_id=f"B{start + n:08d}")
        ipn_store(webhook=webhook, pairs=list(params.items()), signature="verified", sender_ip=None)


def wait_until(condition, timeout: float, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


def run(args, webhook, workers: int, env: dict) -> dict:
    from django.db.models import Max, Min
    from django_tasks_db.models import DBTaskResult

    from forwarding.models import Attempt, Delivery
    from webhooks.models import Event

    Event.objects.all().delete()  # and their deliveries and attempts
    DBTaskResult.objects.all().delete()
    store_events(webhook, 0, args.events)
    total = args.events

    def sent() -> int:
        return Delivery.objects.filter(status="succeeded").count()

    command = [sys.executable, "manage.py", "runworker", "--no-reload", "--verbosity", "0"]
    command += shlex.split(args.worker_args)
    processes = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(workers)]
    try:
        # CPU from the first attempt on, so the workers' start-up is not counted.
        wait_until(lambda: Attempt.objects.exists(), 120, poll=0.01)
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        if not wait_until(lambda: sent() >= total, 600, poll=0.2):
            raise SystemExit(f"only {sent()} of {total} deliveries succeeded")
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
        span = Attempt.objects.aggregate(first=Min("started"), last=Max("started"))
        seconds = (span["last"] - span["first"]).total_seconds()
        assert Attempt.objects.count() == total, "a delivery was attempted twice"

        # Latency: events arriving at a steady rate while the workers wait for work.
        backlog_last = Event.objects.aggregate(last=Max("id"))["last"]
        store_events(webhook, total, args.latency_events, rate=args.latency_rate)
        total += args.latency_events
        if not wait_until(lambda: sent() >= total, 600, poll=0.2):
            raise SystemExit(f"only {sent()} of {total} deliveries succeeded")
        delays = sorted(
            (attempt.started - attempt.delivery.event.received).total_seconds()
            for attempt in Attempt.objects.select_related("delivery__event").filter(
                number=1, delivery__event_id__gt=backlog_last
            )
        )
        hwm = max(vm_hwm_mb(p.pid) for p in processes)
    finally:
        for process in processes:
            process.kill()
            process.wait()
    return {
        "workers": workers,
        "rate": args.events / seconds,
        "cpu_ms": 1000 * cpu / args.events,
        "p50": statistics.median(delays),
        "p99": delays[int(len(delays) * 0.99) - 1],
        "hwm": hwm,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--latency-rate", type=float, default=100.0)
    parser.add_argument("--latency-events", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--worker-args", default="", help="more runworker options")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/forwarding.sqlite3"
        env = {**os.environ, **ENV, "DATABASE_URL": database_url}
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from forwarding.models import Destination
        from webhooks.services import webhook_create

        call_command("migrate", verbosity=0)
        Destination.objects.all().delete()
        webhook = webhook_create(name="Bench", kind="payments")
        Destination.objects.create(name="Local", url=start_receiver(), webhook=webhook)
        print(
            f"db={connection.vendor} events={args.events} latency: {args.latency_events} "
            f"at {args.latency_rate:g}/s worker-args={args.worker_args!r}"
        )
        print(f"{'workers':>7} {'deliv/s':>8} {'cpu ms/d':>8} {'p50 s':>6} {'p99 s':>6} {'MB':>5}")
        for workers in args.workers:
            r = run(args, webhook, workers, env)
            print(
                f"{r['workers']:>7} {r['rate']:>8.1f} {r['cpu_ms']:>8.2f} {r['p50']:>6.2f} "
                f"{r['p99']:>6.2f} {r['hwm']:>5.0f}",
                flush=True,
            )
        connection.close()


if __name__ == "__main__":
    main()
