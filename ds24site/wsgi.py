import codecs
import contextlib
import functools
import json
import os

from django.core.wsgi import get_wsgi_application
from django.utils.http import parse_header_parameters

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ds24site.settings")


# Form data and JSON as clients send them, and bytes no text encoding has for every value.
_SAMPLES = (b"a=1&b=J%C3%B6rg+x", "J\u00f6rg \u20ac".encode(), b'{"a": "\xff\xfe\x80\x00+-"}')


@functools.lru_cache(maxsize=64)
def _unreadable_charset(charset: str) -> bool:
    """Whether Django would read a body in `charset` and fail with an error nothing catches.
    Django takes any charset Python has a codec for (and ignores names it has none for); some
    of those are no text encodings (zlib, base64), others refuse the "replace" error handling
    Django's form parsers ask for (idna), or fail with errors that are not decoding errors,
    which Django and DRF do not catch (punycode, undefined)."""
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    try:
        for sample in _SAMPLES:
            with contextlib.suppress(UnicodeDecodeError):  # caught where bodies are read
                sample.decode(charset)
            sample.decode(charset, "replace")
    except (LookupError, UnicodeError):
        return True
    return False


def content_type_problem(content_type: str) -> tuple[int, str] | None:
    """Why a request with this Content-Type cannot be handed to Django, as (status, message),
    or None."""
    try:
        _media_type, params = parse_header_parameters(content_type)
    except ValueError:  # a malformed RFC 2231 parameter (`charset*=bogus''x`)
        return 400, "malformed Content-Type header"
    if _unreadable_charset(params.get("charset", "utf-8")):
        return 415, "unsupported charset in Content-Type"
    return None


def refuse_unreadable_content_type(app):
    """Django parses Content-Type while building the request, before any middleware, and a
    malformed RFC 2231 parameter raises there; a charset it takes but cannot decode with fails
    wherever a body is read (admin forms, the API's parsers). Either would be a 500: answer
    400 or 415 with a message instead, in JSON on the API as its other errors are."""

    def guarded(environ, start_response):
        problem = content_type_problem(environ.get("CONTENT_TYPE", ""))
        if problem is None:
            return app(environ, start_response)
        status, message = problem
        if environ.get("PATH_INFO", "").startswith("/api/"):
            body = json.dumps({"message": message, "detail": message}).encode()
            content_type = "application/json"
        else:
            body, content_type = f"ERROR: {message}".encode(), "text/plain; charset=utf-8"
        reason = {400: "Bad Request", 415: "Unsupported Media Type"}[status]
        start_response(f"{status} {reason}", [("Content-Type", content_type)])
        return [body]

    return guarded


# Django first (it configures settings and apps), then the receiver's door in front of it.
django_application = get_wsgi_application()

from webhooks.wsgi import receiver_first  # noqa: E402 - needs the apps loaded

application = refuse_unreadable_content_type(receiver_first(django_application))
