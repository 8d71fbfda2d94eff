"""No console input makes the server send a request to another host or port.

A second HTTP server listens on 127.0.0.1 and counts every connection and request it gets.
Generated console requests, biased towards the ways URLs are bent into pointing elsewhere
(absolute and scheme-relative URLs, user names, dot segments, backslashes, percent-encoding,
IDNA and look-alike hosts, white space and control characters) plus arbitrary text, are run
through apicall_run against the Digistore24 stand-in, with writes confirmed so that as much as
possible is sent. The second server must see nothing. One test shows it does count a request
that is sent to it, so that the property can fail.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

import hypothesis
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from apicall.models import ApiCall
from apicall.rules import CallRefused
from apicall.services import apicall_run
from connections.models import Connection
from tests.conftest import FULL_KEY

pytestmark = pytest.mark.django_db


class CountingServer(ThreadingHTTPServer):
    """Counts connections as they are accepted (even one that never sends a request) and
    requests as they are read; answers every request 200."""

    daemon_threads = True

    def __init__(self):
        self.connections = self.requests = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), CountingHandler)

    def verify_request(self, request, client_address):
        with self.lock:
            self.connections += 1
        return True

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return self.connections, self.requests

    def seen(self) -> tuple[int, int]:
        """(connections, requests) so far, after a request of our own has been answered: the
        server accepts connections one after another, so every earlier connection is counted
        by then. Our own request is not included."""
        requests.get(self.url, timeout=5).raise_for_status()
        with self.lock:
            self.connections -= 1
            self.requests -= 1
            return self.connections, self.requests


class CountingHandler(BaseHTTPRequestHandler):
    server: CountingServer

    def parse_request(self):
        with self.server.lock:
            self.server.requests += 1
        return super().parse_request()

    def handle_one_request(self):
        # Any method at all (CONNECT, PROPFIND, …) is answered, not only GET and POST.
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if self.parse_request():
            self.send_response(200)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"reached")
        self.wfile.flush()

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def second_server():
    server = CountingServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def elsewhere(second_server):
    with second_server.lock:
        second_server.connections = second_server.requests = 0
    return second_server


@pytest.fixture
def connection(db):
    connection = Connection(name="Shop")
    connection.set_key(FULL_KEY)
    connection.save()
    return connection


def test_the_second_server_counts_what_is_sent_to_it(elsewhere):
    # The property below can fail: a request to the second server is seen.
    assert requests.get(f"{elsewhere.url}getUserInfo", timeout=5).text == "reached"
    requests.post(elsewhere.url, data={"a": "1"}, timeout=5)
    assert elsewhere.seen() == (2, 2)


def test_a_redirect_from_digistore24_is_not_followed(elsewhere, ds24, connection):
    ds24.inject("redirect", location=f"{elsewhere.url}getUserInfo")
    call = apicall_run(connection=connection, url="getUserInfo")
    assert call.status == 302 and "redirect" in call.error
    assert elsewhere.seen() == (0, 0)


# --- the property ------------------------------------------------------------------------------


def attack_calls(port: int, standin_port: int) -> st.SearchStrategy[dict]:
    """Console requests (url, method, headers, query) aimed at 127.0.0.1:`port`."""
    hosts = st.sampled_from([
        "127.0.0.1", "localhost", "LOCALHOST", "localhost.", "127.1", "127.0.1", "0x7f.0.0.1",
        "0177.0.0.1", "2130706433", "0x7f000001", "0.0.0.0", "0", "[::1]",  # noqa: S104
        "[::ffff:127.0.0.1]", "[0:0:0:0:0:0:0:1]", "127.0.0.1.nip.io",
        "127\u30020\u30020\u30021", "127\uff0e0\uff0e0\uff0e1",  # ideographic and fullwidth dots
        "\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54",  # fullwidth "localhost"
        "xn--localhost-", "l\u200bocalhost", "\u2460\u2461\u2466.0.0.1",
    ])  # fmt: skip
    ports = st.sampled_from([f":{port}", f":0{port}", f":{port}/", f":{port}."])
    userinfo = st.sampled_from([
        "", "user@", "user:pw@", "getUserInfo@", f"127.0.0.1:{standin_port}@",
        "getUserInfo%40", "a\\@", "a:b%40c@",
    ])  # fmt: skip
    authority = st.builds(lambda u, h, p: u + h + p, userinfo, hosts, ports)
    prefixes = st.sampled_from([
        "http://", "https://", "HTTP://", "hTtP://", "//", "///", "\\\\", "/\\", "\\/",
        "http:/", "http:", "http:\\\\", " http://", "\thttp://", "\x00http://", "\nhttp://",
        "h\tttp://", "http%3A%2F%2F", "http%3a//", "%2F%2F", "/%2F", "%5C%5C", "%252F%252F",
        "gopher://", "file://", "ftp://", "ws://", "jar:http://", "view-source:http://",
        "getUserInfo?x=1#@", "getUserInfo/../../", "getUserInfo/..%2F..%2F", "./", "../",
        "..\\", "/api/call/../../",
        "\uff0f\uff0f", "\u2215\u2215",  # fullwidth and division slashes
    ])  # fmt: skip
    paths = st.sampled_from(["", "/", "/getUserInfo", "/api/call/getUserInfo", "/..", "/%2e%2e/"])
    suffixes = st.sampled_from(["", "?a=1", "#x", "%00", "\r\n", " ", "?", "#", "/format/json"])
    aimed = st.builds(lambda *parts: "".join(parts), prefixes, authority, paths, suffixes)
    # A valid function with the target smuggled in after it.
    smuggled = st.builds(
        lambda function, glue, target: function + glue + target,
        st.sampled_from(["getUserInfo", "ping", "validateEticket", "noSuchFunction", ""]),
        st.sampled_from(["/", "/../", "/..%2f", "\\..\\", "/./", "/.%2e/", "@", "#@", ";",
                         "/format/json/../../", "?x=1&", "?@", "\r\n\r\nGET http://", "%0d%0a"]),
        st.builds(lambda p, a: p + a, prefixes, authority),
    )  # fmt: skip
    encoded = st.one_of(
        aimed.map(quote), aimed.map(lambda u: quote(u, safe="")),
        aimed.map(lambda u: quote(quote(u, safe=""), safe="")),
        aimed.map(lambda u: u.upper()), aimed.map(lambda u: u.replace("/", "\\")),
    )  # fmt: skip
    characters = ":/\\@.%?#[]-_;=&~ \t\r\n\x00\x0b\x1f\x7f\x85\xa0\u2028\u3002\uff0e\uff0fAaz09"
    arbitrary = st.one_of(
        st.text(max_size=60), st.text(alphabet=characters, max_size=40)
    )  # fmt: skip
    target = f"http://127.0.0.1:{port}/"
    # Valid requests that carry the target as data: they are sent, to the stand-in only.
    carried = st.builds(
        lambda function, query: function + query,
        st.sampled_from(["getUserInfo", "ping", "getPurchase/format/json", "/listProducts",
                         "validateEticket", "noSuchFunction"]),
        st.sampled_from(["", f"?url={target}", f"?next=//127.0.0.1:{port}", f"?{target}",
                         f"?a=1&redirect={quote(target, safe='')}", f"?host=127.0.0.1:{port}"]),
    )  # fmt: skip
    urls = st.one_of(aimed, smuggled, encoded, arbitrary, carried)
    # Half the time plain, so that more of the URLs above are judged (and sent) on their own.
    headers = st.one_of(st.none(), st.sampled_from([
        {"Host": f"127.0.0.1:{port}"}, {"X-Forwarded-Host": f"127.0.0.1:{port}"},
        {"Forwarded": f"host=127.0.0.1:{port}"}, {"X-Original-URL": target},
        {"X-Rewrite-URL": target}, {"Location": target}, {"Proxy": target},
        {"Via": f"1.1 127.0.0.1:{port}"}, f"Host: 127.0.0.1:{port}",
        f"X-A: 1\r\nHost: 127.0.0.1:{port}",
    ]))  # fmt: skip
    methods = st.one_of(st.just("POST"), st.sampled_from([
        "GET", "post", "CONNECT", f"GET {target}", f"CONNECT 127.0.0.1:{port}",
    ]))  # fmt: skip
    queries = st.one_of(st.none(), st.sampled_from([
        {"url": target}, f"redirect={target}", {"callback": target},
    ]))  # fmt: skip
    return st.fixed_dictionaries(
        {"url": urls, "method": methods, "headers": headers, "query": queries}
    )


def test_no_generated_input_reaches_another_server(elsewhere, ds24, connection):
    standin = urlsplit(ds24.api_url)
    outcomes = {"sent": 0, "refused": 0}

    @given(call=attack_calls(elsewhere.port, standin.port))
    @hypothesis.settings(
        max_examples=300,
        deadline=None,
        database=None,
        derandomize=True,  # the same inputs on every run: CI must not pass by luck
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def check(call):
        before, seen_before = len(ds24.calls()), elsewhere.counts()
        try:
            recorded = apicall_run(connection=connection, confirm_write=True, **call)
        except CallRefused:
            outcomes["refused"] += 1
            assert len(ds24.calls()) == before  # refused means nothing was sent anywhere
        else:
            outcomes["sent"] += 1
            # Sent once, to the stand-in's API base and to a function, nowhere else.
            assert len(ds24.calls()) == before + 1
            assert recorded.path == standin.path + recorded.function
        # Per example, so that a failure names (and shrinks) the input that got through.
        assert elsewhere.counts() == seen_before, call

    check()
    assert elsewhere.seen() == (0, 0)
    # Both branches were exercised: some inputs passed the rules and were sent.
    assert outcomes["sent"] > 0 and outcomes["refused"] > 0, outcomes
    assert ApiCall.objects.count() == outcomes["sent"]
