"""A pytest plugin (loaded with -p, before Django reads its settings) that pins the environment
the suite runs in, so a developer's .env cannot change what the tests see.

DATABASE_URL is the one variable taken from outside: `make test` runs on SQLite without it and
on PostgreSQL with it.

Once settings are read, the suite hashes passwords with a fast hasher (`_fast_password_hasher`).
"""

import os
from pathlib import Path

import pytest

os.environ["DJANGO_READ_DOT_ENV_FILE"] = "false"
os.environ["DJANGO_SETTINGS_MODULE"] = "ds24site.settings"
os.environ["SECRET_KEY"] = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
# Two fixed keys: tests of rotation need an older key that still decrypts.
os.environ["FIELD_ENCRYPTION_KEY"] = (
    "dGVzdC1rZXktbmV3ZXN0LTAxMjM0NTY3ODlhYmNkZWY=,dGVzdC1rZXktb2xkZXItLTAxMjM0NTY3ODlhYmNkZWY="
)
os.environ["SITE_URL"] = "https://ds24.example.com"
os.environ["ALLOWED_HOSTS"] = "ds24.example.com,testserver,localhost,127.0.0.1"
os.environ["DEBUG"] = "false"
# Manifest storage needs collectstatic; tests render admin pages without it.
os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
# Plain-http test requests; tests of the redirect turn it on.
os.environ["SECURE_SSL_REDIRECT"] = "false"
# Throttle counts in this process's memory: clearing them between tests (conftest._fresh_cache)
# then needs no database. tests/ds24site/test_shared_cache.py runs the site's default, the
# database cache, across processes.
os.environ["CACHE_URL"] = "locmemcache://"
for name in ("TRUSTED_PROXIES", "IPN_MAX_BODY_BYTES", "DS24_IPN_ALLOW_LOCAL_URLS"):
    os.environ.pop(name, None)

# Whitenoise warns about a missing STATIC_ROOT on every request otherwise.
(Path(__file__).resolve().parent.parent / "var" / "static").mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    """PBKDF2 at Django's default iterations takes about half a second per password, and the
    suite creates many users that need none of its strength. override_settings (rather than an
    assignment) clears Django's cached hasher list. tests/ds24site/test_password_hashing.py
    checks what production uses."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
