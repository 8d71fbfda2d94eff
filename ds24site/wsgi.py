import os

from django.core.wsgi import get_wsgi_application
from django.utils.http import parse_header_parameters

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ds24site.settings")


def reject_unparseable_content_type(app):
    """Django parses Content-Type while building the request, before any middleware, and a
    malformed RFC 2231 parameter (`charset*=bogus''x`) raises there, which would be a 500 on
    every URL. Answer such requests 400 instead."""

    def guarded(environ, start_response):
        try:
            parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        except ValueError:
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ERROR: malformed Content-Type header"]
        return app(environ, start_response)

    return guarded


application = reject_unparseable_content_type(get_wsgi_application())
