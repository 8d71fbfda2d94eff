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


class Command(BaseCommand):
    help = (
        "Run the web server (gunicorn) and one task worker (runworker) together, as `make run` "
        "does: both logs on this terminal; Ctrl+C (or SIGTERM, or closing the terminal) stops "
        "both, gracefully; a second Ctrl+C kills them. When either exits, the other is stopped "
        "too."
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
        for name, argv in commands.items():
            if signals_received:
                break
            children[name] = subprocess.Popen(  # noqa: S603
                argv, cwd=settings.BASE_DIR, env=environment, start_new_session=True
            )
        while not signals_received and all(child.poll() is None for child in children.values()):
            time.sleep(0.2)
        exited = [name for name, child in children.items() if child.poll() is not None]
        if not signals_received:
            self.stderr.write(f"{', '.join(exited)} exited; stopping the rest")
            stop(signal.SIGTERM, None)
        codes = [child.wait() for child in children.values()]
        if not signals_received and any(codes):
            sys.exit(1)
