"""Plain SQL on the benchmark's databases, from outside the app (no Django in this process):
the checks read the tables the app and the baseline wrote, and PostgreSQL scratch databases
are made and dropped here."""

import contextlib
import sqlite3
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

SQLITE_PREFIX = "sqlite:///"


def is_sqlite(url: str) -> bool:
    return url.startswith(SQLITE_PREFIX)


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of one query; `%s` placeholders on both databases."""
    if is_sqlite(url):
        with contextlib.closing(sqlite3.connect(url.removeprefix(SQLITE_PREFIX))) as connection:
            return connection.execute(sql.replace("%s", "?"), params).fetchall()
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute(sql, params).fetchall()


def timestamp(value) -> datetime:
    """A stored date-time as an aware datetime: Django keeps them on SQLite as UTC text."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _maintenance(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def postgres_available(url: str) -> str | None:
    """None when the server of `url` answers, else why not."""
    import psycopg

    try:
        psycopg.connect(_maintenance(url), connect_timeout=5).close()
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable ({str(exc).strip().splitlines()[0]})"
    return None


@contextlib.contextmanager
def scratch_postgres(url: str):
    """The database of `url`, created empty (dropped first if a crashed run left it) and dropped
    afterwards."""
    import psycopg
    from psycopg import sql

    name = sql.Identifier(urlsplit(url).path.lstrip("/"))
    with psycopg.connect(_maintenance(url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield url
    finally:
        with psycopg.connect(_maintenance(url), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
