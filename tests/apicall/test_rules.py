"""The console's one validation: which URLs, methods, headers, queries and bodies are sent, and
that no URL it accepts leaves the configured API base."""

import json
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apicall.rules import CallRefused, CallSpec, body_text, call_spec, headers_text

BASE = "http://127.0.0.1:8765/api/call/"


def refused(**request) -> CallRefused:
    request.setdefault("method", "POST")
    request.setdefault("url", "getPurchase")
    with pytest.raises(CallRefused) as caught:
        call_spec(**request)
    return caught.value


# --- URL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "function", "query"),
    [
        ("getPurchase", "getPurchase", ()),
        ("getPurchase?purchase_id=ABC12345", "getPurchase", (("purchase_id", "ABC12345"),)),
        ("/getPurchase", "getPurchase", ()),
        ("getPurchase/format/json", "getPurchase", ()),
        ("getPurchase?", "getPurchase", ()),
        # The query is decoded: its values are the client's to encode again.
        ("listPurchases?search[email]=a%40b.de&page_no=2", "listPurchases",
         (("search[email]", "a@b.de"), ("page_no", "2"))),
        ("getPurchase?purchase_id=a/../b", "getPurchase", (("purchase_id", "a/../b"),)),
        ("get_x9", "get_x9", ()),
    ],
)  # fmt: skip
def test_accepted_urls(url, function, query):
    spec = call_spec(method="POST", url=url, confirm_write=True)
    assert (spec.function, spec.query) == (function, query)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://evil.example/api/call/ping", "absolute URLs are not allowed"),
        ("https:evil", "absolute URLs are not allowed"),
        ("javascript:alert(1)", "absolute URLs are not allowed"),
        ("localhost:8000", "absolute URLs are not allowed"),
        ("//evil.example/ping", "scheme-relative URLs"),
        ("user@evil.example", "user names (user@host)"),
        ("getPurchase@evil", "user names (user@host)"),
        ("..", "dot segments"),
        ("getPurchase/../x", "dot segments"),
        ("./getPurchase", "dot segments"),
        ("%2e%2e", "percent-encoded characters"),
        ("%252e%252e/ping", "percent-encoded characters"),
        ("%c0%ae%c0%ae/ping", "percent-encoded characters"),
        ("get%50urchase", "percent-encoded characters"),
        ("..\\evil", "backslashes"),
        ("getPurchase\\x", "backslashes"),
        ("get\tPurchase", "spaces, line breaks and control characters"),
        ("getPurchase\n", "spaces, line breaks and control characters"),
        ("getPurchase\r\nHost: evil", "spaces, line breaks and control characters"),
        (" getPurchase", "spaces, line breaks and control characters"),
        ("getPurchase ", "spaces, line breaks and control characters"),
        ("getPurchase\u00a0", "spaces, line breaks and control characters"),
        ("getPurchase\x00", "spaces, line breaks and control characters"),
        ("getPurchase\x85", "spaces, line breaks and control characters"),
        ("getPurchase#frag", "a #fragment"),
        ("\uff47etPurchase", "look-alike characters"),  # fullwidth g
        ("getPurch\u0430se", "look-alike characters"),  # Cyrillic a
        ("127.0.0.1", "IP addresses"),
        ("127.1", "IP addresses"),
        ("[::1]", "IP addresses"),
        ("[::1]:80/ping", "IP addresses"),
        ("getPurchase;x", "path parameters (;)"),
        ("", "enter the function to call"),
        ("evil.example", "not a Digistore24 function name"),
        ("xn--bcher-kva.example", "not a Digistore24 function name"),
        ("getPurchase/", "not a Digistore24 function name"),
        ("api/call/getPurchase", "not a Digistore24 function name"),
        ("1getPurchase", "not a Digistore24 function name"),
        ("?purchase_id=1", "not a Digistore24 function name"),
        ("g" * 65, "not a Digistore24 function name"),
    ],
)
def test_refused_urls_say_why(url, why):
    error = refused(url=url)
    assert error.field == "url"
    assert why in error.message
    if url:
        assert error.message.endswith(
            "; give the function relative to the API base, e.g. "
            "getPurchase or getPurchase?purchase_id=…"
        )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("getPurchase?x=%ff", "percent-encoded bytes that are not UTF-8"),
        ("getPurchase?=1", "every parameter needs a name"),
        # PostgreSQL cannot store NUL in text, and Digistore24 has no use for it.
        ("getPurchase?x=%00", "NUL characters"),
        # A lone surrogate (from a JSON "\\ud800") is no text: it cannot be encoded to send.
        ("getPurchase?x=\ud800", "not Unicode text"),
    ],
)
def test_refused_queries_in_the_url(url, why):
    error = refused(url=url)
    assert error.field == "url"
    assert why in error.message


@pytest.mark.parametrize("url", [None, 42, ["getPurchase"]])
def test_a_url_that_is_not_text_is_refused(url):
    assert refused(url=url).field == "url"


