import io
import re
import time
from urllib.parse import urlencode

import hypothesis
import pytest
from django.db import connection
from django.test import Client

from webhooks import signing
from webhooks.services import webhook_create

PASSPHRASE = "s3cret-passphrase"

# The property tests (tests/properties/) run under this profile: the same examples on every run,
# so that CI cannot pass by luck and a failure reproduces, and few enough to stay fast. Each test
# applies it itself, so hypothesis tests elsewhere keep their own settings.
PROPERTIES = "properties"
hypothesis.settings.register_profile(
    PROPERTIES, derandomize=True, max_examples=200, deadline=None, database=None
)
FORM = "application/x-www-form-urlencoded"


def on_payment(**overrides) -> dict[str, str]:
    """A small but realistic on_payment (field names per shared/digistore24.md §3)."""
    params = {
        "event": "on_payment",
        "api_mode": "live",
        "order_id": "ABC123XY",
        "order_item_id": "1",
        "transaction_id": "987654",
        "product_id": "12345",
        "product_name": "Online-Kurs Jörg",
        "amount_brutto": "49.00",
        "currency": "EUR",
        "email": "kunde@example.com",
        "billing_type": "single_payment",
        "pay_sequence_no": "0",
        "address_city": "",
        "placeholder_TITLE": "Mr",
    }
    params.update(overrides)
    return params


# Other scripts' decimal digits, which Python's int() and Decimal() read as numbers.
ARABIC_INDIC, FULLWIDTH = 0x0660, 0xFF10


def in_digits(text: str, zero: int) -> str:
    """`text` with its ASCII digits in another script: in_digits("49.00", ARABIC_INDIC)."""
    return text.translate({ord("0") + n: zero + n for n in range(10)})


def run_command(name: str, *args: str) -> tuple[int, str, str]:
    """Run a management command as `manage.py NAME ARGS` would, through Django's own command
    lookup; returns (exit code, stdout, stderr). It closes the database connections at the
    end, as manage.py does, so tests using it need a transactional database."""
    from django.core.management import get_commands, load_command_class

    command_class = type(load_command_class(get_commands()[name], name))
    out, err = io.StringIO(), io.StringIO()
    try:
        command_class(stdout=out, stderr=err).run_from_argv(["manage.py", name, *args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def migrate_to(targets: list[tuple[str, str]]):
    """Migrate the test database to `targets` (app, migration) and return the historical apps
    of that state, for tests of a migration's data step."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def signed(params: dict[str, str], passphrase: str = PASSPHRASE) -> dict[str, str]:
    return {**params, "sha_sign": signing.signature(params.items(), passphrase)}


@pytest.fixture
def webhook(db):
    return webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)


def follow_up() -> int:
    """Put every received IPN into the event log, with its follow-up, as a task worker does
    within a second of the receiver's OK; returns how many IPNs it took."""
    from webhooks.services import events_follow_up

    taken = 0
    while batch := events_follow_up():
        taken += batch
    return taken


def wsgi_environ(path, body=b"", *, method="POST", content_type=FORM, **extra) -> dict:
    """A WSGI environ as gunicorn hands the application a request to `path` on testserver."""
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **extra,
    }


def wait_for(condition, what: str, timeout: float = 60):
    """Poll until `condition()` holds; fail (not assert a duration) if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    pytest.fail(f"gave up waiting for {what}")


def keep_ipn(webhook, params, *, signature="verified", sender_ip=None, received=None) -> None:
    """Keep `params` as the receiver keeps a delivery it verified (webhooks.services.ipn_store,
    the form as Digistore24 encodes it); in the event log after follow_up()."""
    from webhooks.services import ipn_store

    body = urlencode(params).encode()
    ipn_store(
        webhook=webhook, body=body, signature=signature, sender_ip=sender_ip, received=received
    )


def event_of(webhook, params):
    """The webhook's event of these parameters (found by their payload hash), or None."""
    from webhooks.ipn import payload_hash
    from webhooks.models import Event

    return Event.objects.filter(
        webhook=webhook, payload_hash=payload_hash(list(params.items()))
    ).first()


class FollowingClient(Client):
    """Django's test client, which after a request to a receive URL lets a worker's follow-up
    run (follow_up), as `serve` does within a second: what the receiver kept is then in the
    event log. `follow = False` leaves it to the test (to look at what the receiver alone did)."""

    follow = True

    def request(self, **request):
        response = super().request(**request)
        # Only an OK can have kept something (and a broken database can take nothing).
        if (
            self.follow
            and response.status_code == 200
            and RECEIVE_URL.match(request.get("PATH_INFO", ""))
        ):
            follow_up()
        return response


RECEIVE_URL = re.compile(r"/ipn/")


@pytest.fixture
def client():
    return FollowingClient()


@pytest.fixture
def post_ipn(client):
    """POST form-encoded params to a webhook's receive URL through the test client, which
    then lets a worker's follow-up run (FollowingClient); `follow=False` leaves it to the
    test."""

    def post(webhook, params, *, follow=True, **extra):
        path = webhook.get_receive_url().removeprefix("https://ds24.example.com")
        client.follow = follow
        try:
            return client.post(path, data=urlencode(params), content_type=FORM, **extra)
        finally:
            client.follow = True

    return post


@pytest.fixture
def broken_database():
    """Point the default connection at a database that cannot be opened, for as long as the
    test runs: a real connection failure, not a mocked one."""

    def break_it():
        connection.close()
        if connection.vendor == "sqlite":
            connection.settings_dict["NAME"] = "/nonexistent-dir/db.sqlite3"
        else:
            connection.settings_dict["HOST"] = "127.0.0.1"
            connection.settings_dict["PORT"] = "1"

    saved = dict(connection.settings_dict)
    yield break_it
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.fixture
def lock_database(settings):
    """Call it to have another connection hold the database's write lock for the rest of the
    test, as a long transaction elsewhere would: SQLite's BEGIN EXCLUSIVE (readers carry on, in
    WAL mode), or on PostgreSQL every table locked IN EXCLUSIVE MODE (the same: reads pass,
    writes wait). This connection then waits 0.2 s for a lock instead of DB_BUSY_TIMEOUT.
    Needs a transactional test database: a test transaction of its own would hold locks that
    the other connection waits for."""
    held = []

    def lock():
        settings.DB_BUSY_TIMEOUT = 0.2
        connection.ensure_connection()
        other = connection.get_new_connection(connection.get_connection_params())
        if connection.vendor == "sqlite":
            other.isolation_level = None  # autocommit, so that BEGIN is ours
            other.execute("BEGIN EXCLUSIVE")
            busy_ms = round(connection.settings_dict["OPTIONS"]["timeout"] * 1000)
            wait, restore = "PRAGMA busy_timeout = 200", f"PRAGMA busy_timeout = {busy_ms}"
        else:
            tables = connection.introspection.table_names()
            quoted = ", ".join(map(connection.ops.quote_name, tables))
            other.execute(f"LOCK TABLE {quoted} IN EXCLUSIVE MODE")  # psycopg: in a transaction
            wait = "SET statement_timeout = 200; SET lock_timeout = 200"
            restore = "RESET statement_timeout; RESET lock_timeout"
        with connection.cursor() as cursor:
            cursor.execute(wait)
        held.append((other, restore))

    yield lock
    for other, restore in held:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute(restore)


@pytest.fixture
def staff_client(client, db):
    """A logged-in staff user with every webhooks permission (not a superuser)."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("staff", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="webhooks"))
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(client, db):
    """A logged-in staff user who may only view webhooks, events and rejected deliveries."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("viewer", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="webhooks", codename__startswith="view")
    )
    client.force_login(user)
    return client


