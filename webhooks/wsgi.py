"""Receive URLs' way in: Digistore24's deliveries go straight to the IPN receiver
(webhooks.views.receive), ahead of Django's request handling (ds24site/wsgi.py).

Everything between the server and the view (request signals, a dozen middleware, the URL
resolver, the response machinery) does nothing for a server-to-server post without cookies,
and together cost more than the delivery's own work: over a third of the receiver's CPU
time per IPN (py-spy --gil, docs/benchmarks.md). What of it still applies is done here: the
database connection's reuse rules (as at the start of every request), the client address
behind trusted proxies, the ALLOWED_HOSTS check, and Django's handling of an exception the
view lets through (logged, answered by handler500). A plain-http delivery where HTTPS is
enforced (SECURE_SSL_REDIRECT) goes the usual way, to its redirect. The answer is text for a
server, so the middleware's headers for browsers (CSP, frame options) are left off.

The view is the one implementation of the receiver's contract, the same view that the URL
conf routes to (and the test client reaches); only this door differs.
"""

import re

from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.utils.log import log_response

from ds24site.middleware import believe_trusted_proxies
from webhooks import views
from webhooks.urls import RECEIVE_PATH

# Where ds24site/urls.py mounts webhooks.urls: at the root. Any other path, including one
# under another mount point, goes the usual way and still reaches the view.
_RECEIVE = re.compile(f"/{RECEIVE_PATH}")


def receiver_first(application):
    """`application` (Django's), with receive URLs answered by the receiver directly."""

    def dispatch(environ, start_response):
        match = _RECEIVE.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return application(environ, start_response)
        believe_trusted_proxies(environ)
        if settings.SECURE_SSL_REDIRECT and environ.get("wsgi.url_scheme") != "https":
            return application(environ, start_response)  # SecurityMiddleware's redirect
        response = _receive(environ, match["token"])
        content = response.content
        # Set by CommonMiddleware on the usual way; without it a keep-alive answer is chunked.
        response.headers.setdefault("Content-Length", str(len(content)))
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [content]

    return dispatch


def _receive(environ, token: str):
    # What request_started does for the receiver's one database: drop a connection that
    # failed or outlived CONN_MAX_AGE, and health-check it again before its next use.
    connection.close_if_unusable_or_obsolete()
    request = WSGIRequest(environ)
    try:
        request.get_host()  # DisallowedHost: 400, as CommonMiddleware would answer
        response = views.receive(request, token)
    except Exception as exc:
        return response_for_exception(request, exc)  # logged there
    if response.status_code >= 400:  # logged as Django's handler logs them (django.request)
        log_response(
            "%s: %s", response.reason_phrase, request.path, response=response, request=request
        )
    return response
