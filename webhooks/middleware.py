import re

from webhooks import views
from webhooks.urls import RECEIVE_PATH

# Where ds24site/urls.py mounts webhooks.urls: at the root.
_RECEIVE = re.compile(f"/{RECEIVE_PATH}")


class ReceiverMiddleware:
    """Hands a receive URL's request to the IPN receiver (webhooks.views.receive) at once.

    The middleware after this one (static files, sessions, CSRF, authentication, messages,
    login throttling) does nothing for Digistore24's server-to-server deliveries, which carry
    no cookies and are CSRF-exempt, and cost more than the delivery's own work: the chain and
    the URL resolver were a third of the receiver's CPU time per IPN (docs/benchmarks.md).
    What still applies runs before this: the trusted proxies' client address and the security
    and CSP headers. The host is checked against ALLOWED_HOSTS here, and Content-Length set,
    as CommonMiddleware would (without it the server sends the answer chunked).
    A path that does not match goes on through the chain, as any other.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = _RECEIVE.fullmatch(request.path_info)
        if match is None:
            return self.get_response(request)
        request.get_host()  # DisallowedHost: 400, as for any other page
        response = views.receive(request, match["token"])
        response.headers["Content-Length"] = str(len(response.content))
        return response