@pytest.fixture(scope="session")
def ds24_server():
    from ds24standin.server import StandIn

    standin = StandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def ds24(ds24_server, settings):
    """The Digistore24 stand-in, reset, with DS24_API_URL pointing at it and retries fast."""
    ds24_server.reset()
    settings.DS24_API_URL = ds24_server.api_url
    settings.DS24_API_BACKOFF = 0.01
    return ds24_server


@pytest.fixture(params=["envelope", "status"])
def ds24_errors(request, ds24):
    """The stand-in answering errors each way Digistore24 does: in the envelope of an HTTP 200
    answer (as its own connector reads them), and with the documented 4xx statuses."""
    ds24.errors = request.param
    yield request.param
    ds24.errors = "envelope"


READ_ONLY_KEY = "1001-ReadOnlyDemoKey0000000000000000000000000"
FULL_KEY = "1002-FullAccessDemoKey000000000000000000000000"
DEVELOPER_KEY = "1003-DeveloperDemoKey0000000000000000000000000"


@pytest.fixture
def api_user(db):
    """A (non-staff) user allowed to view everything the API shows."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("crm-sync", password="pw-for-tests")
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def api_token(api_user):
    """(ApiToken, secret) for api_user, read-only."""
    from api.models import ApiToken

    token = ApiToken(user=api_user, name="tests")
    secret = token.issue()
    token.save()
    return token, secret


@pytest.fixture
def api_get(client, api_token):
    """GET an API path with the bearer token; returns the response."""

    def get(path, params=None, **extra):
        extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {api_token[1]}")
        return client.get(path, params or {}, **extra)

    return get


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; no test inherits another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_health_report():
    """/healthz reuses its report for a while; no test inherits another's."""
    from ds24site import health

    health.recent_report.clear()


def run_tasks() -> int:
    """Put every received IPN into the event log (follow_up), then run every queued task that
    is due, in this process and the test's transaction, as a worker would (tasks queued for
    later stay queued); returns how many tasks ran. The worker's own loops close connections
    between tasks, which a test transaction cannot survive."""
    from django.db import transaction
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    follow_up()

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        with transaction.atomic():
            result = DBTaskResult.objects.ready().get_locked()
            if result is None:
                return ran
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
