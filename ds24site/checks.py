"""Cross-setting rules, as system checks (`manage.py check`, and before every migrate)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection
from django.http.request import validate_host

from ds24site import crypto, health
from ds24site.middleware import parse_networks
from ds24site.models import HealthProbe
from ds24site.sqlite.base import database_files


@register(Tags.security)
def check_field_encryption_key(app_configs, **kwargs):
    try:
        crypto.fernet()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="ds24site.E001")]
    return []


@register()
def check_site_url(app_configs, **kwargs):
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Error(
                f"SITE_URL must be an absolute http(s) URL, not {settings.SITE_URL!r}",
                hint="It builds the receive URLs you paste into Digistore24.",
                id="ds24site.E002",
            )
        ]
    problems = []
    if parts.path not in ("", "/"):
        problems.append(
            Error("SITE_URL must not have a path; serve the app at the root", id="ds24site.E003")
        )
    if not validate_host(parts.hostname, settings.ALLOWED_HOSTS):
        problems.append(
            Warning(
                f"SITE_URL's host {parts.hostname!r} is not in ALLOWED_HOSTS, so Digistore24's "
                "deliveries to the receive URLs would be refused",
                id="ds24site.W001",
            )
        )
    return problems


@register()
def check_trusted_proxies(app_configs, **kwargs):
    try:
        parse_networks(settings.TRUSTED_PROXIES)
    except ValueError as exc:
        return [Error(f"TRUSTED_PROXIES: {exc}", id="ds24site.E004")]
    return []


@register(Tags.security)
def check_sqlite_files(app_configs, **kwargs):
    """The server makes its SQLite files private when it connects (ds24site/sqlite/base.py),
    but cannot for files another user owns."""
    warnings = []
    for database in settings.DATABASES.values():
        if database["ENGINE"] != "ds24site.sqlite" or "memory" in str(database["NAME"]):
            continue
        for path in database_files(database["NAME"]):
            if path.stat().st_mode & 0o077:
                warnings.append(
                    Warning(
                        f"{path} is open to other users; it holds session keys and secrets",
                        hint=f"chmod 600 {path} (as its owner), and chmod 700 its directory.",
                        id="ds24site.W002",
                    )
                )
    return warnings


# The check's id and hint for each of ds24site.health's database problems.
DATABASE_PROBLEMS = {
    health.UNREACHABLE: ("ds24site.E005", None),
    health.NO_WRITE: (
        "ds24site.E006",
        "Locked (SQLite: past DB_BUSY_TIMEOUT), read-only or full; the log has the database's "
        "own message.",
    ),
    health.DISK_FULL: ("ds24site.E007", "Less than DB_MIN_FREE_MB free on the SQLite file's disk."),
}


@register(Tags.database, Tags.security)
def check_database_and_secrets(app_configs, databases=None, **kwargs):
    """What /healthz proves (ds24site.health), with the details: the database takes a write,
    its disk has room, and FIELD_ENCRYPTION_KEY decrypts a stored secret of each kind.

    Unlike Django's own database checks this runs on a plain `check` too (and so before the
    commands that run checks), because `check` is where an operator asks whether all is well.
    Tables that do not exist yet (a fresh database, before migrate) are skipped."""
    if databases is not None and DEFAULT_DB_ALIAS not in databases:
        return []
    try:
        tables = set(connection.introspection.table_names())
    except DatabaseError as exc:
        return [Error(f"{health.UNREACHABLE}: {exc}", id="ds24site.E005")]
    problems = health.database_problems(with_probe_table=HealthProbe._meta.db_table in tables)
    errors = [
        Error(problem, hint=DATABASE_PROBLEMS[problem][1], id=DATABASE_PROBLEMS[problem][0])
        for problem in problems
    ]
    if health.UNREACHABLE in problems:
        return errors
    try:
        crypto.fernet()
    except ImproperlyConfigured:
        return errors  # ds24site.E001 says why
    if unreadable := health.undecryptable(tables):
        errors.append(
            Error(
                f"{health.KEY_WRONG}: {', '.join(unreadable)}",
                hint="FIELD_ENCRYPTION_KEY lacks the key they were encrypted with; put it back "
                "(after the new one), then run `manage.py rotatekeys`.",
                id="ds24site.E008",
            )
        )
    return errors
