import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

# Read once, by `ensureadmin` while `make run` sets up; the processes that run for days never need
# it, and a process's environment is readable long after (/proc/PID/environ, `ps e`, crash
# reports). Passed on empty rather than left out: empty counts as unset, and it keeps settings
# from loading the value from .env into the server's environment (read_env never overwrites).
SETUP_ONLY_VARIABLES = ("DJANGO_SUPERUSER_PASSWORD",)

# Seconds before a dead task worker is started again: the first time, and at most (doubling
# while it keeps dying); a worker that ran WORKER_STEADY seconds counts as healthy again.
WORKER_RESTART_MIN, WORKER_RESTART_MAX, WORKER_STEADY = 1.0, 30.0, 60.0


class Command(BaseCommand):
    help = (
        "Run the web server (gunicorn) and one task worker (runworker) together, as `make run` "
        "does: both logs on this terminal; Ctrl+C (or SIGTERM, or closing the terminal) stops "
        "both, gracefully; a second Ctrl+C kills them. A task worker that dies is started "
        "again; when gunicorn exits, the worker is stopped too."
    )

    def handle(self, **options):
        manage = str(settings.BASE_DIR / "manage.py")
        commands = {
            "gunicorn": [
                sys.executable,
                "-m",
                "gunicorn",
                "ds24site.wsgi",
                "-c",
                "gunicorn.conf.py",
            ],
            "worker": [sys.executable, manage, "runworker", "--no-reload"],
        }
        environment = {**os.environ, **dict.fromkeys(SETUP_ONLY_VARIABLES, "")}
        children: dict[str, subprocess.Popen] = {}
        signals_received = []

        def stop(signum, frame):
            signals_received.append(signum)
            forced = len(signals_received) > 1
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGKILL if forced else signal.SIGTERM)

        # Before the children start: a signal arriving in between would kill this process by
        # default and leave them running.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        # A closed terminal or SSH session: the children, in their own sessions, do not get it.
        signal.signal(signal.SIGHUP, stop)

        # Own sessions: a terminal's Ctrl+C reaches only this process, which then stops each
        # child once (a worker given two signals abandons its task instead of finishing it).
        def start(name):
            if not signals_received:
                children[name] = subprocess.Popen(  # noqa: S603
                    commands[name], cwd=settings.BASE_DIR, env=environment, start_new_session=True
                )
            if signals_received:  # arrived while starting: this child missed it
                stop(signal.SIGTERM, None)

        for name in commands:
            start(name)
        # A task worker dies with a SIGKILL (the OOM killer) or a database error it does not
        # survive (db_worker re-raises all but "database is locked", e.g. while PostgreSQL
        # restarts). Like gunicorn with its workers and systemd's Restart=always in production,
        # serve starts another, so the receiver stays up and queued work is done; a worker that
        # keeps dying waits longer each time, up to WORKER_RESTART_MAX seconds.
        delay, worker_started = WORKER_RESTART_MIN, time.monotonic()
        while not signals_received and children["gunicorn"].poll() is None:
            worker = children["worker"]
            if worker.poll() is not None:
                if time.monotonic() - worker_started > WORKER_STEADY:
                    delay = WORKER_RESTART_MIN
                self.stderr.write(
                    f"worker exited (code {worker.returncode}); starting another in {delay:g} s"
                )
                restart_at = time.monotonic() + delay
                while not signals_received and time.monotonic() < restart_at:
                    time.sleep(0.1)
                start("worker")
                delay, worker_started = min(delay * 2, WORKER_RESTART_MAX), time.monotonic()
            time.sleep(0.2)
        if not signals_received:
            self.stderr.write("gunicorn exited; stopping the worker")
            stop(signal.SIGTERM, None)
        codes = [child.wait() for child in children.values()]
        if not signals_received and any(codes):
            sys.exit(1)
