"""Properties of the IPN receiver (webhooks.views.receive), through the Django test client:
generated methods, content types, bodies and query strings, signed right, signed wrong and
not signed at all, sent to a signed webhook, an unsigned one, one that has lost its
passphrase, an inactive one and an unknown token.

For every request: no 500 (the test client re-raises what the view raises); the status and
body are a row of the contract table in the view's docstring, parsed from it; a rejection
is recorded as a RejectedDelivery exactly when that row says "recorded"; `OK` to a delivery
means the notification is in the database (a new row or a counted redelivery) and anything
else stores nothing; and no event is ever stored for a webhook that requires a signature
unless its sha_sign verifies with the webhook's passphrase.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode

import hypothesis
import pytest
from django.db.models import Max, Sum
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import PASSPHRASE, PROPERTIES, follow_up
from webhooks import views
from webhooks.ipn import KNOWN_EVENTS
from webhooks.models import Event, RejectedDelivery, Webhook
from webhooks.services import webhook_create
from webhooks.signing import signature, verify

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
MAX_BODY = 2048  # small, so that oversize deliveries are cheap to generate


@dataclass(frozen=True)
class Row:
    status: int
    body: re.Pattern
    retried: str  # "no", "yes" or "recorded"
    literal: int  # characters of the body written out, not wildcards: how specific the row is


def contract() -> list[Row]:
    """The rows of the table in receive's docstring. A body is matched as written there, where
    `...` and `<why>` stand for any text and `N` for a number; what follows a comma may be
    description ("OK, counted on the first event") or text ("not stored, retry later")."""
    rows = []
    for line in views.receive.__doc__.splitlines():
        match = re.search(
            r"\s(?P<status>[1-5]\d\d)\s{2,}(?P<body>\S.*?)\s+(?P<retried>no|yes|recorded)\s*$",
            line,
        )
        if match:
            body = match["body"]
            pattern = "|".join(map(_template, {body, body.split(", ")[0]}))
            literal = len(re.sub(r"\.\.\.|<why>|\bN\b", "", body))
            rows.append(Row(int(match["status"]), re.compile(pattern), match["retried"], literal))
    return rows


def _template(body: str) -> str:
    return "".join(
        ".+" if part in ("...", "<why>") else r"\d+" if part == "N" else re.escape(part)
        for part in re.split(r"(\.\.\.|<why>|\bN\b)", body)
    )


CONTRACT = contract()


def test_the_contract_table_is_read_whole():
    # Every row of the table, so that a row the parser missed cannot pass unnoticed.
    assert len(CONTRACT) == 15
    assert {row.status for row in CONTRACT} == {200, 400, 403, 404, 405, 413, 415, 503}


# --- what is sent -------------------------------------------------------------------------------

unicode_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
field_names = st.one_of(
    st.sampled_from(["order_id", "transaction_id", "product_id", "amount_brutto", "email"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10),
    unicode_text.filter(bool),
).filter(lambda key: key not in ("event", "sha_sign", "SHASIGN"))
notifications = st.builds(
    lambda event, fields: {"event": event, **fields},
    st.one_of(st.sampled_from(KNOWN_EVENTS), unicode_text.filter(bool)),
    st.dictionaries(field_names, st.one_of(st.just(""), unicode_text), max_size=6),
)


@st.composite
def signed_forms(draw) -> tuple[str, bytes]:
    """("valid", body) for a notification signed with the passphrase as Digistore24 may sign it,
    ("forged", body) for one whose signature cannot verify."""
    params = draw(notifications)
    variant = draw(st.sampled_from([{}, {"uppercase_keys": True}, {"html_decode": True}]))
    how = draw(
        st.sampled_from(
            ["valid"] * 3 + ["other passphrase", "changed value", "no sha_sign", "junk"]
        )
    )
    passphrase = "another passphrase" if how == "other passphrase" else PASSPHRASE
    sha_sign = signature(params.items(), passphrase, **variant)
    if how == "changed value":
        params = {**params, "order_id": params.get("order_id", "") + "1"}
    if how == "junk":
        sha_sign = draw(st.one_of(st.text(max_size=130), st.just(sha_sign[:-1] + "0")))
    field = draw(st.sampled_from(["sha_sign", "SHASIGN"]))
    pairs = [*params.items()] + ([] if how == "no sha_sign" else [(field, sha_sign)])
    pairs = draw(st.permutations(pairs))
    form = urlencode(pairs).encode()
    valid = how == "valid" and len(form) <= MAX_BODY
    return ("valid" if valid else "forged"), form


hostile_forms = st.one_of(
    st.binary(max_size=64),
    st.lists(
        st.sampled_from([b"&", b"=", b"event", b"sha_sign", b"%00", b"%ff", b"\xff", b"a", b"+"]),
        max_size=12,
    ).map(b"".join),
    st.builds(lambda n: b"event=x&a=" + b"y" * n, st.integers(MAX_BODY - 20, MAX_BODY + 20)),
).map(lambda body: ("hostile", body))

FORM_TYPES = [FORM, f"{FORM}; charset=utf-8", f"{FORM}; Charset=UTF8"]
content_types = st.one_of(
    st.sampled_from(FORM_TYPES),
    st.sampled_from(
        [f"{FORM};charset=latin-1", "APPLICATION/X-WWW-FORM-URLENCODED", "application/json",
         "multipart/form-data", "text/plain", "", f"{FORM}; charset", f"{FORM}; boundary=x"]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
)  # fmt: skip
targets = st.sampled_from(["signed", "signed", "unsigned", "no passphrase", "inactive", "unknown"])


def shaped(form) -> st.SearchStrategy[dict]:
    """Requests shaped as Digistore24 sends them, carrying `form` (and a HEAD of the same, which
    must store nothing)."""
    return st.fixed_dictionaries(
        {
            "target": targets,
            "method": st.sampled_from(["POST", "POST", "POST", "GET", "GET", "HEAD"]),
            "form": form,
            "content_type": st.sampled_from(FORM_TYPES),
            "in_query": st.just(False),
            "slash": st.booleans(),
        }
    )


# Two thirds of the requests are shaped as Digistore24 sends them (signed right or wrong, or
# malformed), so that the rows past the early refusals are reached often; the rest are anything.
requests = st.one_of(
    shaped(signed_forms()),
    shaped(hostile_forms),
    st.fixed_dictionaries(
        {
            "target": targets,
            "method": st.sampled_from(["POST"] * 3 + ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]),
            "form": st.one_of(signed_forms(), hostile_forms),
            "content_type": content_types,
            "in_query": st.booleans(),
            "slash": st.booleans(),
        }
    ),
)


def carries_ipn(query: str) -> bool:
    """The docstring's "a GET whose query string carries event or sha_sign"."""
    keys = {unquote_plus(field.partition("=")[0]) for field in query.split("&")}
    return bool(keys & {"event", "sha_sign", "SHASIGN"})