def sent_url(spec: CallSpec) -> str:
    """The URL the client builds: the function joined to the base, the query encoded."""
    url = urljoin(BASE, spec.function)
    return f"{url}?{urlencode(spec.query)}" if spec.query else url


# Strings near the accepted shape, where a mistake in the rules would hide.
near_miss = st.from_regex(
    r"\A[/\\.%@:;?#\[\] \t\nA-Za-z0-9_\-\uff47\u0430\x00]{0,24}\Z", fullmatch=True
)


# A function name followed by anything: suffixes and queries that must not steer the target.
name_then_anything = st.builds(
    str.__add__, st.from_regex(r"\A/?[a-z]{1,8}\Z", fullmatch=True), st.text(max_size=30)
)


@settings(max_examples=1500, derandomize=True)
@given(st.one_of(st.text(max_size=40), near_miss, name_then_anything))
@example("http://evil/")
@example("//evil")
@example("getPurchase?x=http://evil:99/")
@example("\\\\evil\\x")
def test_no_accepted_url_leaves_the_api_base(url):
    try:
        spec = call_spec(method="GET", url=url, confirm_write=True)
    except CallRefused as error:
        assert error.field == "url"
        return
    target = urlsplit(sent_url(spec))
    base = urlsplit(BASE)
    assert (target.scheme, target.hostname, target.port) == (base.scheme, base.hostname, base.port)
    assert target.path.startswith(base.path)
    assert target.path == base.path + spec.function


# --- Method -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "sent"), [("POST", "POST"), ("GET", "GET"), ("post", "POST")])
def test_post_and_get_are_the_methods(method, sent):
    assert call_spec(method=method, url="ping").method == sent


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "", None])
def test_other_methods_are_refused_with_the_reason(method):
    error = refused(method=method)
    assert error.field == "method"
    assert "RPC" in error.message


# --- Headers ------------------------------------------------------------------------------------


def test_header_lines_and_objects_give_the_same_pairs():
    lines = call_spec(method="POST", url="ping", headers="Accept: text/plain\r\n\nX-Trace:  a b \n")
    mapping = call_spec(
        method="POST", url="ping", headers={"Accept": "text/plain", "X-Trace": "a b"}
    )
    assert lines.headers == mapping.headers == (("Accept", "text/plain"), ("X-Trace", "a b"))


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ("X-DS-API-KEY: 1-abc", "set by the server"),
        ({"x-ds-api-key": "1-abc"}, "set by the server"),
        ("Authorization: Bearer x", "Authorization may not be set"),
        ("cookie: a=b", "cookie may not be set"),
        ("Host: evil.example", "Host may not be set"),
        ("Content-Length: 5", "Content-Length may not be set"),
        ("Transfer-Encoding: chunked", "Transfer-Encoding may not be set"),
        ("Connection: close", "Connection may not be set"),
        ("Keep-Alive: 5", "Keep-Alive may not be set"),
        ("Proxy-Authorization: x", "Proxy-Authorization may not be set"),
        ("TE: trailers", "TE may not be set"),
        ("Trailer: X", "Trailer may not be set"),
        ("Upgrade: h2c", "Upgrade may not be set"),
        ("Accept text/plain", "line 1: expected Name: value"),
        ("X Trace: 1", "is not a valid header name"),
        (" X-Folded: 1", "is not a valid header name"),
        (": empty", "is not a valid header name"),
        ("X-Tr\u00e4ce: 1", "is not a valid header name"),
        ({"X-Trace": "a\r\nHost: evil"}, "printable ASCII"),
        ({"X-Trace": "a\nb"}, "printable ASCII"),
        ("X-Trace: a\x00b", "printable ASCII"),
        ("X-Trace: a\rb", "printable ASCII"),
        ("X-Trace: caf\u00e9", "printable ASCII"),
        ({"X-Trace": 1}, "must be text"),
        ("X-A: 1\nx-a: 2", "given twice"),
        ("\n".join(f"X-{n}: 1" for n in range(33)), "at most 32 headers"),
        ("X-Big: " + "a" * 9000, "longer than 8192 bytes"),
        (["Accept: text/plain"], "one Name: value a line"),
    ],
)
def test_refused_headers(headers, why):
    error = refused(headers=headers)
    assert error.field == "headers"
    assert why in error.message


# --- Query --------------------------------------------------------------------------------------


def test_query_field_adds_to_the_urls_query():
    spec = call_spec(method="GET", url="getPurchase?a=1", query="?b=2&c=%C3%A4\nd=")
    assert spec.query == (("a", "1"), ("b", "2"), ("c", "ä"), ("d", ""))
    assert spec.url == "getPurchase?a=1&b=2&c=%C3%A4&d="


