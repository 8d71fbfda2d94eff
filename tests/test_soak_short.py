"""The short soak pass (bench/soak/, profile `short`): 600 IPNs at 8 connections against
`manage.py serve` while a gunicorn worker is SIGKILLed, slow clients and a login flood hold
connections and the database is held locked past its busy timeout; every check of the full
`make soak` must hold. On PostgreSQL (the suite's DATABASE_URL pass) it runs in a scratch
database next to the suite's, without restarting the server, which others may share."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def scratch_database() -> str:
    """`sqlite`, or a database named after the suite's own with `_soak` appended."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "sqlite"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_soak"))


def test_short_soak_pass():
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--short", "--database", scratch_database()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    assert "soak passed" in done.stdout
