"""The function catalogue against the reference list of shared/digistore24.md §5.5."""

import ast
from pathlib import Path

import pytest

from connections import catalogue
from connections.catalogue import Access, Type

# §5.5, group by group, in its order. This is the reference: the catalogue must match it.
SECTION_5_5 = {
    "System and account": [
        "ping", "getUserInfo", "getGlobalSettings", "listAccountAccess", "listCountries",
        "listCurrencies", "requestApiKey", "retrieveApiKey", "unregister", "getTestpayKey",
    ],
    "IPN connections": ["ipnSetup", "ipnInfo", "ipnDelete"],
    "Purchases": [
        "getPurchase", "listPurchases", "listPurchasesOfEmail", "getPurchaseTracking",
        "getPurchaseDownloads", "getCustomerToAffiliateBuyerDetails", "updatePurchase",
        "addBalanceToPurchase", "createAddonChangePurchase", "createUpgradePurchase",
        "refundPurchase", "refundPartially", "resendPurchaseConfirmationMail", "logMemberAccess",
    ],
    "Transactions and rebilling": [
        "listTransactions", "refundTransaction", "stopRebilling", "startRebilling",
        "createRebillingPayment", "listRebillingStatusChanges", "createBillingOnDemand",
        "reportFraud",
    ],
    "Checkout": ["createBuyUrl", "listBuyUrls", "deleteBuyUrl", "renderJsTrackingCode"],
    "Products, payment plans, order forms and images": [
        "listProducts", "getProduct", "createProduct", "updateProduct", "copyProduct",
        "deleteProduct", "listProductTypes",
        "listPaymentPlans", "createPaymentplan", "updatePaymentplan", "deletePaymentplan",
        "listProductGroups", "getProductGroup", "createProductGroup", "updateProductGroup",
        "deleteProductGroup",
        "listOrderforms", "getOrderform", "getOrderformMetas", "createOrderform",
        "updateOrderform", "deleteOrderform",
        "listImages", "getImage", "createImage", "deleteImage",
        "getUpsells", "updateUpsells", "deleteUpsells",
        "listUpgrades", "getUpgrade", "createUpgrade", "deleteUpgrade",
        "listSmartUpgrades", "getSmartupgrade",
        "listShippingCostPolicies", "getShippingCostPolicy", "createShippingCostPolicy",
        "updateShippingCostPolicy", "deleteShippingCostPolicy",
    ],
    "Vouchers and conversion tools": [
        "listVouchers", "getVoucher", "createVoucher", "updateVoucher", "deleteVoucher",
        "validateCouponCode", "listConversionTools",
    ],
    "Buyers, invoices and deliveries": [
        "listBuyers", "getBuyer", "updateBuyer", "listInvoices", "resendInvoiceMail",
        "listDeliveries", "getDelivery", "updateDelivery", "listCustomFormRecords",
        "validateLicenseKey",
    ],
    "E-tickets": [
        "listEtickets", "getEticket", "createEticket", "validateEticket", "getEticketSettings",
        "listEticketLocations", "listEticketTemplates",
    ],
    "Affiliates": [
        "getAffiliateCommission", "updateAffiliateCommission", "validateAffiliate",
        "getAffiliateForEmail", "setAffiliateForEmail", "getReferringAffiliate",
        "setReferringAffiliate", "listCommissions",
    ],
    "Marketplace, statistics and payouts": [
        "listMarketplaceEntries", "getMarketplaceEntry", "statsMarketplace", "statsSales",
        "statsSalesSummary", "statsDailyAmounts", "statsAffiliateToplist", "statsExpectedPayouts",
        "listPayouts", "listServiceProofRequests", "getServiceProofRequest",
        "updateServiceProofRequest",
    ],
}  # fmt: skip
REFERENCE_NAMES = [name for names in SECTION_5_5.values() for name in names]
PROJECT = Path(__file__).resolve().parents[2]


def names(params):
    return [param.name for param in params]


def param(function_name, param_name):
    return next(p for p in catalogue.FUNCTIONS[function_name].params if p.name == param_name)


def test_the_reference_list_is_the_123_functions_of_section_5_5():
    assert len(REFERENCE_NAMES) == len(set(REFERENCE_NAMES)) == 123


def test_every_function_of_section_5_5_is_catalogued_and_nothing_else():
    assert set(catalogue.FUNCTIONS) - set(REFERENCE_NAMES) == set()
    assert set(REFERENCE_NAMES) - set(catalogue.FUNCTIONS) == set()


def test_function_names_are_unique():
    # FUNCTIONS is a dict, so a second entry of a name would silently replace the first.
    listed = [function.name for function in catalogue._FUNCTIONS]
    assert len(listed) == len(set(listed))


def test_functions_are_grouped_as_section_5_5_groups_them():
    assert list(catalogue.GROUPS) == list(SECTION_5_5)
    for group, members in SECTION_5_5.items():
        assert [f.name for f in catalogue._FUNCTIONS if f.group == group] == members


