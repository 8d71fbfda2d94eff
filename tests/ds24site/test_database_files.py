"""The SQLite database holds session keys and encrypted secrets: its file and the -wal and -shm
files beside it (which SQLite creates with the main file's mode) are the server user's alone,
however permissive the umask, and files made before are tightened at the next connection."""

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import load_backend

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's files")

ROOT = Path(__file__).resolve().parents[2]
SIDECARS = ("-wal", "-shm")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def scratch_connection(path: Path):
    """A connection through the project's own backend (settings' ENGINE) to another file."""
    backend = load_backend(connection.settings_dict["ENGINE"])
    return backend.DatabaseWrapper({**connection.settings_dict, "NAME": str(path)}, "scratch")


def test_a_fresh_database_made_by_migrate_is_private_with_its_wal_and_shm(
    tmp_path, django_db_blocker
):
    database = tmp_path / "db.sqlite3"
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktbmV3ZXN0LTAxMjM0NTY3ODlhYmNkZWY=",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=env, umask=0o022, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert mode(database) == 0o600

    scratch = scratch_connection(database)
    with django_db_blocker.unblock(), scratch.cursor() as cursor:
        # A write, and the connection kept open: SQLite makes -wal and -shm.
        cursor.execute("UPDATE ds24site_healthprobe SET written = CURRENT_TIMESTAMP")
    try:
        assert {suffix: mode(Path(f"{database}{suffix}")) for suffix in SIDECARS} == {
            "-wal": 0o600,
            "-shm": 0o600,
        }
    finally:
        scratch.close()


def test_files_made_before_are_made_private_at_the_next_connection(tmp_path, django_db_blocker):
    database = tmp_path / "old.sqlite3"
    old_umask = os.umask(0o022)
    try:  # as an older release (or the sqlite3 shell) left them: world-readable
        elsewhere = sqlite3.connect(database)
        elsewhere.execute("PRAGMA journal_mode=WAL")
        elsewhere.execute("CREATE TABLE t (x)")
        elsewhere.commit()
    finally:
        os.umask(old_umask)
    assert mode(database) == 0o644 and mode(Path(f"{database}-wal")) == 0o644

    scratch = scratch_connection(database)
    with django_db_blocker.unblock():
        scratch.ensure_connection()
    try:
        assert [mode(Path(f"{database}{suffix}")) for suffix in ("", *SIDECARS)] == [0o600] * 3
    finally:
        scratch.close()
        elsewhere.close()


@pytest.mark.django_db
def test_check_warns_about_database_files_others_can_read():
    from ds24site.checks import check_sqlite_files

    database = Path(connection.settings_dict["NAME"])  # the test database's file
    assert check_sqlite_files(None) == []
    database.chmod(0o644)  # as if another user owned it, so the server could not fix it
    try:
        assert [w.id for w in check_sqlite_files(None)] == ["ds24site.W002"]
    finally:
        database.chmod(0o600)
