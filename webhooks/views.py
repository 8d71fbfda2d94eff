import ipaddress
import logging
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ds24site.crypto import DecryptionError
from webhooks import receiving
from webhooks.services import Rejection, delivery_reject, ipn_store, ipn_verify
from webhooks.signing import SIGNATURE_KEYS

logger = logging.getLogger(__name__)

# Any of these in a GET's query string makes it an IPN rather than a URL check.
IPN_KEYS = frozenset({"event", *SIGNATURE_KEYS})


def _text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    # What never_cache would say, in the one word that matters, without its date formatting
    # and header parsing on every delivery.
    response["Cache-Control"] = "no-store"
    return response


def _sender_ip(request) -> str | None:
    address = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _delivery(request) -> tuple[bytes, str]:
    """What a delivery carries (a POST's body or a GET's query string), up to one byte past
    IPN_MAX_BODY_BYTES (enough to tell it is too large without reading the rest), and what
    it is called in an error. Read once, before the webhook is looked up, for whichever way
    the delivery is judged (webhooks/receiving.py)."""
    if request.method != "POST":
        # WSGI hands over the query string's raw bytes as Latin-1 (PEP 3333).
        return request.META.get("QUERY_STRING", "").encode("latin-1"), "query string"
    return _read_body(request, settings.IPN_MAX_BODY_BYTES + 1), "body"


def _read_body(request, size: int) -> bytes:
    """Up to `size` bytes of a POST's body. Django reads only Content-Length bytes, so a
    chunked body (which has none) would read as empty; a server that ends the body stream
    itself says so with `wsgi.input_terminated` (gunicorn does), and then it is read to its
    end. A read may return less than asked before the end, hence the loop."""
    if request.META.get("CONTENT_LENGTH") or not request.META.get("wsgi.input_terminated"):
        return request.read(size)
    stream, chunks = request.META["wsgi.input"], []
    while size > 0 and (chunk := stream.read(size)):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _carries_ipn(query: str) -> bool:
    """Whether a query string names an IPN parameter, which makes a GET a delivery rather than
    Digistore24's URL check. Reads only the keys, leniently, so that a malformed delivery is
    still recognised as one and rejected with its reason."""
    return any(unquote_plus(field.partition("=")[0]) in IPN_KEYS for field in query.split("&"))


