"""`manage.py serve` (what `make run` starts): its gunicorn and worker live in sessions of their
own, so a terminal's signals reach only serve, which must pass each on, or they outlive it."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.forwarding.test_workers import database_url, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    # A zombie has exited: it only waits for its parent to collect it.
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def serve():
    """`manage.py serve` on a free port, once gunicorn listens and the worker has run the sweep
    it queues on starting (a signal between fork and exec is lost); every process it started
    is killed at the end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url(), "PORT": str(port), "LOG_LEVEL": "ERROR"}
    process = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=ROOT, env=env)
    process.port = port
    process.started = []
    try:
        wait_for(lambda: len(children(process.pid)) == 2, "serve to start both")
        process.started += children(process.pid)
        wait_for(lambda: listening(port), "gunicorn to listen")
        wait_for(
            lambda: DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).exists(),
            "the worker to run its first sweep",
        )
        yield process
    finally:
        for pid in [*process.started, *children(process.pid), process.pid]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)


def task_worker(serve) -> int | None:
    return next(
        (
            pid
            for pid in children(serve.pid)
            if b"runworker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ),
        None,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_serve_stops_gunicorn_and_the_worker(serve, signum):
    """SIGHUP is what a closed terminal (or a dropped SSH session) sends."""
    serve.send_signal(signum)
    serve.wait(timeout=60)
    wait_for(lambda: not any(alive(pid) for pid in serve.started), "both to stop")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_task_worker_is_replaced_and_the_site_stays_up(serve):
    """The OOM killer, or a database error the worker does not survive (PostgreSQL restarting):
    the receiver must keep answering, and queued work must still be done."""
    killed = task_worker(serve)
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: task_worker(serve) not in (None, killed), "another task worker")
    serve.started.append(task_worker(serve))
    assert serve.poll() is None
    assert requests.get(f"http://127.0.0.1:{serve.port}/healthz", timeout=10).status_code == 200
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=60)
    wait_for(lambda: not any(alive(pid) for pid in serve.started), "both to stop")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_servers_environment_holds_no_admin_password():
    """`make run` may be given DJANGO_SUPERUSER_PASSWORD for ensureadmin; what serve starts
    runs for days and must not carry it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    password = "not-for-the-server-9f3kQ"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "PORT": str(port),
        "LOG_LEVEL": "ERROR",
        "DJANGO_SUPERUSER_PASSWORD": password,
    }
    serve = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=ROOT, env=env)
    started = []

    def command(pid: int) -> bytes:
        return Path(f"/proc/{pid}/cmdline").read_bytes()

    try:
        wait_for(lambda: len(children(serve.pid)) == 2, "serve to start both")
        started = children(serve.pid)
        # Until they exec, forked children still show serve's own environment.
        wait_for(
            lambda: all(
                b"gunicorn" in command(pid) or b"runworker" in command(pid) for pid in started
            ),
            "both to start",
        )
        (gunicorn,) = [pid for pid in started if b"gunicorn" in command(pid)]
        wait_for(lambda: children(gunicorn), "gunicorn's workers")
        processes = [*started, *children(gunicorn)]
        for pid in processes:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert password.encode() not in b"\0".join(environ), command(pid)
            assert b"DJANGO_SUPERUSER_PASSWORD=" in environ  # empty: .env cannot fill it in
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
