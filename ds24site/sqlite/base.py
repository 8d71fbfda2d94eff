"""Django's SQLite backend, except that the database file and the files SQLite keeps beside it
are readable by the server's user alone: they hold session keys (whoever copies them is logged
in as anyone) and the encrypted secrets.

SQLite creates the -wal and -shm files with the main file's mode, and the main file with the
process's umask (world-readable under the usual 022). So the main file is created here, 0600,
before SQLite first opens it (a fresh database made by migrate included); files made before,
by an older release or the sqlite3 shell, are tightened at each new connection.
"""

import contextlib
import os
from pathlib import Path

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


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        if not self.is_in_memory_db():
            make_private(conn_params["database"])
        return super().get_new_connection(conn_params)
