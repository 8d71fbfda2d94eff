"""Production settings: `check --deploy` is clean for an https site, and defaults are safe.

Settings are read once per process, so each case runs manage.py in a fresh one."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_ENV = {"PATH": os.environ["PATH"], "DJANGO_READ_DOT_ENV_FILE": "false"}


@pytest.fixture(autouse=True)
def _scratch_database(tmp_path, monkeypatch):
    """`check` writes to the database and decrypts its secrets: a scratch one, never the
    developer's var/db.sqlite3 (whose secrets are under another key)."""
    monkeypatch.setitem(BASE_ENV, "DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "SECRET_KEY": "k" * 10 + "production-secret-key-with-enough-entropy-0123456789",
    "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktbmV3ZXN0LTAxMjM0NTY3ODlhYmNkZWY=",
    "SITE_URL": "https://ds24.example.com",
}


def test_check_deploy_is_clean_for_an_https_site():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_refuse_to_start_without_a_secret_key():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_check_reports_a_missing_encryption_key_and_a_bad_site_url():
    result = manage("check", **{**PRODUCTION, "FIELD_ENCRYPTION_KEY": "", "SITE_URL": "example"})
    assert result.returncode != 0
    assert "ds24site.E001" in result.stderr and "ds24site.E002" in result.stderr


def test_debug_is_off_unless_set():
    code = "from django.conf import settings; print(settings.DEBUG, settings.SECURE_HSTS_SECONDS)"
    result = manage("shell", "--no-imports", "-c", code, **PRODUCTION)
    assert result.stdout.split() == ["False", "31536000"], result.stderr
