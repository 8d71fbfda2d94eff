"""Properties of the API console's rules (apicall/rules.py) together with the client that sends
what they accept (connections.client.Ds24Client.request): whatever URL, query and headers are
typed, the request either is refused with CallRefused, or goes to the API base's scheme, host
and port, at the base's path plus the function, with no user name, fragment or header that
steers it elsewhere.

The request is prepared by requests exactly as it would be sent, and caught by a transport
adapter at the point where it would reach the network: so what is checked is the URL and
headers on the wire, not the rules' idea of them. tests/apicall/test_no_proxy.py checks the
same end to end against real servers, with fewer examples.
"""

import string
from urllib.parse import quote, urlsplit

import hypothesis
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from apicall.rules import CallRefused, call_spec
from connections.client import Ds24Client, Unreachable
from tests.conftest import FULL_KEY, PROPERTIES

profile = hypothesis.settings.get_profile(PROPERTIES)

# Written out here rather than taken from the rules, so that a header dropped from their list
# is caught: what steers the connection (RFC 9110 §7.6.1's hop-by-hop headers, Host, framing)
# or carries credentials.
STEERING = frozenset(
    {"host", "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
     "upgrade", "content-length", "authorization", "proxy-authorization", "proxy-authenticate",
     "cookie", "x-ds-api-key"}
)  # fmt: skip
BASES = ["https://www.digistore24.com/api/call/", "http://127.0.0.1:8765/api/call/"]


class Caught(requests.adapters.BaseAdapter):
    """Takes the prepared request where a real adapter would open a connection, and fails it as
    an unreachable server would, so that nothing leaves the process."""

    def __init__(self):
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        raise requests.ConnectionError("caught before the network")

    def close(self):
        pass


def sent_request(base: str, spec) -> requests.PreparedRequest:
    """What the client puts on the wire for an accepted console request, as apicall_run sends
    it (apicall/services.py)."""
    caught = Caught()
    with Ds24Client(FULL_KEY, base_url=base, interactive=True) as api:
        api.session.adapters.clear()
        api.session.mount("", caught)  # every scheme: a request to gopher:// is caught too
        with pytest.raises(Unreachable):
            api.request(
                spec.method,
                spec.function,
                query=spec.query,
                headers=dict(spec.headers),
                body=spec.body,
                max_bytes=1024,
            )
    [request] = caught.sent  # interactive: never retried
    return request


# --- hostile input -------------------------------------------------------------------------------

hosts = st.sampled_from([
    "evil.example", "EVIL.example.", "127.0.0.1", "127.1", "0x7f.1", "2130706433", "0",
    "[::1]", "[::ffff:127.0.0.1]", "[fe80::1%25eth0]", "[v1.x]", "localhost",
    "evil\u3002example", "evil\uff0eexample", "evil\uff61example",  # ideographic, fullwidth dots
    "\uff45\uff56\uff49\uff4c.example", "xn--vl-jla.example", "ev\u200bil.example",
])  # fmt: skip
authorities = st.builds(
    lambda user, host, port: user + host + port,
    st.sampled_from(["", "user@", "u:p@", "getUserInfo@", "a%40b@", "www.digistore24.com@"]),
    hosts,
    st.sampled_from(["", ":80", ":443", ":8765", ":0", ":65536", ":"]),
)
# Fragments of the ways a URL is bent to point elsewhere: schemes and their misspellings,
# slashes (also fullwidth and division slashes), dot segments (also encoded and look-alike),
# user names, fragments, CRLF, NUL, white space, and pieces of valid function URLs.
PIECES = [
    "http://", "https://", "HTTP://", "//", "///", "\\\\", "/\\", "\\/", "http:", "http:/",
    "https:\\\\", "javascript:", "file://", "gopher://", "h\ttp://", "%2F%2F", "%5C%5C",
    "/", "\\", ".", "..", "/..", "../", "..\\", "%2e%2e", "%252e", ".%2e", "\uff0e\uff0e",
    "\u2025", "\uff0f", "\u2215", "@", "#", "#@", "?", "&", "=", ";", ":", "%", "%0d%0a",
    "\r\n", "\r\nHost: evil.example\r\n", "\n", "\x00", " ", "\u00a0", "\u2028", "[", "]",
    "getUserInfo", "getPurchase", "ping", "format/json", "/format/json", "api/call",
]  # fmt: skip
pieces = st.one_of(st.sampled_from(PIECES), authorities, st.text(max_size=6))
functions = st.sampled_from(["getUserInfo", "/ping", "getPurchase/format/json"])
urls = st.one_of(
    st.lists(pieces, min_size=1, max_size=7).map("".join),
    # A function first, which passes the rules on its own, then the attempt to leave, in the
    # path or in the query.
    st.builds(str.__add__, functions, st.lists(pieces, max_size=5).map("".join)),
    st.builds("{}?{}".format, functions, st.lists(pieces, max_size=5).map("".join)),
    st.lists(pieces, max_size=5).map(lambda parts: quote("".join(parts), safe="")),
)  # fmt: skip
HEADER_NAMES = sorted(
    {name.title() for name in STEERING}
    | {"X-Forwarded-Host", "Forwarded", "X-Original-URL", "X-Rewrite-URL", "Location", "Accept"}
)
# Mostly the names that matter, in any letter case; some made up, valid or not.
header_names = st.one_of(
    st.sampled_from(HEADER_NAMES),
    st.sampled_from(HEADER_NAMES).map(str.lower),
    st.sampled_from(HEADER_NAMES).map(str.upper),
    st.text(alphabet=string.ascii_letters + "-_!#~", min_size=1, max_size=12),
    st.text(min_size=1, max_size=12),
)
# Values that would steer the request if they got through, then any text (most of it refused).
header_values = st.one_of(
    st.sampled_from(["evil.example", "http://evil.example/", "127.0.0.1:8765", "chunked",
                     "close", "Upgrade", "1-stolen0000000000000000", "session=x", " padded "]),
    st.sampled_from(["a\r\nHost: evil", "x\nX-DS-API-KEY: 1-stolen", "x\x00", "\u2028"]),
    st.text(alphabet=string.printable + "\x00\x7f\u00e9\u2028", max_size=20),
)  # fmt: skip
headers = st.one_of(
    st.dictionaries(header_names, header_values, min_size=1, max_size=1),  # one at a time
    st.dictionaries(header_names, header_values, max_size=3),
    st.lists(st.tuples(header_names, header_values), max_size=3).map(
        lambda pairs: "\n".join(f"{name}: {value}" for name, value in pairs)
    ),
)
queries = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["url", "next", "host", "a#b", "a&b", "@"]),
        st.one_of(urls, st.just("http://evil.example/")),
        max_size=2,
    ),
    urls,
)