@pytest.mark.parametrize(
    "name, access",
    [
        ("ping", Access.READ),
        ("getPurchase", Access.READ),
        ("listPurchases", Access.READ),
        ("ipnInfo", Access.READ),
        ("validateCouponCode", Access.READ),
        ("renderJsTrackingCode", Access.READ),
        ("getAffiliateForEmail", Access.READ),  # POST in the OpenAPI file, yet only reads
        ("validateEticket", Access.WRITE),  # marks the ticket used
        ("unregister", Access.WRITE),  # deletes the calling key
        ("ipnSetup", Access.WRITE),
        ("ipnDelete", Access.WRITE),
        ("createBuyUrl", Access.WRITE),
        ("refundTransaction", Access.WRITE),
        ("stopRebilling", Access.WRITE),
        ("getTestpayKey", Access.WRITE),  # do_recreate rotates the key
        ("requestApiKey", Access.DEVELOPER),
        ("retrieveApiKey", Access.DEVELOPER),
    ],
)
def test_access_of_known_functions(name, access):
    assert catalogue.FUNCTIONS[name].access is access
    assert catalogue.is_read(name) is (access is Access.READ)


def test_only_the_interactive_key_functions_need_a_developer_key():
    developer = {f.name for f in catalogue._FUNCTIONS if f.access is Access.DEVELOPER}
    assert developer == {"requestApiKey", "retrieveApiKey"}


def test_unknown_functions_are_not_reads():
    assert catalogue.get("noSuchFunction") is None
    assert catalogue.is_read("noSuchFunction") is False
    assert catalogue.is_read("") is False
    assert catalogue.is_read("getpurchase") is False  # names are case-sensitive


@pytest.mark.parametrize(
    "name, required",
    [
        ("getPurchase", ["purchase_id"]),
        ("createBuyUrl", ["product_id"]),
        ("validateEticket", ["eticket_id", "template_id", "location_id"]),
        ("logMemberAccess", [
            "purchase_id", "platform_name", "login_name", "login_url",
            "number_of_unlocked_lectures", "total_number_of_lectures",
        ]),
        ("createEticket", ["buyer", "product_id", "location_id", "template_id", "date"]),
        ("ipnSetup", ["ipn_url", "name", "product_ids"]),  # the OpenAPI file: no domain_id
        ("ipnInfo", []),
        ("ipnDelete", ["domain_id"]),
        ("requestApiKey", ["permissions", "return_url"]),
        ("retrieveApiKey", ["token"]),
        ("refundTransaction", ["transaction_id"]),
        ("ping", []),
        ("listPurchases", []),
    ],
)  # fmt: skip
def test_required_parameters_of_known_functions(name, required):
    assert names(catalogue.FUNCTIONS[name].required) == required


@pytest.mark.parametrize(
    "name, order",
    [
        # The positional arg1…argN of Digistore24's connector map through these.
        ("listPurchases", [
            "from", "to", "search", "sort_by", "sort_order", "load_transactions", "page_no",
            "page_size",
        ]),
        ("listTransactions", [
            "from", "to", "search", "sort_by", "sort_order", "page_no", "page_size",
        ]),
        ("createBuyUrl", [
            "product_id", "buyer", "payment_plan", "tracking", "valid_until", "urls",
            "placeholders", "settings", "addons",
        ]),
        ("ipnSetup", [
            "ipn_url", "name", "product_ids", "domain_id", "categories", "transactions", "timing",
            "sha_passphrase", "newsletter_send_policy",
        ]),
        ("updateDelivery", ["delivery_id", "data", "tracking", "notify_via_email"]),
        ("createUpgrade", [
            "name", "to_product_id", "upgrade_from", "downgrade_from", "special_offer_for",
            "fallback_product_id", "is_active", "buyer_readonly_keys",
        ]),
        ("listCommissions", [
            "from", "to", "page_no", "page_size", "transaction_type", "commission_type",
            "purchase_id",
        ]),
        ("stopRebilling", ["purchase_id", "force", "ignore_refund_possibility"]),
        ("updatePurchase", ["purchase_id", "data"]),
        ("createVoucher", ["data"]),
    ],
)  # fmt: skip
def test_parameters_are_in_digistore24s_documented_order(name, order):
    assert names(catalogue.FUNCTIONS[name].params) == order


