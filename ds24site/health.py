"""What /healthz and `manage.py check` prove, beyond "the database answers a SELECT": that the
database takes a write, that the disk under SQLite has room, and that FIELD_ENCRYPTION_KEY
decrypts the secrets stored with it. Each proof is cheap (one UPDATE of a one-row table, one
row per kind of secret), and each problem is a short sentence with no secret in it.

/healthz reuses a report for RECENT seconds (`recent_report`): load balancers probing every
second from several places then cost one probe per process per interval, and while one thread
waits behind a lock the others answer with the last report instead of queueing behind it.
"""

import logging
import shutil
import threading
import time
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ds24site.crypto import DecryptionError, EncryptedTextField
from ds24site.models import HealthProbe

logger = logging.getLogger(__name__)

RECENT = 2.0  # seconds

UNREACHABLE = "database unreachable"
NO_WRITE = "database cannot take a write"
DISK_FULL = "disk nearly full"
KEY_WRONG = "FIELD_ENCRYPTION_KEY cannot decrypt stored secrets"


def encrypted_fields(tables=None):
    """(model, field name) of every encrypted column, of the models whose table is in `tables`
    (all when None)."""
    for model in apps.get_models():
        if tables is not None and model._meta.db_table not in tables:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field.name


def undecryptable(tables=None) -> list[str]:
    """The kinds of secret ("webhooks.Webhook.passphrase") whose oldest stored value the key
    cannot decrypt. The oldest, because it is the one most likely to predate a key rotation."""
    unreadable = []
    for model, name in encrypted_fields(tables):
        sealed = (
            model._base_manager.exclude(**{name: ""})
            .order_by("pk")
            .values_list(name, flat=True)
            .first()
        )
        if sealed is None:
            continue
        try:
            sealed.reveal()
        except (DecryptionError, ImproperlyConfigured):
            unreadable.append(f"{model._meta.label}.{name}")
    return unreadable


def write() -> None:
    """Update the probe row in a transaction of its own, as the receiver writes: on SQLite that
    waits for the write lock as long as any request would (the busy timeout) and fails on a
    read-only file; PostgreSQL is given the same wait as lock and statement timeouts, so a
    probe cannot hang behind a lock for ever."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            timeout = f"{round(settings.DB_BUSY_TIMEOUT * 1000)}ms"
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true), "
                    "set_config('statement_timeout', %s, true)",
                    [timeout, timeout],
                )
        now = timezone.now()
        if not HealthProbe.objects.filter(pk=1).update(written=now):
            HealthProbe.objects.get_or_create(pk=1, defaults={"written": now})


def free_disk_bytes() -> int | None:
    """Free space for this process on the SQLite file's disk; None on other databases (their
    server's disk shows itself in the write)."""
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    return shutil.disk_usage(Path(connection.settings_dict["NAME"]).parent).free


def database_problems(*, with_probe_table: bool = True) -> list[str]:
    """UNREACHABLE, NO_WRITE and DISK_FULL, as they apply; the details go to the log."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("health check: %s", UNREACHABLE)
        return [UNREACHABLE]
    problems = []
    if with_probe_table:
        try:
            write()
        except DatabaseError:
            logger.exception("health check: %s", NO_WRITE)
            problems.append(NO_WRITE)
    free = free_disk_bytes()
    if free is not None and free < settings.DB_MIN_FREE_MB * 2**20:
        logger.error("health check: %s (%d MB free)", DISK_FULL, free // 2**20)
        problems.append(DISK_FULL)
    return problems


def report() -> list[str]:
    """Every problem, as /healthz states them; empty when healthy."""
    problems = database_problems()
    if UNREACHABLE in problems:
        return problems
    try:
        unreadable = undecryptable()
    except DatabaseError:
        logger.exception("health check: cannot read the stored secrets")
        return [*problems, UNREACHABLE]
    if unreadable:
        logger.error("health check: %s: %s", KEY_WRONG, ", ".join(unreadable))
        problems.append(KEY_WRONG)
    return problems


class Recent:
    """A function's last result, reused for `ttl` seconds, and by every other thread while one
    thread computes the next (they do not queue behind a probe that waits for a lock)."""

    def __init__(self, function, ttl: float):
        self.function, self.ttl = function, ttl
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.value, self.at = None, float("-inf")

    def __call__(self):
        if time.monotonic() - self.at < self.ttl:
            return self.value
        # Only the first report is waited for: there is nothing older to answer with.
        if not self.lock.acquire(blocking=self.value is None):
            return self.value
        try:
            if time.monotonic() - self.at >= self.ttl:
                self.value, self.at = self.function(), time.monotonic()
            return self.value
        finally:
            self.lock.release()


recent_report = Recent(report, RECENT)
