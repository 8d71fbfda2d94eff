"""The ingestion benchmark's baseline: the irreducible work of an IPN receiver and nothing
else, as a bare WSGI app, served by the same gunicorn config as the app
(`gunicorn bench.baseline_app:application -c gunicorn.conf.py`).

It parses the form, verifies sha_sign with Digistore24's algorithm written out bare (the keys
as sent, sorted by their bytes, empty values skipped; webhooks.signing also accepts the
upper-cased-key and HTML-decoded variants, which this does not compute), stores the body with
one durable statement (an upsert: an exact redelivery is counted on the first row, not stored
again) and answers OK. SQLite in WAL mode with synchronous=FULL; PostgreSQL with
synchronous_commit as the server has it (on by default), in autocommit: OK means committed.

Environment: BASELINE_DATABASE (sqlite:////path or postgres://…), BASELINE_PASSPHRASE.
"""

import hashlib
import hmac
import os
import sqlite3
import threading
from urllib.parse import parse_qsl

TABLE = (
    "CREATE TABLE IF NOT EXISTS baseline_ipn (payload_hash CHAR(64) PRIMARY KEY,"
    " body TEXT NOT NULL, delivery_count INTEGER NOT NULL DEFAULT 1)"
)
UPSERT = (
    "INSERT INTO baseline_ipn (payload_hash, body) VALUES ({0}, {0}) ON CONFLICT (payload_hash)"
    " DO UPDATE SET delivery_count = baseline_ipn.delivery_count + 1"
)
_local = threading.local()  # a connection per thread, whatever the gunicorn worker class


def connect(url: str):
    """A connection and the upsert in its placeholder style."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(
            url.removeprefix("sqlite:///"), isolation_level=None, timeout=5
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return connection, UPSERT.format("?")
    import psycopg

    return psycopg.connect(url, autocommit=True), UPSERT.format("%s")


def signature(pairs: list[tuple[str, str]], passphrase: str) -> str:
    signed = sorted(
        (key.encode(), key, value) for key, value in pairs if value and key != "sha_sign"
    )
    message = "".join(f"{key}={value}{passphrase}" for _, key, value in signed)
    return hashlib.sha512(message.encode()).hexdigest().upper()


def application(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    expected = signature(pairs, os.environ["BASELINE_PASSPHRASE"])
    if not hmac.compare_digest(dict(pairs).get("sha_sign", "").encode(), expected.encode()):
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"ERROR: invalid sha signature"]
    if not hasattr(_local, "database"):
        _local.database = connect(os.environ["BASELINE_DATABASE"])
    connection, upsert = _local.database
    connection.execute(upsert, (hashlib.sha256(body).hexdigest(), body.decode()))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"OK"]
