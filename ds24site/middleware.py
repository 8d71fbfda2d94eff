import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpResponse

from ds24site import health


def parse_networks(values) -> tuple:
    """IP networks from strings like "10.0.0.1" or "10.0.0.0/8"; ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return tuple(networks)


@cache
def _trusted_networks(values: tuple[str, ...]) -> tuple:
    return parse_networks(values)


def _is_trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class TrustedProxyMiddleware:
    """Believes X-Forwarded-For and X-Forwarded-Proto only from peers in TRUSTED_PROXIES.

    The client address is the right-most X-Forwarded-For entry that is not itself a trusted
    proxy; anything left of it could have been written by the client. With no trusted proxies
    configured, REMOTE_ADDR stands and the headers are ignored.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        believe_trusted_proxies(request.META)
        return self.get_response(request)


def believe_trusted_proxies(meta: dict) -> None:
    """TrustedProxyMiddleware's work on a request's META (or a WSGI environ), in place: also
    used where a request does not pass through the middleware (webhooks/wsgi.py)."""
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if networks and _is_trusted(meta.get("REMOTE_ADDR", ""), networks):
        forwarded_for = meta.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        while hops and _is_trusted(hops[-1], networks):
            hops.pop()
        if hops:
            meta["REMOTE_ADDR"] = hops[-1]
        proto = meta.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            meta["wsgi.url_scheme"] = proto


class HealthCheckMiddleware:
    """`/healthz`: 200 `ok` when the database takes a write, its disk has room and
    FIELD_ENCRYPTION_KEY decrypts the stored secrets (ds24site.health); otherwise 503 with
    what failed in a few words (`unavailable: database cannot take a write`), no details.

    Deliberately ahead of host validation, sessions and auth: load balancers probe by IP and
    need no credentials. The report is reused for a couple of seconds, so probing is cheap.
    """

    path = "/healthz"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.rstrip("/") != self.path:
            return self.get_response(request)
        problems = health.recent_report()
        if problems:
            body = f"unavailable: {'; '.join(problems)}\n"
            response = HttpResponse(body, status=503, content_type="text/plain")
        else:
            response = HttpResponse("ok\n", content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response


class ContentSecurityPolicyMiddleware:
    """Sends CONTENT_SECURITY_POLICY with every response that has none of its own: scripts
    and styles from this site only, no plugins, no framing, forms posting here only. The pages
    show text that senders wrote (IPN payloads, rejected bodies, API answers); escaping keeps
    it text, and this policy is the second line if a template ever fails to. Inline style
    attributes are allowed (the admin's own templates use them); inline scripts are not, and
    none of the project's pages has one (the API docs use drf-spectacular's split view)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