# --- the property -------------------------------------------------------------------------------


@pytest.fixture
def webhooks(db):
    signed = webhook_create(name="Signed", kind="payments", passphrase=PASSPHRASE)
    unsigned = webhook_create(name="Unsigned", kind="all", unsigned=True)
    # Passphrase lost (say, cleared in the database): a signature is required and can never
    # be checked, so nothing may be stored.
    lost = webhook_create(name="Lost", kind="all", passphrase=PASSPHRASE)
    Webhook.objects.filter(pk=lost.pk).update(passphrase="")
    inactive = webhook_create(name="Inactive", kind="all", passphrase=PASSPHRASE)
    Webhook.objects.filter(pk=inactive.pk).update(active=False)
    return {
        "signed": signed,
        "unsigned": unsigned,
        "no passphrase": Webhook.objects.get(pk=lost.pk),
        "inactive": Webhook.objects.get(pk=inactive.pk),
    }


def path_of(webhooks, target: str, slash: bool) -> str:
    token = webhooks[target].token if target in webhooks else "unknown-token_0"
    return f"/ipn/{token}/" if slash else f"/ipn/{token}"


def received(webhook) -> tuple[int, int]:
    """(events, deliveries counted on them) of a webhook."""
    totals = Event.objects.filter(webhook=webhook).aggregate(n=Max("id"), d=Sum("delivery_count"))
    return totals["n"] or 0, totals["d"] or 0


