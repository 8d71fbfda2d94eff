"""What a bad day does to the app while IPNs arrive: slow-loris connections, a login flood,
SIGKILLed processes and a database that goes away (PostgreSQL restarted) or stays locked
(SQLite, past its busy timeout). Each attack records when it was under way and what it saw."""

import collections
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field

import requests

from bench.soak.stack import App, Database

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Outcome:
    """One attack: its window (time.monotonic()) and what it observed."""

    kind: str
    started: float
    ended: float = 0.0
    detail: str = ""
    failure: str = ""  # set when the app did not recover as it must
    statuses: collections.Counter = field(default_factory=collections.Counter)
    latencies: list[float] = field(default_factory=list)  # the login flood's guesses


def slowloris(app: App, path: str, size: int, seconds: float) -> Outcome:
    """`size` connections that trickle a request a byte at a time: half of them the headers,
    half the body of a form POST; each reconnects when the server drops it."""
    outcome = Outcome("slowloris", time.monotonic())
    end = outcome.started + seconds
    lock = threading.Lock()

    def trickle(body: bool):
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", app.port), timeout=5) as sock:
                    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    if body:
                        head += (
                            "Content-Type: application/x-www-form-urlencoded\r\n"
                            "Content-Length: 100000\r\n\r\n"
                        )
                    sock.sendall(head.encode())
                    with lock:
                        outcome.statuses["opened"] += 1
                    while time.monotonic() < end:
                        time.sleep(1)
                        sock.sendall(b"a" if body else b"X")
                    with lock:
                        outcome.statuses["held to the end"] += 1
            except OSError:
                with lock:
                    outcome.statuses["dropped by the server"] += 1
                time.sleep(0.2)

    threads = [threading.Thread(target=trickle, args=(i % 2 == 1,)) for i in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.ended = time.monotonic()
    outcome.detail = ", ".join(f"{k} {v}" for k, v in sorted(outcome.statuses.items()))
    return outcome


def login_flood(app: App, size: int, seconds: float) -> Outcome:
    """`size` threads posting wrong passwords for `admin` to the admin login, each with the
    CSRF cookie and token of a login page it fetched, as a password-guessing script does."""
    outcome = Outcome("login_flood", time.monotonic())
    end = outcome.started + seconds
    lock = threading.Lock()
    login = app.url + "/admin/login/"

    def guess(n: int):
        session = requests.Session()
        token, guesses = "", 0
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                if not token:
                    page = session.get(login, timeout=30)
                    match = CSRF_INPUT.search(page.text)
                    token = match.group(1) if match else ""
                    with lock:
                        outcome.statuses[f"GET {page.status_code}"] += 1
                    continue
                guesses += 1
                answer = session.post(
                    login,
                    data={
                        "csrfmiddlewaretoken": token,
                        "username": "admin",
                        "password": f"guess-{n}-{guesses}",
                        "next": "/admin/",
                    },
                    timeout=30,
                )
                with lock:
                    outcome.statuses[f"POST {answer.status_code}"] += 1
                    outcome.latencies.append(time.monotonic() - started)
                if answer.status_code != 200:
                    token = ""  # fetch a fresh page (and cookie) before the next guess
            except requests.RequestException as exc:
                with lock:
                    outcome.statuses[type(exc).__name__] += 1
                time.sleep(0.2)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.ended = time.monotonic()
    outcome.detail = ", ".join(f"{k} {v}" for k, v in sorted(outcome.statuses.items()))
    if outcome.latencies:
        slowest = sorted(outcome.latencies)[int(len(outcome.latencies) * 0.99)]
        outcome.detail += f", answered in {slowest * 1000:.0f} ms at p99"
    return outcome


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def kill_web_worker(app: App) -> Outcome:
    """SIGKILL one gunicorn worker; its master must start another."""
    outcome = Outcome("kill_web_worker", time.monotonic())
    before = app.web_workers()
    if not before:
        outcome.failure = "no gunicorn worker to kill"
        return outcome
    victim = random.choice(before)
    os.kill(victim, signal.SIGKILL)
    replaced = _wait_for(
        lambda: len(app.web_workers()) >= len(before) and victim not in app.web_workers(), 30
    )
    outcome.ended = time.monotonic()
    outcome.detail = f"pid {victim} of {len(before)}"
    if replaced:
        outcome.detail += f", replaced in {outcome.ended - outcome.started:.1f} s"
    else:
        outcome.failure = f"gunicorn worker {victim} was not replaced within 30 s"
    return outcome


def kill_task_worker(app: App) -> Outcome:
    """SIGKILL the task worker; `serve` must start another and keep serving."""
    outcome = Outcome("kill_task_worker", time.monotonic())
    victim = app.task_worker()
    if victim is None:
        outcome.failure = "no task worker to kill"
        return outcome
    os.kill(victim, signal.SIGKILL)
    replaced = _wait_for(lambda: app.task_worker() not in (None, victim), 30)
    outcome.ended = time.monotonic()
    outcome.detail = f"pid {victim}"
    if replaced:
        outcome.detail += f", replaced in {outcome.ended - outcome.started:.1f} s"
    elif not app.running:
        outcome.failure = "manage.py serve stopped after its task worker was killed"
    else:
        outcome.failure = "the task worker was not replaced within 30 s"
    return outcome


def restart_postgres() -> Outcome:
    """Restart the PostgreSQL cluster: every connection is cut, and for a moment none is taken.
    (Shared with whatever else uses this server: done at most once per full run.)"""
    outcome = Outcome("postgres_restart", time.monotonic())
    (version,) = os.listdir("/etc/postgresql")
    command = shutil.which("pg_ctlcluster") or "/usr/bin/pg_ctlcluster"
    done = subprocess.run(
        [command, "--skip-systemctl-redirect", version, "main", "restart"],
        capture_output=True,
        text=True,
        check=False,
    )
    outcome.ended = time.monotonic()
    outcome.detail = f"cluster {version}/main restarted in {outcome.ended - outcome.started:.1f} s"
    if done.returncode:
        outcome.failure = f"pg_ctlcluster failed: {(done.stderr or done.stdout).strip()[:200]}"
    return outcome


def lock_sqlite(database: Database, hold: float) -> Outcome:
    """Hold SQLite's write lock from another connection (BEGIN EXCLUSIVE) for `hold` seconds,
    longer than the app's busy timeout: its writes give up meanwhile."""
    outcome = Outcome("sqlite_lock", time.monotonic())
    conn = sqlite3.connect(database.path, timeout=60, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        locked = time.monotonic()
        time.sleep(hold)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    outcome.started, outcome.ended = locked, time.monotonic()
    outcome.detail = f"held {outcome.ended - locked:.1f} s"
    return outcome
