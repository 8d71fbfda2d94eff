"""Throttle counts are shared by every process of the site: the default cache is a table in the
database (on SQLite and PostgreSQL alike), which `migrate` creates."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection

from api.models import ApiToken

ROOT = Path(__file__).resolve().parents[2]
CACHE_TABLE = "ds24site_cache"  # the default CACHE_URL's

# Two API requests with the token, as one worker process would serve them.
TWO_REQUESTS = """
import os
from django.test import Client
token = os.environ["TOKEN"]
get = lambda: Client().get("/api/v1/events/", HTTP_AUTHORIZATION=f"Bearer {token}")
print(get().status_code, get().status_code)
"""


def database_url() -> str:
    """The test database, for processes of their own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def manage(transactional_db):
    """manage.py in a process of its own, on the test database, with the site's defaults (its
    cache among them) but for a throttle rate of 3 requests a minute."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "FIELD_ENCRYPTION_KEY": os.environ["FIELD_ENCRYPTION_KEY"],
        "DATABASE_URL": database_url(),
        "ALLOWED_HOSTS": "testserver",
        "API_THROTTLE_RATE": "3/min",
    }

    def run(*args, **extra_env):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    yield run
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CACHE_TABLE}")  # the suite's caches are locmem


def test_two_processes_share_the_api_throttle_count(manage):
    assert CACHE_TABLE not in connection.introspection.table_names()
    manage("migrate", "--noinput")  # nothing to migrate here, but it makes the cache table
    assert CACHE_TABLE in connection.introspection.table_names()

    token = ApiToken(user=User.objects.create_superuser("sync", password=None), name="sync")
    secret = token.issue()
    token.save()
    assert manage("shell", "--no-imports", "-c", TWO_REQUESTS, TOKEN=secret) == "200 200"
    # Another process: its first request is the token's third this minute, its second is over.
    assert manage("shell", "--no-imports", "-c", TWO_REQUESTS, TOKEN=secret) == "200 429"
