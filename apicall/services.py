"""Workflows of the API-call console: running a call against Digistore24, and recording it in
the history."""

import re
import time
from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from apicall import rules
from apicall.models import ApiCall
from connections import client as ds24
from connections.models import Connection
from connections.services import connection_client, connection_learn_access

REDACTED = "[redacted]"
# A name part (split at anything but letters and digits) ending in one of these names a secret:
# X-DS-API-KEY, Authorization, X-Auth-Token, Set-Cookie, sha_passphrase, apikey, ...
SECRET_PART = re.compile(
    r"(key|token|secret|password|passwd|passphrase|cookie|auth|authorization|authentication"
    r"|credentials?)$"
)
# Errors and header values are short by nature; a long one is cut rather than stored whole.
MAX_TEXT = 2000


class Answer(Protocol):
    """What the client's request() returns (connections.client.RawResponse)."""

    status: int
    headers: Mapping[str, str] | Iterable[tuple[str, str]]
    body: bytes | str
    truncated: bool
    duration_ms: int


def is_secret_name(name: str) -> bool:
    return any(SECRET_PART.search(part) for part in re.split(r"[^a-z0-9]+", name.lower()))


def apicall_run(
    *,
    connection: Connection,
    method: str = "POST",
    url: str,
    headers=None,
    query=None,
    body=None,
    confirm_write: bool = False,
    user=None,
    token=None,
) -> ApiCall:
    """Run one console call: the browser form and `POST /api/v1/calls/` both come here.

    Raises rules.CallRefused, before anything is sent, for input the rules refuse (and for a
    write on a key known to be read-only). Otherwise the call is sent as an interactive call
    (one short budget, never retried: a person or a program is waiting), recorded, and returned;
    `error` on the row is Digistore24's error (an error envelope, at any status), a timeout or
    an unreachable server, as one readable sentence.
    """
    spec = rules.call_spec(
        method=method,
        url=url,
        headers=headers,
        query=query,
        body=body,
        confirm_write=confirm_write,
        key_read_only=connection.access == Connection.Access.READ_ONLY,
    )
    _refuse_the_key(spec, connection.api_key)
    started = time.monotonic()
    with connection_client(connection=connection, interactive=True) as api:
        try:
            answer = api.request(
                spec.method,
                spec.function,
                query=spec.query,
                headers=dict(spec.headers),
                body=spec.body,
                max_bytes=settings.APICALL_MAX_RESPONSE_BYTES,
            )
        except ds24.Ds24Error as exc:
            return apicall_record(
                spec=spec, connection=connection, user=user, token=token, error=str(exc),
                duration_ms=(time.monotonic() - started) * 1000, base_url=api.base_url,
            )  # fmt: skip
        error = ""
        try:
            api.data_of(spec.function, answer)
        except ds24.Ds24Error as exc:
            error = str(exc)
            if isinstance(exc, ds24.PermissionDenied):
                connection_learn_access(
                    connection=connection, function=spec.function, allowed=False
                )
        else:
            connection_learn_access(connection=connection, function=spec.function, allowed=True)
    return apicall_record(
        spec=spec, connection=connection, user=user, token=token, answer=answer, error=error,
        base_url=api.base_url,
    )  # fmt: skip


def _refuse_the_key(spec: rules.CallSpec, api_key: str) -> None:
    """The server adds the key itself; typed into the call it would travel further than the
    header does (a query string lands in access logs, and in urllib3's debug log here)."""
    for field, pairs in (("query", spec.query), ("headers", spec.headers), ("body", spec.body)):
        if api_key and any(api_key in name or api_key in value for name, value in pairs):
            raise rules.CallRefused(
                field, "contains the connection's API key; the server adds the key itself"
            )


def apicall_record(
    *,
    spec: rules.CallSpec,
    connection,
    user=None,
    token=None,
    answer: Answer | None = None,
    error: str = "",
    duration_ms: int | None = None,
    base_url: str | None = None,
) -> ApiCall:
    """Store a call that was sent: with Digistore24's `answer`, or the `error` that stopped it
    (then `duration_ms` is how long it took to fail). `base_url` is the API base the client
    used (default: DS24_API_URL). Secrets are redacted and bodies capped here, so no caller
    can forget it: the connection's key text is replaced wherever it appears."""
    storable = _Storable(connection.api_key if connection else "")
    body = rules.body_text(storable.pairs(spec.body))
    body_limit = settings.APICALL_MAX_REQUEST_BYTES
    response_body, truncated = "", False
    if answer is not None:
        response_body, truncated = _decoded(answer.body, settings.APICALL_MAX_RESPONSE_BYTES)
        truncated = truncated or answer.truncated
        duration_ms = answer.duration_ms
    return ApiCall.objects.create(
        user=user if user is not None or token is None else token.user,
        token=token,
        connection=connection,
        connection_name=connection.name if connection else "",
        function=spec.function,
        method=spec.method,
        path=urlsplit(urljoin(base_url or settings.DS24_API_URL, spec.function)).path[:255],
        query=storable.pairs(spec.query),
        request_headers=storable.pairs(spec.headers),
        request_body=storable.text(_decoded(body.encode(), body_limit)[0]),
        is_write=spec.is_write,
        status=answer.status if answer is not None else None,
        duration_ms=max(round(duration_ms), 0) if duration_ms is not None else None,
        response_headers=storable.pairs(_items(answer.headers)) if answer is not None else [],
        response_body=storable.text(response_body),
        response_truncated=truncated,
        error=storable.text(error[:MAX_TEXT]),
    )


class _Storable:
    """Texts made fit to store: without the key, and without NUL, which PostgreSQL refuses
    in text and JSON columns (an answer may contain one)."""

    def __init__(self, api_key: str):
        self.api_key = api_key

    def text(self, text: str) -> str:
        if self.api_key:
            text = text.replace(self.api_key, REDACTED)
        return text.replace("\x00", "\ufffd")

    def pairs(self, pairs) -> list[list[str]]:
        return [
            [self.text(name), REDACTED if is_secret_name(name) else self.text(value[:MAX_TEXT])]
            for name, value in pairs
        ]


def _items(headers) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), str(value)) for name, value in items]


def _decoded(body: bytes | str, limit: int) -> tuple[str, bool]:
    """At most `limit` bytes of `body` as text (bad UTF-8 replaced), and whether it was cut."""
    data = body.encode() if isinstance(body, str) else bytes(body)
    return data[:limit].decode("utf-8", "replace"), len(data) > limit
