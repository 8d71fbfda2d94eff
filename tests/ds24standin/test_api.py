"""The stand-in's API: positional and named parameters, permissions, and every catalogue
function answering a well-formed envelope."""

import time

import pytest

from connections import catalogue
from connections.catalogue import Access
from tests.conftest import DEVELOPER_KEY, FULL_KEY, READ_ONLY_KEY
from tests.ds24standin.conftest import call, error, ok, payment_of

ETICKET = "10000000000000004711"  # the first seeded ticket (DEMO0003's)
RETURN_URL = "https://app.example/back"


def positional(function: str, named: dict) -> dict:
    """The same call as the PHP connector sends it: arg1…argN in the catalogue's order."""
    order = [param.name for param in catalogue.get(function).params]
    fields = {}
    for key, value in named.items():
        base, bracket, rest = key.partition("[")
        fields[f"arg{order.index(base) + 1}{bracket}{rest}"] = value
    return fields


# (function, named parameters; a callable gets the stand-in for ids it must look up)
SAME_ANSWER = [
    ("ping", {}),
    ("getUserInfo", {}),
    ("getGlobalSettings", {}),
    ("listProducts", {"sort_by": "name"}),
    ("getProduct", {"product_id": "102"}),
    (
        "listPurchases",
        {
            "from": "-14d",
            "to": "now",
            "search[currency]": "EUR",
            "sort_by": "amount",
            "sort_order": "asc",
            "page_size": "3",
        },
    ),
    ("getPurchase", {"purchase_id": "DEMO0002,DEMO0003"}),
    (
        "listTransactions",
        {"from": "-30d", "search[transaction_type]": "payment", "page_no": "2", "page_size": "4"},
    ),
    ("listBuyers", {"page_no": "2", "page_size": "5"}),
    ("getBuyer", {"buyer_id": "300003"}),
    ("listEtickets", {"search[product_id]": "103"}),
    ("getEticket", {"eticket_id": ETICKET}),
    ("validateEticket", {"eticket_id": ETICKET, "template_id": "5", "location_id": "77"}),
    ("getAffiliateForEmail", {"email": "buyer1@example.com"}),
    ("setAffiliateForEmail", {"email": "new@example.com", "affiliate": "kursblog"}),
    ("validateAffiliate", {"affiliate_name": "kursblog", "product_ids": "100,101"}),
    ("getAffiliateCommission", {"affiliate_id": "5001", "product_ids": "100"}),
    ("listCommissions", {"from": "-30d", "to": "now"}),
    ("statsSales", {"period": "week", "from": "-30d", "to": "today"}),
    ("statsAffiliateToplist", {"from": "-30d", "to": "now"}),
    (
        "createBuyUrl",
        {
            "product_id": "100",
            "buyer[email]": "b@example.com",
            "valid_until": "24h",
            "urls[thankyou_url]": "https://shop.example/thanks",
        },
    ),
    ("refundTransaction", lambda standin: {"transaction_id": payment_of(standin, "DEMO0003")}),
    ("refundPurchase", {"purchase_id": "DEMO0004"}),
    ("stopRebilling", {"purchase_id": "DEMO0002"}),
    ("startRebilling", {"purchase_id": "DEMO0008"}),
    ("ipnInfo", {"domain_id": "shop"}),
    ("ipnDelete", {"domain_id": "shop"}),
    ("requestApiKey", {"permissions": "writable", "return_url": RETURN_URL}),
]


def comparable(function: str, data: dict) -> dict:
    """The answer without what differs between two calls by nature: the clock, fresh tokens."""
    data = dict(data)
    if function == "ping":
        data.pop("server_time")
    if function == "createBuyUrl":
        data["url"] = data["url"].partition("?")[0]
    if function == "requestApiKey":
        data = {key: type(value) for key, value in data.items()}
    return data


