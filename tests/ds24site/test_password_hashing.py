"""The suite hashes passwords with a fast hasher (tests/environment.py); the site must not."""

import os

from django.conf import Settings
from django.contrib.auth.hashers import (
    PBKDF2PasswordHasher,
    check_password,
    identify_hasher,
    make_password,
)
from django.test import override_settings


def production_hashers() -> list[str]:
    """PASSWORD_HASHERS as the settings module gives it to a server, without the suite's
    override: Django's defaults, then whatever the module sets. (Read afresh: under an override
    the live settings no longer name their module.)"""
    return Settings(os.environ["DJANGO_SETTINGS_MODULE"]).PASSWORD_HASHERS


def test_the_site_hashes_with_pbkdf2_at_djangos_iterations():
    with override_settings(PASSWORD_HASHERS=production_hashers()):
        encoded = make_password("correct horse battery staple")
        hasher = identify_hasher(encoded)
        assert hasher.algorithm == "pbkdf2_sha256"
        assert hasher.decode(encoded)["iterations"] == PBKDF2PasswordHasher.iterations
        assert check_password("correct horse battery staple", encoded)


def test_the_suite_hashes_with_the_fast_hasher():
    assert identify_hasher(make_password("pw-for-tests")).algorithm == "md5"