def assert_sent_only_to_the_api_base(base: str, **typed) -> None:
    """The console request `typed` is refused by the rules, or put on the wire for the API base
    at `base` and nowhere else."""
    try:
        spec = call_spec(**typed, confirm_write=True)
    except CallRefused:
        return  # refused before anything was sent
    # Anything but CallRefused from the client would be a 500 in the console.
    request = sent_request(base, spec)
    sent, expected = urlsplit(request.url), urlsplit(base)
    assert (sent.scheme, sent.hostname, sent.port) == (
        expected.scheme,
        expected.hostname,
        expected.port,
    )
    assert sent.netloc == expected.netloc  # no user name, no other spelling of the host
    assert sent.path == expected.path + spec.function
    assert not sent.fragment
    assert request.method == spec.method
    # No header that steers the connection or carries credentials is the user's: those on the
    # wire are the client's own (urllib3 adds Host from the URL checked above).
    own = {
        "connection": "keep-alive",  # requests' default
        "x-ds-api-key": FULL_KEY,
        "content-length": str(len(request.body or "")),
    }
    for name, value in request.headers.items():
        if name.lower() in STEERING:
            assert own.get(name.lower()) == value, (name, value)
        assert "\r" not in name + value and "\n" not in name + value and "\x00" not in value


methods = st.sampled_from(["POST", "GET"])


@profile
@given(base=st.sampled_from(BASES), method=methods, url=urls)
@hypothesis.example(BASES[1], "POST", "//evil.example/ping")
@hypothesis.example(BASES[0], "POST", "getUserInfo@evil.example")
def test_no_url_leaves_the_api_base(base, method, url):
    assert_sent_only_to_the_api_base(base, method=method, url=url)


@profile
@given(base=st.sampled_from(BASES), method=methods, url=functions, headers=headers)
@hypothesis.example(BASES[1], "POST", "getUserInfo", {"Host": "evil.example"})
@hypothesis.example(BASES[1], "GET", "ping", "X-A: 1\r\nHost: evil.example")
def test_no_header_leaves_the_api_base_or_steers_the_connection(base, method, url, headers):
    assert_sent_only_to_the_api_base(base, method=method, url=url, headers=headers)


@profile
@given(base=st.sampled_from(BASES), method=methods, url=functions, query=queries)
@hypothesis.example(BASES[1], "GET", "ping", {"url": "//evil.example"})
def test_no_query_leaves_the_api_base(base, method, url, query):
    assert_sent_only_to_the_api_base(base, method=method, url=url, query=query)