@pytest.mark.parametrize(("function", "named"), SAME_ANSWER, ids=[c[0] for c in SAME_ANSWER])
def test_positional_and_named_calls_give_the_same_answer(standin, function, named):
    named = named(standin) if callable(named) else named
    by_name = ok(standin, function, named)
    standin.reset()  # writes would otherwise see the first call's change
    by_position = ok(standin, function, positional(function, named))
    assert comparable(function, by_position) == comparable(function, by_name)
    assert by_name  # every one of them answers something


def test_positional_objects_and_connector_fields(standin):
    """What DigistoreApi.php sends for listPurchases('-7d', 'now', ['email' => …])."""
    fields = {
        "arg1": "-30d",
        "arg2": "now",
        "arg3[email]": "buyer3@example.com",
        "language": "de",
        "operator": "support",
        "ds24ver": "1.1",
    }
    assert [p["id"] for p in ok(standin, "listPurchases", fields)["purchase_list"]] == ["DEMO0003"]
    assert ok(standin, "getPurchase", {"arg1": "DEMO0003"})["buyer"]["email"] == (
        "buyer3@example.com"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"arg1": "DEMO0003", "arg2": "x"}, "it takes 1 argument, arg2 was given"),
        ({"arg0": "DEMO0003"}, "it takes 1 argument, arg0 was given"),
        ({"arg1": "DEMO0003", "purchase_id": "DEMO0004"}, "given both by position and by name"),
        ({}, "The parameter 'purchase_id' is required."),
        ({"purchase_id[x]": "DEMO0003"}, "Parameter 'purchase_id' must be a single value."),
        ({"purchase_id": "NOPE"}, "Purchase NOPE not found."),
    ],
)
def test_bad_parameters_are_refused_with_a_message(standin, params, message):
    status, code, text = error(standin, "getPurchase", params)
    assert message in text
    assert (status, code) == ((404, 4) if "not found" in message else (400, 3))


def test_unknown_function_is_refused_as_digistore24_does(standin):
    assert call(standin, "getNothing")[1]["message"] == "Invalid API function called: getNothing()"
    # Not in the catalogue, so not known to the stand-in either: DS24 dropped the old name.
    assert error(standin, "globalSettings")[2] == "Invalid API function called: globalSettings()"


WRITES = sorted(name for name, f in catalogue.FUNCTIONS.items() if f.access is Access.WRITE)
ACCOUNT = sorted(
    name
    for name, f in catalogue.FUNCTIONS.items()
    if f.access is not Access.DEVELOPER and name != "ping"
)
KEY_FUNCTIONS = sorted(n for n, f in catalogue.FUNCTIONS.items() if f.access is Access.DEVELOPER)


@pytest.mark.parametrize("function", WRITES)
def test_read_only_key_is_refused_every_write(standin, function):
    assert error(standin, function, key=READ_ONLY_KEY) == (
        403,
        8,
        f"Insufficient access rights for {function}(): full access required.",
    )


@pytest.mark.parametrize("function", ACCOUNT)
def test_developer_key_is_refused_everything_but_the_key_functions(standin, function):
    needed = "full access" if function in WRITES else "read access or full access"
    assert error(standin, function, key=DEVELOPER_KEY) == (
        403,
        8,
        f"Insufficient access rights for {function}(): {needed} required.",
    )


@pytest.mark.parametrize("key", [READ_ONLY_KEY, FULL_KEY])
@pytest.mark.parametrize("function", KEY_FUNCTIONS)
def test_key_functions_need_a_developer_key(standin, function, key):
    assert error(standin, function, key=key)[2] == (
        f"Insufficient access rights for {function}(): a developer key is required."
    )


def test_read_only_key_reads_and_any_key_pings(standin):
    assert ok(standin, "listPurchases", key=READ_ONLY_KEY)["item_count"] == "24"
    for key in (READ_ONLY_KEY, FULL_KEY, DEVELOPER_KEY):
        assert ok(standin, "ping", key=key)["server_time"]