def test_every_answer_is_from_the_contract_and_nothing_unverified_is_stored(
    client, webhooks, settings
):
    settings.IPN_MAX_BODY_BYTES = MAX_BODY
    settings.REJECTED_KEEP = 10_000  # no pruning: every recorded rejection is still there
    seen = {"stored": 0, "recorded": 0, "statuses": set()}

    @given(request=requests)
    @hypothesis.settings(
        hypothesis.settings.get_profile(PROPERTIES),
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    def check(request):
        target, method, content_type = request["target"], request["method"], request["content_type"]
        kind, body = request["form"]
        webhook = webhooks.get(target)
        # A GET carries its form in the query string; a POST sometimes has one too (ignored).
        query = body if method in ("GET", "HEAD") or request["in_query"] else b""
        extra = {"QUERY_STRING": query.decode("latin-1")} if query else {}  # WSGI's reading
        before = {name: received(hook) for name, hook in webhooks.items()}
        last_rejected = RejectedDelivery.objects.aggregate(n=Max("id"))["n"] or 0

        response = client.generic(
            method,
            path_of(webhooks, target, request["slash"]),
            data=body if method not in ("GET", "HEAD") else b"",
            content_type=content_type,
            **extra,
        )
        follow_up()  # what the receiver kept goes into the event log, as a worker does it

        assert response.status_code != 500
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        text = response.content.decode()
        # HEAD answers carry no body (the test client drops it, as servers do): status only.
        rows = [
            row
            for row in CONTRACT
            if row.status == response.status_code and (method == "HEAD" or row.body.fullmatch(text))
        ]
        assert rows, f"{response.status_code} {text!r} is not in the contract table"
        # Where the table's first column alone decides the row, it is that row.
        carries = carries_ipn(query.decode("latin-1"))
        expected = (
            405 if method not in ("GET", "HEAD", "POST") else
            404 if target == "unknown" else
            200 if method != "POST" and not carries else
            405 if method == "HEAD" else
            503 if target == "inactive" else None
        )  # fmt: skip
        assert expected in (None, response.status_code)
        recorded = RejectedDelivery.objects.filter(id__gt=last_rejected)
        # Where a body fits a general row ("ERROR: <why>") and a specific one, the specific.
        if max(rows, key=lambda row: row.literal).retried == "recorded":
            assert [(r.webhook_id, r.status_code) for r in recorded] == [
                (webhook.pk, response.status_code)
            ]
            seen["recorded"] += 1
        else:
            assert not recorded.exists()

        delivery = method == "POST" or (method == "GET" and carries)
        ok = response.status_code == 200 and text == "OK"
        for name, hook in webhooks.items():
            (last_id, deliveries), (last_before, deliveries_before) = received(hook), before[name]
            if name == target and ok and delivery:
                # OK to a delivery: the notification is committed, as one more delivery counted
                # on a new row or on the row it repeats.
                assert deliveries == deliveries_before + 1
                seen["stored"] += 1
            else:
                assert (last_id, deliveries) == (last_before, deliveries_before)
            for event in Event.objects.filter(webhook=hook, id__gt=last_before):
                if hook.passphrase or not hook.accept_unsigned:
                    assert event.signature == Event.Signature.VERIFIED
                    assert verify(dict(map(tuple, event.payload)), hook.passphrase)
                else:
                    assert event.signature == Event.Signature.UNSIGNED

        # What Digistore24 itself sends to a webhook that is set up right is always taken.
        form_posted = (
            method == "POST"
            and content_type.split(";")[0].lower() == FORM
            and (content_type == FORM or content_type.lower().endswith(("charset=utf-8", "utf8")))
        )
        if kind == "valid" and target == "signed" and (form_posted or method == "GET"):
            assert (response.status_code, text) == (200, "OK")
        seen["statuses"].add(response.status_code)

    check()
    # The generated requests reached the interesting rows, not only the early refusals.
    assert seen["stored"] >= 10 and seen["recorded"] >= 10, seen
    assert {200, 400, 403, 404, 405, 413, 415, 503} <= seen["statuses"], seen
