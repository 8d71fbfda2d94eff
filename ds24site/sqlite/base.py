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
database's lock as soon as the writer before them lets go.

Between processes the busy handler was still the line: with two gunicorn workers, one
worker's deliveries took the database in turn, back to back, while the other's next one slept
in the handler, and 1 % of deliveries waited 80 ms or more (47 ms with a single worker). So a
single writing statement also takes an exclusive flock on a file beside the database
(`<name>-writers`) once its process's turn has come, and the kernel wakes the waiting process
the moment it is let go. Under bench/ingest's load (wrk, 16 connections; throwaway harness,
15 s runs): 980-1,210 deliveries a second with a p99 of 38-49 ms, against 960-980 and
82-84 ms without it; a lock tried every 0.1-1 ms instead gave 1,040 and 46-50 ms.
Transactions do not take it: one may last as long as its work does. A statement holding the
file lock waits for a transaction in the busy handler, at most the busy timeout, so a writer
waits on the file at most that long for each other process ahead of it.
"""

import contextlib
import fcntl
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


class WriterLine:
    """The line a database's writers wait in, within this process (a thread lock) and, for a
    single statement, between processes (an exclusive flock on `<name>-writers`, held only
    while the thread lock is, so one thread of a process waits for it at a time)."""

    def __init__(self, name: str):
        self.thread_lock = threading.Lock()
        in_memory = name == ":memory:" or name.startswith("file:")
        self.path = None if in_memory else f"{name}-writers"
        self._file: tuple[int, int] | None = None  # (pid, descriptor)
        self._file_locked = False

    def acquire(self, timeout: float, *, between_processes: bool) -> None:
        if not self.thread_lock.acquire(timeout=timeout):
            raise OperationalError("database is locked (this process's other writers)")
        if between_processes and self.path is not None:
            try:
                # Blocking, so that the kernel wakes this process at the release; bounded, as
                # the holders are single statements (the module's docstring).
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
            except BaseException:
                self.thread_lock.release()
                raise
            self._file_locked = True

    def release(self) -> None:
        try:
            if self._file_locked:
                self._file_locked = False
                fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()

    def _descriptor(self) -> int:
        pid = os.getpid()
        if self._file is None or self._file[0] != pid:
            # A flock belongs to the open file: a forked worker sharing its parent's would
            # share the parent's lock, so each process opens the file itself.
            try:
                descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE)
            except OSError as exc:  # as SQLite's own files would fail: a database error
                raise OperationalError(f"cannot open {self.path}: {exc.strerror}") from exc
            self._file = (pid, descriptor)
        return self._file[1]


_lines: dict[str, WriterLine] = {}
_lines_lock = threading.Lock()
# A forked child starts with lines of its own: a lock another thread of the parent held at
# the fork would never be released in the child.
os.register_at_fork(after_in_child=_lines.clear)


def writer_line(name: str) -> WriterLine:
    with _lines_lock:
        if name not in _lines:
            _lines[name] = WriterLine(name)
        return _lines[name]


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_lock = False

    def get_new_connection(self, conn_params):
        if not self.is_in_memory_db():
            make_private(conn_params["database"])
        return super().get_new_connection(conn_params)

    def _acquire_writer_lock(self, *, between_processes: bool = False) -> WriterLine:
        line = writer_line(str(self.settings_dict["NAME"]))
        timeout = self.settings_dict.get("OPTIONS", {}).get("timeout", 5)
        line.acquire(timeout, between_processes=between_processes)
        return line

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
        and then for the other processes' statements, not in the busy handler. Inside a
        transaction the lock is held already."""
        if self._holds_writer_lock:
            yield
            return
        lock = self._acquire_writer_lock(between_processes=True)
        try:
            yield
        finally:
            lock.release()

    def _release_writer_lock(self):
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            writer_line(str(self.settings_dict["NAME"])).release()

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