@csrf_exempt
def receive(request, token):
    """Digistore24's IPN endpoint: one per webhook, at an unguessable URL.

    Digistore24 counts a delivery as done only when the body starts with `OK`, and retries
    anything else at least 20 times over 10 days. So `OK` is only ever sent once the verified
    delivery is committed, as received (one InboundIPN row, the request's only write); a task
    worker puts it into the event log within about a second (services.events_follow_up),
    where a redelivery is counted on the event it repeats. "recorded": retried, and kept as a
    RejectedDelivery for the vendor to see.

    Gunicorn hands receive URLs to this view directly, past Django's middleware
    (webhooks/wsgi.py); the URL conf routes them here too (the test client's way). A POST
    to a webhook this process loaded before is verified with it as remembered and kept only
    while its row is unchanged, in the same statement (webhooks/receiving.py); any other
    outcome is judged afresh, so every row below holds as if nothing were remembered.

    A delivery is a POST, or a GET whose query string carries `event` or `sha_sign` (a
    "Generic" connection's postback). A GET's query string is judged and stored exactly as a
    POST's body, without the content-type check; every row from "inactive" down applies to both.

    request                                     status  body                             retried
    malformed Content-Type (RFC 2231 charset*=) 400     ERROR: malformed Content-Type... yes
    Content-Type charset no text is read in     415     ERROR: unsupported charset...    yes
      (zlib, idna: at any URL, refused before Django by ds24site/wsgi.py; not recorded)
    GET or HEAD without event or sha_sign       200     OK                               no
      (Digistore24's URL validation)
    unknown or regenerated-away token           404     ERROR: unknown webhook           yes
    HEAD with event or sha_sign                 405     ERROR: send IPNs by GET or POST  yes
      (nothing stored: HEAD has no side effects)
    any other method                            405     ERROR: method not allowed        yes
    delivery to an inactive webhook             503     PAUSED: ...                      yes
    body or query over IPN_MAX_BODY_BYTES       413     ERROR: ... larger than N bytes   recorded
    POST not form-encoded UTF-8                 415     ERROR: expected ...              recorded
    empty, not UTF-8, NUL, repeat, >1000 fields 400     ERROR: <why>                     recorded
    sha_sign missing or wrong                   403     ERROR: invalid sha signature     recorded
    no passphrase, unsigned not allowed         403     ERROR: webhook has no passphrase recorded
    verified, or unsigned where allowed         200     OK                               no
    the same parameters again (sha_sign aside)  200     OK, counted on the first event   no
    database down or locked, secrets unreadable 503     ERROR: not stored, retry later   yes

    A body sent chunked (Transfer-Encoding, no Content-Length) is read like any other, up to
    the same limit, where the server ends the body itself (gunicorn; `wsgi.input_terminated`).

    Before this view runs, the server has read the whole request (ds24site/server.py): a client
    slower than REQUEST_HEADER_TIMEOUT / REQUEST_BODY_TIMEOUT is dropped (408 for a late body),
    and a body over 2.5 MiB (DATA_UPLOAD_MAX_MEMORY_SIZE) gets 413; neither is recorded, and
    Digistore24 retries both.

    The form is read as PHP reads it (webhooks.ipn.parse_body): empty fields are skipped and a
    key without `=` has an empty value. Connection tests and events outside the webhook's set
    are stored too, marked by Event.scope, and answered OK. An inactive webhook loses nothing:
    Digistore24 keeps retrying until it is active again.
    """
    if request.method not in ("GET", "HEAD", "POST"):
        response = _text("ERROR: method not allowed", 405)
        response["Allow"] = "GET, HEAD, POST"
        return response
    body, what = _delivery(request)
    remembered = receiving.recall(token)
    if remembered is not None and request.method == "POST":
        try:
            if _kept(request, remembered, body):
                return _text("OK")
        except DatabaseError:
            return _not_stored(remembered.webhook)
    try:
        webhook = receiving.load(token)
    except (DatabaseError, DecryptionError, ImproperlyConfigured):
        # The database is down, or FIELD_ENCRYPTION_KEY lost the key of a stored passphrase:
        # either way nothing can be verified or stored now, and Digistore24 should retry.
        logger.exception("IPN receiver: cannot load the webhook")
        return _text("ERROR: not stored, retry later", 503)
    if webhook is None:
        return _text("ERROR: unknown webhook", 404)
    if request.method != "POST":
        query = request.META.get("QUERY_STRING", "")
        if not _carries_ipn(query):
            return _text("OK")
        if request.method == "HEAD":
            # Storing would be a side effect, and OK would claim a delivery that was not kept.
            response = _text("ERROR: send IPNs by GET or POST", 405)
            response["Allow"] = "GET, POST"
            return response
    if not webhook.active:
        return _text("PAUSED: this webhook is inactive; Digistore24 will retry", 503)

    sender_ip = _sender_ip(request)
    content_type = request.META.get("CONTENT_TYPE", "")
    limit = settings.IPN_MAX_BODY_BYTES
    try:
        if len(body) > limit:
            body = b""
            raise Rejection(413, f"{what} larger than {limit} bytes")
        _pairs, signature = ipn_verify(
            webhook=webhook, method=request.method, body=body, content_type=content_type
        )
    except Rejection as rejection:
        delivery_reject(
            webhook=webhook,
            rejection=rejection,
            method=request.method,
            content_type=content_type,
            body=body,
            sender_ip=sender_ip,
        )
        return _text(f"ERROR: {rejection}", rejection.status)

    try:
        # Keeps the IPN as received, in one statement; a worker makes the event of it and
        # does the rest (roll-ups, forwarding, ipn_received), so the answer waits for none.
        ipn_store(webhook=webhook, body=body, signature=signature, sender_ip=sender_ip)
    except DatabaseError:
        return _not_stored(webhook)
    return _text("OK")


def _not_stored(webhook) -> HttpResponse:
    logger.exception("IPN receiver: could not store a delivery for webhook %s", webhook.pk)
    return _text("ERROR: not stored, retry later", 503)


def _kept(request, remembered: receiving.Remembered, body: bytes) -> bool:
    """Whether a POST was verified with the webhook as this process remembers it, and kept
    while the webhook's row is still that (webhooks/receiving.py). Anything else (not
    verified, too large, the webhook changed) does nothing here, and the delivery is judged
    afresh; a DatabaseError is raised, and answered as the fresh judgement's would be."""
    if len(body) > settings.IPN_MAX_BODY_BYTES:
        return False
    try:
        _pairs, signature = ipn_verify(
            webhook=remembered.webhook,
            method=request.method,
            body=body,
            content_type=request.META.get("CONTENT_TYPE", ""),
        )
        return ipn_store(
            webhook=remembered.webhook,
            body=body,
            signature=signature,
            sender_ip=_sender_ip(request),
            remembered=remembered,
        )
    except Rejection:
        return False
