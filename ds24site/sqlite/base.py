"""Django's SQLite backend, with the writers of one process queued in line.

SQLite lets one transaction write at a time. A writer that finds the lock taken waits in
SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 … 100 ms) and retries: with
the dozens of threads a gunicorn worker runs, a delivery could sleep through many other
writers' turns and wait far longer than the lock was ever held. So the threads of a process
queue on a Python lock, taken before BEGIN IMMEDIATE and released at COMMIT or ROLLBACK, and
get the database's lock as soon as the writer before them lets go; only one thread per process
is ever in SQLite's busy handler, waiting on the other processes.
"""

import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


def _writer_lock(name: str) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_lock = False

    def _start_transaction_under_autocommit(self):
        lock = _writer_lock(str(self.settings_dict["NAME"]))
        timeout = self.settings_dict.get("OPTIONS", {}).get("timeout", 5)
        if not lock.acquire(timeout=timeout):
            raise OperationalError("database is locked (this process's other writers)")
        self._holds_writer_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

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
