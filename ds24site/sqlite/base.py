"""Django's SQLite backend, with the database's files private to the server's user and the
writers of one process queued in line.

Private files: they hold session keys (whoever copies them is logged in as anyone) and the
encrypted secrets. SQLite creates the -wal and -shm files with the main file's mode, and the
main file with the process's umask (world-readable under the usual 022). So the main file is
created here, 0600, before SQLite first opens it (a fresh database made by migrate included);
files made before, by an older release or the sqlite3 shell, are tightened at each new
connection.

Writers in line: SQLite lets one transaction write at a time. A writer that finds the lock
taken waits in SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 … 100 ms) and
retries: with the dozens of threads a gunicorn worker runs, a delivery could sleep through many
other writers' turns and wait far longer than the lock was ever held. So the threads of a
process queue on a Python lock, taken before BEGIN IMMEDIATE and released at COMMIT or
ROLLBACK (or around a single writing statement in autocommit: `writer_turn`), and get the
database's lock as soon as the writer before them lets go; only one thread per process is ever
in SQLite's busy handler, waiting on the other processes.
"""

import contextlib
import os
import threading
from pathlib import Path

from django.db import OperationalError
from django.db.backends.sqlite3 import base

SIDECARS = ("-wal", "-shm", "-journal")
PRIVATE = 0o600


def database_files(name) -> list[Path]:
    """The database file and the ones beside it that SQLite made, as far as they exist."""
    path = Path(name)
    return [p for p in (path, *(Path(f"{path}{s}") for s in SIDECARS)) if p.exists()]


def make_private(name) -> None:
    """Create the database file 0600 if it is missing (not its directory: a missing one stays
    SQLite's error), and take group and other access from the files that exist. Files this
    user does not own are left as they are; `check` warns about them (ds24site.W002).

    An existing file is never opened here: closing any descriptor of a file drops every POSIX
    lock this process holds on it, SQLite's included ("How To Corrupt An SQLite Database",
    2.2), so O_EXCL, and chmod for the rest."""
    try:
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    except FileExistsError:
        pass
    except FileNotFoundError:
        return
    for path in database_files(name):
        if path.stat().st_mode & 0o077:
            with contextlib.suppress(PermissionError):  # another user's: check warns
                path.chmod(PRIVATE)


_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


def _writer_lock(name: str) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_lock = False

    def get_new_connection(self, conn_params):
        if not self.is_in_memory_db():
            make_private(conn_params["database"])
        return super().get_new_connection(conn_params)

    def _acquire_writer_lock(self) -> threading.Lock:
        lock = _writer_lock(str(self.settings_dict["NAME"]))
        timeout = self.settings_dict.get("OPTIONS", {}).get("timeout", 5)
        if not lock.acquire(timeout=timeout):
            raise OperationalError("database is locked (this process's other writers)")
        return lock

    def _start_transaction_under_autocommit(self):
        self._acquire_writer_lock()
        self._holds_writer_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    @contextlib.contextmanager
    def writer_turn(self):
        """The line for one writing statement outside a transaction (the receiver's store,
        which is one statement in autocommit): it waits on the same lock as transactions do,
        not in the busy handler. Inside a transaction the lock is held already."""
        if self._holds_writer_lock:
            yield
            return
        lock = self._acquire_writer_lock()
        try:
            yield
        finally:
            lock.release()

    def _release_writer_lock(self):
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            _writer_lock(str(self.settings_dict["NAME"])).release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