def test_query_object_is_flattened():
    spec = call_spec(method="GET", url="listPurchases", query={"search": {"email": "a@b.de"}})
    assert spec.query == (("search[email]", "a@b.de"),)


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("x=%ff", "not UTF-8"),
        ("=1", "every parameter needs a name"),
        (["a"], "a query string or an object"),
        ("x=" + "a" * 9000, "longer than 8192 bytes"),
        ({"x": "\udfff"}, "not Unicode text"),
        ({"\ud800": "1"}, "not Unicode text"),
    ],
)
def test_refused_queries(query, why):
    error = refused(query=query)
    assert error.field == "query"
    assert why in error.message


# --- Body ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "pairs"),
    [
        ("purchase_id=ABC\r\n\n  note = a=b  \n", (("purchase_id", "ABC"), ("note", "a=b"))),
        ('{"purchase_id": "ABC"}', (("purchase_id", "ABC"),)),
        (
            '  {"buyer": {"email": "a@b.de", "address": {"city": "Köln"}}, "force": true,'
            ' "ids": [1, 2], "skip": null}',
            (
                ("buyer[email]", "a@b.de"),
                ("buyer[address][city]", "Köln"),
                ("force", "Y"),
                ("ids[0]", "1"),
                ("ids[1]", "2"),
            ),
        ),
        ({"buyer": {"email": "a@b.de"}}, (("buyer[email]", "a@b.de"),)),
        ("", ()),
        (None, ()),
    ],
    ids=["lines", "json", "nested-json", "object", "empty", "none"],
)
def test_bodies(body, pairs):
    assert call_spec(method="POST", url="ping", body=body).body == pairs


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('{"purchase_id": ', "not valid JSON: Expecting value (line 1, column 16)"),
        ("{'a': 1}", "not valid JSON"),
        ('["a", "b"]', "a JSON body must be an object"),
        ("[" * 50_000, "nested more than 5 levels deep"),
        ('{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}', "nested more than 5 levels deep"),
        ("purchase_id=1\njust text", "line 2: expected name=value"),
        ("=1", "every parameter needs a name"),
        ("a=\x00", "NUL characters"),
        ("a=\ud800", "not Unicode text"),
        ('{"a": "\\ud800"}', "not Unicode text"),
        ({"a": {"b": "\ud800"}}, "not Unicode text"),
        (42, "name=value lines, a JSON object, or an object"),
    ],
)
def test_refused_bodies(body, why):
    error = refused(body=body)
    assert error.field == "body"
    assert why in error.message


def test_body_size_is_capped_by_setting(settings):
    settings.APICALL_MAX_REQUEST_BYTES = 100
    assert call_spec(method="POST", url="ping", body="a=" + "x" * 90).body
    assert "longer than 100 bytes" in refused(body="a=" + "x" * 101).message
    # Encoding can triple the size: the cap holds for what is sent.
    assert "when encoded; at most 100" in refused(body="a=" + "ä" * 40).message


def test_get_has_no_body():
    error = refused(method="GET", body="a=1")
    assert error.field == "body" and "GET request has no body" in error.message


# --- Writes -------------------------------------------------------------------------------------


def test_reads_need_no_confirmation():
    spec = call_spec(method="POST", url="getPurchase?purchase_id=1")
    assert spec.is_write is False


@pytest.mark.parametrize("url", ["refundTransaction", "ipnSetup", "requestApiKey", "deleteAll"])
def test_a_write_needs_confirmation(url):
    error = refused(url=url)
    assert error.field == "confirm_write"
    assert error.message.endswith("; confirm to run it")
    spec = call_spec(method="POST", url=url, confirm_write=True)
    assert spec.is_write is True


@pytest.mark.parametrize("confirm", [False, None, "false", "yes", 1])
def test_only_true_confirms(confirm):
    assert refused(url="refundTransaction", confirm_write=confirm).field == "confirm_write"


def test_the_confirmation_says_why():
    assert refused(url="refundTransaction").message == (
        "this changes data in Digistore24; confirm to run it"
    )
    assert refused(url="deleteAll").message.startswith(
        "deleteAll is not a known read function, so it counts as a change"
    )


def test_a_write_on_a_read_only_key_is_refused_even_when_confirmed():
    error = refused(url="refundTransaction", confirm_write=True, key_read_only=True)
    assert error.field == "connection"
    assert "read-only" in error.message
    assert call_spec(method="POST", url="getPurchase", key_read_only=True).is_write is False


# --- Back to the form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        (("purchase_id", "ABC"), ("buyer[email]", "a@b.de")),
        (("note", "two\nlines"), ("pad", " x ")),
        (("a=b", "1"),),
        (("{x", "1"),),
    ],
)
def test_body_text_reads_back_to_the_same_pairs(body):
    text = body_text(body)
    assert call_spec(method="POST", url="ping", body=text).body == body


def test_body_text_is_lines_when_it_can_be():
    assert body_text((("a", "1"), ("b", "2"))) == "a=1\nb=2"
    assert json.loads(body_text((("a", "x\ny"),))) == {"a": "x\ny"}


def test_headers_text_reads_back():
    headers = (("Accept", "text/plain"), ("X-Trace", "a b"))
    assert call_spec(method="POST", url="ping", headers=headers_text(headers)).headers == headers