@pytest.mark.parametrize("permissions", ["readonly", "read-only"])
def test_interactive_key_request_hands_out_a_working_key(standin, permissions):
    request = ok(standin, "requestApiKey", {"permissions": permissions, "return_url": RETURN_URL})
    assert request["request_url"].startswith("https://")
    retrieved = ok(standin, "retrieveApiKey", {"token": request["request_token"]})
    assert retrieved["request_status"] == "completed"
    new_key = retrieved["api_key"]
    assert ok(standin, "getUserInfo", key=new_key)["user_name"] == "demo-vendor"
    assert error(standin, "refundTransaction", {"transaction_id": "1"}, key=new_key)[0] == 403
    assert error(standin, "retrieveApiKey", {"token": "forged"})[:2] == (404, 4)
    refused = error(standin, "requestApiKey", {"permissions": "root", "return_url": RETURN_URL})
    assert refused[2] == "permissions must be one of: read-only, readonly, writable."
    assert error(standin, "requestApiKey", {"permissions": "readonly"})[2] == (
        "The parameter 'return_url' is required."
    )


def required_value(standin, param: catalogue.Param, receiver) -> str:
    """A value each required parameter accepts in the seeded account."""
    known = {
        "product_id": "100",
        "purchase_id": "DEMO0002",
        "buyer_id": "300001",
        "transaction_id": payment_of(standin, "DEMO0003"),
        "eticket_id": ETICKET,
        "affiliate_id": "5001",
        "affiliate_name": "kursblog",
        "affiliate": "kursblog",
        "email": "buyer1@example.com",
        "domain_id": "shop",
        "name": "Shop",
        "ipn_url": receiver.url(),
        "permissions": "writable",
        "product_ids": "100",
        "template_id": "5",
        "location_id": "77",
        "from": "-30d",
        "to": "now",
    }
    by_type = {
        catalogue.Type.INTEGER: "1",
        catalogue.Type.DECIMAL: "1.00",
        catalogue.Type.BOOLEAN: "N",
        catalogue.Type.DATE: "today",
        catalogue.Type.DATETIME: "now",
        catalogue.Type.URL: "https://example.com/x",
        catalogue.Type.EMAIL: "someone@example.com",
        catalogue.Type.LIST: "1",
    }
    if param.name in known:
        return known[param.name]
    return param.choices[0] if param.choices else by_type.get(param.type, "x")


@pytest.mark.parametrize("function", sorted(catalogue.FUNCTIONS))
def test_every_catalogue_function_answers_a_well_formed_envelope(standin, receiver, function):
    spec = catalogue.get(function)
    params = {}
    for param in spec.required:
        if param.type is catalogue.Type.OBJECT:
            member = param.fields[0].name if param.fields else "name"
            params[f"{param.name}[{member}]"] = "x"
        elif param.name == "token":  # a real request token
            request = {"permissions": "readonly", "return_url": RETURN_URL}
            params["token"] = ok(standin, "requestApiKey", request)["request_token"]
        else:
            params[param.name] = required_value(standin, param, receiver)
    status, envelope = call(standin, function, params)
    assert status == 200, envelope
    assert set(envelope) == {
        "api_version",
        "current_time",
        "timezone",
        "utc_offset",
        "result",
        "data",
    }
    assert envelope["result"] == "success"
    assert isinstance(envelope["data"], dict)
    if spec.response == (catalogue.DATA_ITSELF,):
        return  # `data` is the answer as a whole: no key of it is documented
    assert set(spec.response) <= set(envelope["data"]), "the documented keys of `data`"


def test_a_reset_restores_the_same_account_whatever_the_clock_says(standin):
    """Tests compare answers across resets; a seed taken anew would move every date with the
    clock (this made the positional/named comparison fail whenever a second passed between)."""
    before = ok(standin, "listPurchases", {"page_size": "5"})
    time.sleep(1.1)  # past the next whole second, the resolution of the seeded timestamps
    standin.reset()
    assert ok(standin, "listPurchases", {"page_size": "5"}) == before
