"""Cross-setting rules, as system checks (`manage.py check`, and before every migrate)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.http.request import validate_host

from ds24site import crypto
from ds24site.middleware import parse_networks


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