@pytest.mark.parametrize(
    "name, param_name, members",
    [
        ("createBuyUrl", "buyer", {"email", "first_name", "last_name", "readonly_keys"}),
        ("createBuyUrl", "payment_plan", {
            "first_amount", "other_amounts", "currency", "number_of_installments",
            "first_billing_interval", "other_billing_intervals", "test_interval",
        }),
        ("createBuyUrl", "tracking", {"custom", "affiliate", "campaignkey", "trackingkey"}),
        ("createBuyUrl", "urls", {"thankyou_url", "fallback_url", "upgrade_error_url"}),
        ("listPurchases", "search", {"email", "product_id", "purchase_id", "role"}),
        ("listTransactions", "search", {"transaction_type", "product_id"}),
        ("updatePurchase", "data", {"custom", "unlock_invoices", "next_payment_at"}),
        ("createEticket", "buyer", {"email", "first_name", "last_name"}),
    ],
)  # fmt: skip
def test_nested_objects_name_their_members(name, param_name, members):
    nested = param(name, param_name)
    assert nested.type is Type.OBJECT
    assert members <= set(names(nested.fields))


def test_every_list_function_names_the_key_that_carries_its_list():
    # Every list* function of §5.5 returns a list, which the console shows as a table.
    lists = [name for name in REFERENCE_NAMES if name.startswith("list")]
    assert [name for name in lists if not catalogue.FUNCTIONS[name].response] == []
    assert catalogue.FUNCTIONS["listPurchases"].response[0] == "purchase_list"
    assert catalogue.FUNCTIONS["listTransactions"].response[0] == "transaction_list"
    assert catalogue.FUNCTIONS["listProducts"].response[0] == "products"


def test_data_itself_is_the_whole_answer_or_nothing():
    # DATA_ITSELF means `data` is the answer as a whole, so it cannot sit beside named keys.
    whole = sorted(f.name for f in catalogue._FUNCTIONS if catalogue.DATA_ITSELF in f.response)
    assert whole == ["getGlobalSettings", "getProduct", "listCountries", "listCurrencies"]
    for name in whole:
        assert catalogue.FUNCTIONS[name].response == (catalogue.DATA_ITSELF,)


@pytest.mark.parametrize(
    "name, response",
    [
        # The function pages on dev.digistore24.com show these answers.
        ("getEticket", ("eticket",)),
        ("listCommissions", ("items",)),
        ("stopRebilling", (
            "modified", "rebilling_active", "billing_status", "next_payment_at", "note", "code",
        )),
        ("startRebilling", (
            "modified", "rebilling_active", "billing_status", "next_payment_at", "note",
        )),
        # GoSuccess's response classes (see the catalogue's comments).
        ("listBuyers", ("items",)),
        ("getBuyer", ("buyer",)),
    ],
)  # fmt: skip
def test_response_keys_of_known_functions(name, response):
    assert catalogue.FUNCTIONS[name].response == response


def test_every_entry_is_well_formed():
    for function in catalogue._FUNCTIONS:
        assert function.group in catalogue.GROUPS
        assert function.description and "\n" not in function.description, function.name
        assert function.description.endswith("."), function.name
        assert len(set(names(function.params))) == len(function.params), function.name
        for p in function.params:
            assert isinstance(p.type, Type), (function.name, p.name)
            # Members only make sense on an object; members are plain values.
            assert not p.fields or p.type is Type.OBJECT, (function.name, p.name)
            for member in p.fields:
                assert member.type is not Type.OBJECT and not member.fields, function.name


def python_files_outside_the_catalogue():
    skip = {".venv", "node_modules", ".git", "tests", "migrations"}
    catalogue_file = PROJECT / "connections" / "catalogue.py"
    for path in PROJECT.rglob("*.py"):
        if path != catalogue_file and not skip.intersection(path.relative_to(PROJECT).parts):
            yield path


def own_lists_of_function_names(path, root=PROJECT):
    """Set, list, tuple and dict literals in a module that hold two or more catalogued
    function names: a second copy of what the catalogue knows, bound to drift from it."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [key for key in node.keys if key is not None]
        else:
            continue
        listed = [
            item.value
            for item in items
            if isinstance(item, ast.Constant) and item.value in catalogue.FUNCTIONS
        ]
        if len(listed) >= 2:
            found.append((node.lineno, f"{path.relative_to(root)}:{node.lineno} {sorted(listed)}"))
    return [hit for _, hit in sorted(found)]


def test_the_scan_finds_a_module_with_its_own_list(tmp_path):
    module = tmp_path / "reads.py"
    module.write_text(
        'READS = frozenset({"ping", "getPurchase"})\n'
        'WRITES = {"ipnSetup": 1, "unregister": 2}\n'
        'ONE = ("ping", "not a function")\n'
    )
    assert own_lists_of_function_names(module, tmp_path) == [
        "reads.py:1 ['getPurchase', 'ping']",
        "reads.py:2 ['ipnSetup', 'unregister']",
    ]


def test_no_other_module_keeps_its_own_list_of_functions():
    # The client's read/write decision and the stand-in's permissions read the catalogue.
    found = [
        hit
        for path in python_files_outside_the_catalogue()
        for hit in own_lists_of_function_names(path)
    ]
    assert found == []
