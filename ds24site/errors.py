"""Database trouble is no bug: a lock held past the busy timeout, a server that is down or
restarting. Whatever page meets it answers 503 "temporarily unavailable" with Retry-After, not
a 500; the API in JSON, as it promises (api.exceptions for its views, `server_error` for the
rest)."""

import sys

from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER = 10  # seconds: a lock or a restart is usually over by then
DATABASE_UNAVAILABLE = "Database temporarily unavailable; try again."


def unavailable_json(response_class=JsonResponse):
    """The API's answer to database trouble: {"message", "detail"} like its other errors."""
    response = response_class(
        {"message": DATABASE_UNAVAILABLE, "detail": DATABASE_UNAVAILABLE}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def server_error(request):
    """handler500, which Django calls for any exception a view or a middleware left unhandled
    (a middleware's process_exception would see the views' only, not a session save's), after
    logging it with its traceback (django.request). Database trouble becomes a 503; the page
    is a plain template, since anything richer (the admin's, with the user) would ask the
    database again."""
    if not isinstance(sys.exception(), DatabaseError):
        return defaults.server_error(request)
    if request.path_info.startswith("/api/"):
        return unavailable_json()
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response
