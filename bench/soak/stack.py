"""The system under test: a scratch database and the app served by `manage.py serve` (what
`make run` starts: gunicorn with gunicorn.conf.py, and one task worker), configured only
through the environment, as an operator would."""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except OSError:
        return []


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Database:
    """A scratch database: a SQLite file in the pass's directory, or a PostgreSQL database
    created (after dropping a leftover of the same name) and dropped at the end."""

    def __init__(self, url: str, workdir: Path):
        self.vendor = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
        self.url = url if self.vendor == "postgresql" else f"sqlite:///{workdir / 'soak.sqlite3'}"
        self.path = None if self.vendor == "postgresql" else workdir / "soak.sqlite3"

    def _admin(self, statement: str) -> None:
        import psycopg

        parts = urlsplit(self.url)
        with psycopg.connect(
            host=parts.hostname, port=parts.port or 5432, user=parts.username,
            password=parts.password, dbname="postgres", autocommit=True,
        ) as conn:  # fmt: skip
            conn.execute(statement)

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    def create(self) -> None:
        if self.vendor == "postgresql":
            self.drop()
            self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class App:
    """`manage.py serve` on a free port of 127.0.0.1; its log goes to `workdir/serve.log`."""

    def __init__(self, database: Database, workdir: Path, extra_env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        self.env = {
            **{name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ},
            "LANG": "C.UTF-8",
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "SITE_URL": self.url,
            "DATABASE_URL": database.url,
            "PORT": str(self.port),
            # Manifest storage needs collectstatic; the pages work the same without it.
            "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "LOG_LEVEL": "WARNING",
            # The destinations are local receivers.
            "DESTINATIONS_ALLOW_LOCAL": "true",
            **extra_env,
        }
        self.process: subprocess.Popen | None = None
        self.django_ready = False

    def configure_django(self) -> None:
        """Point this process's Django at the same database and settings as the app."""
        import django

        os.environ.update(self.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "ds24site.settings"
        sys.path.insert(0, str(ROOT))
        django.setup()
        self.django_ready = True

    def start(self, timeout: float = 60) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"manage.py serve exited at start; see {self.log_path}")
            with contextlib.suppress(requests.RequestException):
                healthy = requests.get(self.url + "/healthz", timeout=2).status_code == 200
                if healthy and self.task_worker() and len(self.web_workers()) > 0:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"manage.py serve did not come up in {timeout:.0f} s")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.running:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGTERM)  # serve's second signal kills both
            self.process.wait(timeout=30)

    # The process tree: serve -> gunicorn master -> workers; serve -> runworker.
    def _child(self, word: str) -> int | None:
        if self.process is None:
            return None
        return next((p for p in children(self.process.pid) if word in cmdline(p)), None)

    def gunicorn_master(self) -> int | None:
        return self._child("gunicorn")

    def web_workers(self) -> list[int]:
        master = self.gunicorn_master()
        return children(master) if master else []

    def task_worker(self) -> int | None:
        return self._child("runworker")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
