"""Receive URLs' tokens kept out of every log line.

A receive URL (`/ipn/<token>/`, webhooks/urls.py) is its webhook's credential, and for an
unsigned webhook the only one. Logs travel further than the database (terminals, log shippers,
support tickets, admins' mail), so wherever a line may carry a path the token is cut to its
first four characters: enough to tell webhooks apart, useless for posting to one.

Used by the Django logging configuration (settings.LOGGING: the console handler and the admins'
error mails) and by gunicorn's access and error logs (ds24site.server.RedactingLogger).
"""

import logging
import re

from django.views.debug import ExceptionReporter

# A receive URL's path as webhooks/urls.py routes it (tests/ds24site/test_redaction.py checks
# this against reverse()), wherever it appears: a path, a full URL, a request line.
RECEIVE_PATH = re.compile(r"(/ipn/)([A-Za-z0-9_-]+)")
KEPT = 4


def _cut(match: re.Match) -> str:
    token = match[2]
    return match[1] + (token if len(token) <= KEPT else token[:KEPT] + "…")


def redact(text: str) -> str:
    """`text` with every receive URL's token cut to its first characters."""
    return RECEIVE_PATH.sub(_cut, text)


class RedactReceiveTokens(logging.Filter):
    """Rewrites a record's message (and traceback) with receive URLs' tokens cut.

    Attached to handlers and to gunicorn's own loggers, so it sees every record whichever
    logger made it; it changes the record itself, so handlers after it see the redacted text.
    """

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:
            return True  # the handler reports the malformed record as usual
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters format a traceback once and keep it here; an exception's message
            # may quote a URL too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RedactingExceptionReporter(ExceptionReporter):
    """The report Django mails to ADMINS on a 500 ("Request URL", META's PATH_INFO and
    RAW_URI, the traceback), with receive URLs' tokens cut."""

    def get_traceback_text(self):
        return redact(super().get_traceback_text())

    def get_traceback_html(self):
        return redact(super().get_traceback_html())
