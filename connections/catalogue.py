"""Digistore24's API functions as data (shared/digistore24.md §5.5): the one list that the
client (what is a read, and so may be retried), the stand-in (positional arguments, permissions,
answers) and the API-call console (picker, forms, write confirmation) all read.

Parameters are in Digistore24's documented order, because its own PHP connector sends them
positionally as arg1…argN. The order is the "Syntax" line of the function's page on
dev.digistore24.com, which the official OpenAPI file (as shipped in digistore24-mcp-server)
follows; where the two disagree a comment on the entry says which was taken. An object parameter
(`buyer`, `payment_plan`, `search`, `data`, …) is sent in bracket notation (`buyer[email]=…`);
its `fields` are the members the documentation names, and others may be sent too. A list of
objects (`addons`, `tracking` of updateDelivery, `files`) is indexed: `addons[0][product_id]=…`.

`response` names the keys of `data` that carry the answer; for list functions the first one is
the list a console shows as a table. DATA_ITSELF means `data` is the answer as a whole.

Pure Python: no Django, no models, so the stand-in and the benchmarks can import it alone.
"""

from dataclasses import dataclass
from enum import StrEnum


class Access(StrEnum):
    """What a key must be allowed to do to call a function (§5.3)."""

    READ = "read"  # read-only or full-access keys
    WRITE = "write"  # full-access keys only; changes data in Digistore24
    DEVELOPER = "developer"  # developer keys: interactive API key requests


class Type(StrEnum):
    """How a parameter's value is written; every value travels as a string."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # "49.00"
    BOOLEAN = "boolean"  # Y / N
    DATE = "date"  # 2026-02-28, today, or relative: -7d
    DATETIME = "datetime"  # 2026-02-28 23:11:24, now, or relative: -24h, -30m
    URL = "url"
    EMAIL = "email"
    LIST = "list"  # comma-separated
    OBJECT = "object"  # bracket notation: name[field]=value


@dataclass(frozen=True)
class Param:
    name: str
    type: Type = Type.STRING
    required: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()
    fields: tuple["Param", ...] = ()  # members of an OBJECT parameter


@dataclass(frozen=True)
class Function:
    name: str
    group: str
    access: Access
    description: str  # one line
    params: tuple[Param, ...] = ()
    response: tuple[str, ...] = ()  # the keys of `data` that carry the answer

    @property
    def is_read(self) -> bool:
        return self.access is Access.READ

    @property
    def required(self) -> tuple[Param, ...]:
        return tuple(param for param in self.params if param.required)


def _p(name, type=Type.STRING, *, required=False, description="", choices=(), fields=()):
    return Param(name, type, required, description, tuple(choices), tuple(fields))


# `data` is the answer as a whole (a list or a map), not one of its keys.
DATA_ITSELF = "."

# Short names keep the table below readable.
INT, DEC, BOOL, DATE, DATETIME = Type.INTEGER, Type.DECIMAL, Type.BOOLEAN, Type.DATE, Type.DATETIME
URL, EMAIL, LIST, OBJ = Type.URL, Type.EMAIL, Type.LIST, Type.OBJECT
R, W, DEV = Access.READ, Access.WRITE, Access.DEVELOPER

# The groups of §5.5, in its order.
SYSTEM = "System and account"
IPN = "IPN connections"
PURCHASES = "Purchases"
TRANSACTIONS = "Transactions and rebilling"
CHECKOUT = "Checkout"
PRODUCTS = "Products, payment plans, order forms and images"
VOUCHERS = "Vouchers and conversion tools"
BUYERS = "Buyers, invoices and deliveries"
ETICKETS = "E-tickets"
AFFILIATES = "Affiliates"
STATS = "Marketplace, statistics and payouts"

# Object members shared by several functions.
_BUYER = (
    _p("email", EMAIL), _p("salutation", choices=("M", "F")), _p("title"), _p("last_name"),
    _p("first_name"), _p("company"), _p("street"), _p("city"), _p("zipcode"), _p("state"),
    _p("country", description="two-letter code"), _p("phone_no"), _p("tax_id"),
    _p("readonly_keys", choices=("none", "email", "email_and_name", "all")),
    _p("id", description="buyer or order id whose address is used"),
)  # fmt: skip
_PAYMENT_PLAN = (
    _p("first_amount", DEC), _p("other_amounts", DEC), _p("currency"),
    _p("number_of_installments", INT, description="1 single payment, 0 subscription"),
    _p("first_billing_interval", description="e.g. 1_month"), _p("other_billing_intervals"),
    _p("test_interval"), _p("template"), _p("upgrade_order_id"),
    _p("upgrade_type", choices=("upgrade", "downgrade")),
    _p("tax_mode", choices=("as_set", "exclude", "include")),
)  # fmt: skip
# Billing on demand and add-on changes take these; createBuyUrl also the utm_* and priority.
_TRACKING = (_p("custom"), _p("affiliate"), _p("campaignkey"), _p("trackingkey"))
_BUY_URL_TRACKING = (
    *_TRACKING, _p("affiliate_priority", choices=("email", "as_set")), _p("utm_source"),
    _p("utm_medium"), _p("utm_campaign"), _p("utm_term"), _p("utm_content"),
)  # fmt: skip
_ADDON = (
    _p("product_id", INT, required=True), _p("first_amount", DEC), _p("other_amounts", DEC),
    _p("single_amount", DEC), _p("quantity", INT), _p("currency"),
    _p("is_quantity_editable_after_purchase", BOOL),
)  # fmt: skip
_ADDONS = "indexed list: addons[0][product_id]=…"
# listPurchases and listTransactions filter on the same members.
_SALES_SEARCH = (
    _p("role", LIST, description="vendor, affiliate, other"), _p("product_id", LIST),
    _p("first_name"), _p("last_name"), _p("email"), _p("has_affiliate", BOOL),
    _p("affiliate_name"), _p("order_type", choices=("live", "test")), _p("pay_method", LIST),
    _p("billing_type", LIST), _p("transaction_type", LIST), _p("currency"),
    _p("purchase_id", LIST),
)  # fmt: skip
_SORT = (
    _p("sort_by", choices=("date", "earning", "amount")),
    _p("sort_order", choices=("asc", "desc")),
)
_PAGE = (_p("page_no", INT), _p("page_size", INT))
_PRODUCT_DATA = (
    _p("name_intern"), _p("name_de"), _p("name_en"), _p("name_es"), _p("description_de"),
    _p("description_en"), _p("description_es"), _p("language", LIST), _p("note"),
    _p("salespage_url", URL), _p("upsell_salespage_url", URL), _p("thankyou_url", URL),
    _p("image_url", URL), _p("product_type_id", INT), _p("product_group_id", INT),
    _p("currency", LIST), _p("approval_status", choices=("new", "pending")),
    _p("affiliate_commission", DEC), _p("buyer_type", choices=("consumer", "business")),
    _p("is_active", BOOL), _p("is_address_input_mandatory", BOOL),
    _p("add_order_data_to_thankyou_page_url", BOOL),
)  # fmt: skip
_PAYMENT_PLAN_DATA = (
    _p("first_amount", DEC), _p("first_billing_interval"), _p("currency"),
    _p("other_amounts", DEC), _p("other_billing_intervals"),
    _p("number_of_installments", INT, description="0 subscription, 1 single, 2+ installments"),
    _p("is_active", BOOL), _p("cancel_policy", description="minimum term, e.g. 12m_0"),
)  # fmt: skip
_PRODUCT_GROUP_DATA = (_p("name", required=True), _p("position", INT), _p("is_shown_as_tab", BOOL))
_ORDERFORM_DATA = (
    _p("name"), _p("layout", choices=("widget", "legacy")), _p("product_id", INT),
    _p("paymentplan_id", INT), _p("is_active", BOOL), _p("custom_css"),
)  # fmt: skip
_SHIPPING_DATA = (
    _p("name"), _p("label_XX", description="order-form label; XX is a language code"),
    _p("position", INT), _p("is_active", BOOL), _p("for_product_ids", LIST),
    _p("for_countries", LIST), _p("for_currencies", LIST),
    _p("fee_type", choices=("total_fee", "fee_per_unit")),
    _p("billing_cycle", choices=("once", "monthly")), _p("currency"),
    _p("scale_level_count", INT), _p("scale_1_amount", DEC),
    _p("scale_2_from", INT), _p("scale_2_amount", DEC),
    _p("scale_3_from", INT), _p("scale_3_amount", DEC),
    _p("scale_4_from", INT), _p("scale_4_amount", DEC),
    _p("scale_5_from", INT), _p("scale_5_amount", DEC),
)  # fmt: skip
_VOUCHER_DATA = (
    _p("code", required=True), _p("product_ids", LIST), _p("valid_from", DATETIME),
    _p("expires_at", DATETIME), _p("first_rate", DEC), _p("other_rates", DEC),
    _p("first_amount", DEC), _p("other_amounts", DEC), _p("currency"),
    _p("is_count_limited", BOOL), _p("count_left", INT),
    _p("upgrade_policy", choices=("valid", "other_only", "not_valid")),
)  # fmt: skip
_BUYER_DATA = (
    _p("email", EMAIL), _p("first_name"), _p("last_name"), _p("salutation", choices=("M", "F")),
    _p("title"), _p("company"), _p("street_name"), _p("street_number"), _p("phone_number"),
    _p("city"), _p("zipcode"), _p("state"), _p("country"),
)  # fmt: skip

# Response keys marked "unverified" below come only from GoSuccess's docs, whose response shapes
# §0 warns are partly invented; no Digistore24 source in the corpus shows those answers.
_FUNCTIONS = (
    # System and account
    Function("ping", SYSTEM, R, "Tests the connection and returns the server time.",
             response=("server_time",)),
    Function("getUserInfo", SYSTEM, R, "Who the API key belongs to, and the account's roles.",
             response=("user_id", "user_name", "granted_roles", "granted_roles_msg")),
    Function("getGlobalSettings", SYSTEM, R,
             "System-wide settings: image sizes, product types, payment methods, languages.",
             response=(DATA_ITSELF,)),
    # The official OpenAPI file takes no parameters; GoSuccess's purchase_id is not followed.
    Function("listAccountAccess", SYSTEM, R,
             "Accounts granted access to, or by, the key owner's account.",
             response=("account_access",)),  # unverified
    Function("listCountries", SYSTEM, R, "Countries Digistore24 knows, by two-letter code.",
             response=(DATA_ITSELF,)),
    Function("listCurrencies", SYSTEM, R, "Currencies that can be sold in, with exchange rates.",
             (_p("convert_to", LIST, description="EUR, EUR,USD or all"),),
             response=(DATA_ITSELF,)),
    # The function's page names the values read-only and writable; key settings call the first
    # readonly (§5.3), so both spellings are offered.
    Function("requestApiKey", SYSTEM, DEV,
             "Starts an interactive API key request; the vendor confirms at request_url.",
             (_p("permissions", required=True, choices=("read-only", "readonly", "writable")),
              _p("return_url", URL, required=True), _p("cancel_url", URL), _p("site_url", URL),
              _p("comment")),
             response=("request_token", "request_url")),
    Function("retrieveApiKey", SYSTEM, DEV,
             "Collects the key of an interactive request once the vendor confirmed it.",
             (_p("token", required=True, description="request_token from requestApiKey"),),
             response=("api_key", "request_status", "note")),
    Function("unregister", SYSTEM, W,
             "Deletes the calling (interactively created) key and its IPN connections."),
    # Undocumented (ds24-skills); do_recreate rotates the key, so it counts as a write.
    Function("getTestpayKey", SYSTEM, W,
             "The key that puts a buy URL in test mode; do_recreate=Y issues a new one.",
             (_p("do_recreate", BOOL),),
             response=("testpay_key", "get_param_name", "expires_at")),
    # IPN connections
    # The page's syntax line leaves sha_passphrase out but describes it after timing, where the
    # OpenAPI file has it. Required as in the OpenAPI file; domain_id is what makes it unique.
    Function("ipnSetup", IPN, W,
             "Creates or updates the IPN connection identified by (API key, domain_id).",
             (_p("ipn_url", URL, required=True), _p("name", required=True),
              _p("product_ids", LIST, required=True, description="all, or product ids"),
              _p("domain_id"), _p("categories", LIST), _p("transactions", LIST),
              _p("timing", choices=("before_thankyou", "delayed")), _p("sha_passphrase"),
              _p("newsletter_send_policy")),
             response=("created", "updated", "deleted", "sha_passphrase", "ipn_id")),
    Function("ipnInfo", IPN, R, "The IPN connection registered for domain_id.",
             (_p("domain_id"),), response=("have_settings",)),
    Function("ipnDelete", IPN, W, "Deletes the IPN connection of this key and domain_id.",
             (_p("domain_id", required=True),), response=("modified",)),
    # Purchases
    Function("getPurchase", PURCHASES, R, "An order with its buyer, items and transactions.",
             (_p("purchase_id", LIST, required=True, description="order id, or a comma list"),),
             response=("transaction_list", "items", "buyer", "billing_status")),
    # The page calls the sixth argument show_transactions; the OpenAPI file load_transactions.
    Function("listPurchases", PURCHASES, R, "Orders created in a time range, filtered and paged.",
             (_p("from", DATETIME), _p("to", DATETIME), _p("search", OBJ, fields=_SALES_SEARCH),
              *_SORT, _p("load_transactions", BOOL), *_PAGE),
             response=("purchase_list",)),
    Function("listPurchasesOfEmail", PURCHASES, R, "Orders of one buyer email address.",
             (_p("email", EMAIL, required=True), _p("limit", INT)),
             response=("purchase_list",)),  # unverified
    Function("getPurchaseTracking", PURCHASES, R, "Tracking data of one or more orders.",
             (_p("purchase_id", LIST, required=True),)),
    Function("getPurchaseDownloads", PURCHASES, R, "Download files of one or more orders.",
             (_p("purchase_id", LIST, required=True),), response=("downloads",)),
    Function("getCustomerToAffiliateBuyerDetails", PURCHASES, R,
             "Customer-to-affiliate programme details of the buyers of orders.",
             (_p("purchase_id", LIST, required=True),)),
    Function("updatePurchase", PURCHASES, W,
             "Changes an order's tracking data, invoice access or next payment date.",
             (_p("purchase_id", required=True),
              _p("data", OBJ, required=True, fields=(
                  _p("tracking_param"), _p("custom"), _p("unlock_invoices", BOOL),
                  _p("next_payment_at", DATE)))),
             response=("is_modified",)),
    Function("addBalanceToPurchase", PURCHASES, W,
             "Adds (or, if negative, removes) balance billed with the next payments.",
             (_p("purchase_id", required=True), _p("amount", DEC, required=True)),
             response=("old_balance", "new_balance")),
    Function("createAddonChangePurchase", PURCHASES, W,
             "Adds or removes subscription add-ons of an order (billing on demand).",
             (_p("purchase_id", required=True),
              _p("addons", OBJ, required=True, description=_ADDONS, fields=(
                  _p("product_id", INT, required=True), _p("amount", DEC), _p("quantity", INT),
                  _p("is_quantity_editable_after_purchase", BOOL))),
              _p("tracking", OBJ, fields=_TRACKING),
              _p("placeholders", OBJ))),
    Function("createUpgradePurchase", PURCHASES, W,
             "Upgrades an order without the buyer's interaction (billing on demand).",
             (_p("purchase_ids", LIST, required=True), _p("upgrade_id", required=True),
              _p("payment_plan_id"),
              _p("quantities", OBJ, description="by item position or product id")),
             response=("new_purchase", "upgrade_info")),
    Function("refundPurchase", PURCHASES, W, "Refunds every refundable payment of an order.",
             (_p("purchase_id", required=True), _p("force", BOOL), _p("request_date", DATE))),
    Function("refundPartially", PURCHASES, W,
             "Refunds part of a payment as a discount; the order's status stays.",
             (_p("purchase_id", required=True), _p("amount", DEC, required=True))),
    Function("resendPurchaseConfirmationMail", PURCHASES, W,
             "Sends the order confirmation email again.",
             (_p("purchase_id", required=True),)),
    Function("logMemberAccess", PURCHASES, W,
             "Records a buyer's login to the bought content, as proof of delivery.",
             (_p("purchase_id", required=True), _p("platform_name", required=True),
              _p("login_name", required=True), _p("login_url", URL, required=True),
              _p("number_of_unlocked_lectures", INT, required=True),
              _p("total_number_of_lectures", INT, required=True), _p("login_at", DATETIME))),
    # Transactions and rebilling
    Function("listTransactions", TRANSACTIONS, R,
             "Payments, refunds and chargebacks created in a time range.",
             (_p("from", DATETIME), _p("to", DATETIME), _p("search", OBJ, fields=_SALES_SEARCH),
              *_SORT, *_PAGE),
             response=("transaction_list",)),
    Function("refundTransaction", TRANSACTIONS, W, "Refunds one payment.",
             (_p("transaction_id", INT, required=True), _p("force", BOOL),
              _p("request_date", DATE)),
             response=("note",)),
    Function("stopRebilling", TRANSACTIONS, W, "Stops the recurring payments of an order.",
             (_p("purchase_id", required=True), _p("force", BOOL),
              _p("ignore_refund_possibility", BOOL)),
             response=("modified", "rebilling_active", "billing_status", "next_payment_at",
                       "note", "code")),
    Function("startRebilling", TRANSACTIONS, W, "Resumes stopped recurring payments.",
             (_p("purchase_id", required=True),),
             response=("modified", "rebilling_active", "billing_status", "next_payment_at",
                       "note")),
    # The page and the OpenAPI file take purchase_id alone (§5.5 also listed data).
    Function("createRebillingPayment", TRANSACTIONS, W,
             "Triggers the next payment of a by-trigger payment plan (billing on demand).",
             (_p("purchase_id", required=True),),
             response=("payment_status", "payment_message", "billing_status")),
    Function("listRebillingStatusChanges", TRANSACTIONS, R,
             "Subscription status changes (stopped, resumed…) in a time range.",
             (_p("from", DATETIME), _p("to", DATETIME), *_PAGE), response=("items",)),
    Function("createBillingOnDemand", TRANSACTIONS, W,
             "Charges a rebilling-capable order for another product (billing on demand).",
             (_p("purchase_id", required=True), _p("product_id", INT, required=True),
              _p("payment_plan", OBJ, fields=_PAYMENT_PLAN), _p("tracking", OBJ, fields=_TRACKING),
              _p("placeholders", OBJ),
              _p("settings", OBJ, fields=(_p("voucher_code"), _p("quantity", INT),
                                          _p("product_country"))),
              _p("addons", OBJ, description=_ADDONS, fields=_ADDON))),
    Function("reportFraud", TRANSACTIONS, W, "Reports a transaction's buyer or affiliate.",
             (_p("transaction_id", INT, required=True),
              _p("who", required=True, choices=("buyer", "affiliate")),
              _p("comment", required=True))),
    # Checkout
    Function("createBuyUrl", CHECKOUT, W,
             "An order-form URL with buyer data, price and tracking filled in.",
             (_p("product_id", INT, required=True), _p("buyer", OBJ, fields=_BUYER),
              _p("payment_plan", OBJ, fields=_PAYMENT_PLAN),
              _p("tracking", OBJ, fields=_BUY_URL_TRACKING),
              _p("valid_until", description="e.g. 2h, 24h or forever"),
              _p("urls", OBJ, fields=(_p("thankyou_url", URL), _p("fallback_url", URL),
                                      _p("upgrade_error_url", URL))),
              _p("placeholders", OBJ),
              _p("settings", OBJ, fields=(
                  _p("orderform_id"), _p("img"), _p("affiliate_commission_rate", DEC),
                  _p("affiliate_commission_fix", DEC), _p("voucher_code"),
                  _p("voucher_1st_rate", DEC), _p("voucher_oth_rates", DEC),
                  _p("voucher_1st_amount", DEC), _p("voucher_oth_amounts", DEC),
                  _p("force_rebilling", BOOL), _p("pay_methods", LIST))),
              _p("addons", OBJ, description=_ADDONS, fields=_ADDON)),
             response=("url", "id", "valid_until")),
    Function("listBuyUrls", CHECKOUT, R, "Buy URLs created with createBuyUrl.",
             response=("buyurls",)),
    Function("deleteBuyUrl", CHECKOUT, W, "Deletes a buy URL.", (_p("id", INT, required=True),)),
    Function("renderJsTrackingCode", CHECKOUT, R,
             "JavaScript that copies affiliate, campaign and tracking key into a form.",
             (_p("affiliate_input"), _p("campaignkey_input"), _p("trackingkey_input"),
              _p("callback"))),
    # Products, payment plans, order forms and images
    Function("listProducts", PRODUCTS, R, "The account's products.",
             (_p("sort_by", choices=("name", "group")),), response=("products",)),
    # show_deleted is in HEPTACOM's file only; it comes last, so it shifts nothing.
    Function("getProduct", PRODUCTS, R, "One product with its payment plans.",
             (_p("product_id", INT, required=True), _p("show_deleted", BOOL)),
             response=(DATA_ITSELF,)),
    Function("createProduct", PRODUCTS, W, "Creates a product.",
             (_p("data", OBJ, required=True, fields=_PRODUCT_DATA),)),
    Function("updateProduct", PRODUCTS, W, "Changes a product's properties.",
             (_p("product_id", INT, required=True),
              _p("data", OBJ, required=True, fields=_PRODUCT_DATA)),
             response=("is_modified",)),
    Function("copyProduct", PRODUCTS, W, "Copies a product, changing the given properties.",
             (_p("product_id", INT, required=True),
              _p("data", OBJ, required=True, fields=_PRODUCT_DATA))),
    Function("deleteProduct", PRODUCTS, W, "Deletes a product (cleanly only if never sold).",
             (_p("product_id", INT, required=True),)),
    Function("listProductTypes", PRODUCTS, R, "Product types a product can have.",
             response=("product_types",)),  # unverified
    Function("listPaymentPlans", PRODUCTS, R, "Payment plans of a product.",
             (_p("product_id", INT, required=True),),
             response=("paymentplans",)),  # unverified
    # The page's syntax line reads createPaymentplan(data) but it and the OpenAPI file
    # describe product_id first.
    Function("createPaymentplan", PRODUCTS, W, "Adds a payment plan to a product.",
             (_p("product_id", INT, required=True),
              _p("data", OBJ, required=True, fields=_PAYMENT_PLAN_DATA)),
             response=("paymentplan_id", "is_valid")),
    Function("updatePaymentplan", PRODUCTS, W, "Changes a payment plan.",
             (_p("paymentplan_id", INT, required=True),
              _p("data", OBJ, required=True, fields=_PAYMENT_PLAN_DATA))),
    Function("deletePaymentplan", PRODUCTS, W, "Deletes a payment plan.",
             (_p("paymentplan_id", INT, required=True),)),
    Function("listProductGroups", PRODUCTS, R, "Product groups (folders of products).",
             response=("items",)),
    Function("getProductGroup", PRODUCTS, R, "One product group.",
             (_p("product_group_id", INT, required=True),)),
    Function("createProductGroup", PRODUCTS, W, "Creates a product group.",
             (_p("data", OBJ, required=True, fields=_PRODUCT_GROUP_DATA),)),
    Function("updateProductGroup", PRODUCTS, W, "Changes a product group.",
             (_p("product_group_id", INT, required=True),
              _p("data", OBJ, required=True, fields=_PRODUCT_GROUP_DATA))),
    Function("deleteProductGroup", PRODUCTS, W, "Deletes a product group.",
             (_p("product_group_id", INT, required=True),)),
    # layout is in HEPTACOM's file only.
    Function("listOrderforms", PRODUCTS, R, "Order forms of the account.",
             (_p("layout", choices=("all", "orderform_responsive", "orderform_widget",
                                    "orderform_legacy")),),
             response=("orderforms",)),
    Function("getOrderform", PRODUCTS, R, "One order form.",
             (_p("orderform_id", INT, required=True),)),
    Function("getOrderformMetas", PRODUCTS, R, "The options an order form may be set to."),
    Function("createOrderform", PRODUCTS, W, "Creates an order form.",
             (_p("data", OBJ, required=True, fields=_ORDERFORM_DATA),)),
    Function("updateOrderform", PRODUCTS, W, "Changes an order form.",
             (_p("orderform_id", INT, required=True),
              _p("data", OBJ, required=True, fields=_ORDERFORM_DATA))),
    Function("deleteOrderform", PRODUCTS, W, "Deletes an order form.",
             (_p("orderform_id", INT, required=True),)),
    Function("listImages", PRODUCTS, R, "Images of one usage type.",
             (_p("usage_type", required=True, description="see getGlobalSettings"),),
             response=("images",)),  # unverified
    Function("getImage", PRODUCTS, R, "One image's properties.",
             (_p("image_id", required=True),)),
    Function("createImage", PRODUCTS, W, "Copies an image from a URL into the account.",
             (_p("data", OBJ, required=True, fields=(
                 _p("name", required=True), _p("image-url", URL, required=True),
                 _p("usage_type"), _p("alt_tag"))),)),
    Function("deleteImage", PRODUCTS, W, "Deletes an image.", (_p("image_id", required=True),)),
    Function("getUpsells", PRODUCTS, R, "The upsell tree of a product (y, yy, yn… positions).",
             (_p("product_id", INT, required=True),)),
    Function("updateUpsells", PRODUCTS, W, "Replaces the upsell tree of a product.",
             (_p("product_id", INT, required=True),
              _p("data", OBJ, required=True, description="position (y, yn…) to product id"))),
    Function("deleteUpsells", PRODUCTS, W, "Removes every upsell of a product.",
             (_p("product_id", INT, required=True),)),
    Function("listUpgrades", PRODUCTS, R, "Upgrades, downgrades and member offers.",
             response=("upgrades",)),
    Function("getUpgrade", PRODUCTS, R, "One upgrade; with order_ids, whether they may use it.",
             (_p("upgrade_id", INT, required=True), _p("order_ids", LIST)),
             response=("item", "check")),
    # Positional, not a data object: createUpgrade(name, to_product_id, upgrade_from, …).
    Function("createUpgrade", PRODUCTS, W, "Creates an upgrade to a product.",
             (_p("name", required=True), _p("to_product_id", INT, required=True),
              _p("upgrade_from", LIST), _p("downgrade_from", LIST), _p("special_offer_for", LIST),
              _p("fallback_product_id", INT), _p("is_active", BOOL),
              _p("buyer_readonly_keys", choices=("none", "email", "email_and_name", "all")))),
    Function("deleteUpgrade", PRODUCTS, W, "Deletes an upgrade.",
             (_p("upgrade_id", INT, required=True),)),
    Function("listSmartUpgrades", PRODUCTS, R, "Smart upgrades of the account.",
             response=("smartupgrades",)),  # unverified
    Function("getSmartupgrade", PRODUCTS, R,
             "One smart upgrade; with purchase_id, its widget HTML for those orders.",
             (_p("smartupgrade_id", required=True), _p("purchase_id", LIST))),
    Function("listShippingCostPolicies", PRODUCTS, R, "Shipping cost policies.",
             response=("policies",)),  # unverified
    Function("getShippingCostPolicy", PRODUCTS, R, "One shipping cost policy.",
             (_p("policy_id", INT, required=True),)),
    Function("createShippingCostPolicy", PRODUCTS, W, "Creates a shipping cost policy.",
             (_p("data", OBJ, required=True, fields=_SHIPPING_DATA),),
             response=("policy_id",)),
    Function("updateShippingCostPolicy", PRODUCTS, W, "Changes a shipping cost policy.",
             (_p("policy_id", INT, required=True),
              _p("data", OBJ, required=True, fields=_SHIPPING_DATA)),
             response=("is_modified",)),
    Function("deleteShippingCostPolicy", PRODUCTS, W, "Deletes a shipping cost policy.",
             (_p("policy_id", INT, required=True),)),
    # Vouchers and conversion tools
    Function("listVouchers", VOUCHERS, R, "Discount codes of the account.",
             response=("vouchers",)),  # unverified
    Function("getVoucher", VOUCHERS, R, "One discount code.", (_p("code", required=True),),
             response=("coupon",)),
    Function("createVoucher", VOUCHERS, W, "Creates a discount code.",
             (_p("data", OBJ, required=True, fields=_VOUCHER_DATA),), response=("code",)),
    Function("updateVoucher", VOUCHERS, W, "Changes a discount code.",
             (_p("code", required=True, description="code or voucher id"),
              _p("data", OBJ, required=True, fields=_VOUCHER_DATA)),
             response=("code", "modified")),
    Function("deleteVoucher", VOUCHERS, W, "Deletes a discount code.",
             (_p("code", required=True, description="code or voucher id"),)),
    Function("validateCouponCode", VOUCHERS, R, "Whether a discount code is valid, and its terms.",
             (_p("code", required=True),)),
    Function("listConversionTools", VOUCHERS, R,
             "Trust badges, countdowns, social-proof boxes and smart upgrades.",
             (_p("type", LIST, required=True, description="smartupgrade, socialproof_box, "
                 "socialproof_bubble, countdown, trust_badge"),),
             response=("trust_badges", "countdowns", "socialproof_bubbles", "socialproof_boxes",
                       "smartupgrade")),
    # Buyers, invoices and deliveries
    # items, with page_no, page_size, item_count and page_count like the other paged lists:
    # GoSuccess's newer response class says it mirrors Digistore24's listBuyers.yaml (their
    # earlier buyer_list and their docs' buyers disagree, so those were guesses).
    Function("listBuyers", BUYERS, R, "Buyers of the account, paged.", _PAGE,
             response=("items",)),  # unverified: no Digistore24 page in the corpus shows it
    # `buyer` wraps the record: GoSuccess's fixture of a real answer, and their live integration
    # test, which asserts data.buyer.email is there.
    Function("getBuyer", BUYERS, R, "One buyer with address.",
             (_p("buyer_id", INT, required=True),), response=("buyer",)),
    Function("updateBuyer", BUYERS, W, "Changes a buyer's contact details.",
             (_p("buyer_id", INT, required=True),
              _p("data", OBJ, required=True, fields=_BUYER_DATA)),
             response=("is_modified",)),
    # The page says full access is needed, though nothing changes: a read for retrying.
    Function("listInvoices", BUYERS, R, "Invoices of an order, with PDF links.",
             (_p("purchase_id", required=True),), response=("invoice_list", "purchase_id")),
    Function("resendInvoiceMail", BUYERS, W, "Emails all invoices of an order to the buyer.",
             (_p("purchase_id", required=True),)),
    Function("listDeliveries", BUYERS, R, "Deliveries of physical products.",
             (_p("search", OBJ, fields=(_p("purchase_id"),)),), response=("deliveries",)),
    # set_in_progress=Y also marks the delivery in progress; still a read for retrying, since
    # doing that twice changes nothing.
    Function("getDelivery", BUYERS, R, "One delivery with address and tracking.",
             (_p("delivery_id", INT, required=True), _p("set_in_progress", BOOL))),
    Function("updateDelivery", BUYERS, W, "Changes a delivery's status and parcel tracking.",
             (_p("delivery_id", INT, required=True),
              _p("data", OBJ, required=True, fields=(
                  _p("type", choices=("request", "in_progress", "delivery", "partial_delivery",
                                      "return", "cancel")),
                  _p("is_shipped", BOOL), _p("quantity_delivered", INT),
                  _p("add_quantity_delivered", INT), _p("is_shipped_by_reseller_from"))),
              _p("tracking", OBJ, description="indexed list: tracking[0][tracking_id]=…",
                 fields=(_p("parcel_service"), _p("tracking_id"), _p("expect_delivery_at", DATE),
                         _p("quantity", INT),
                         _p("operation", choices=("create_or_update", "delete")))),
              _p("notify_via_email", BOOL)),
             response=("is_modified",)),
    Function("listCustomFormRecords", BUYERS, R, "Answers buyers gave in extra order-form fields.",
             (_p("purchase_id"),), response=("records",)),
    Function("validateLicenseKey", BUYERS, R, "Whether a licence key belongs to an order.",
             (_p("purchase_id", required=True), _p("license_key", required=True))),
    # E-tickets
    # search members from GoSuccess only (HEPTACOM left them out, the OpenAPI file names search).
    Function("listEtickets", ETICKETS, R, "E-tickets, filtered by product, location and date.",
             (_p("search", OBJ, fields=(
                 _p("product_id", INT), _p("location_id", INT), _p("from_date", DATE),
                 _p("to_date", DATE), _p("only_validated", BOOL))),),
             response=("etickets",)),
    Function("getEticket", ETICKETS, R, "One e-ticket by its 20-digit number.",
             (_p("eticket_id", required=True),), response=("eticket",)),
    Function("createEticket", ETICKETS, W, "Creates free e-tickets for an event.",
             (_p("buyer", OBJ, required=True, fields=(
                 _p("email", EMAIL), _p("title"), _p("salutation", choices=("m", "f")),
                 _p("last_name"), _p("first_name"))),
              _p("product_id", INT, required=True), _p("location_id", required=True),
              _p("template_id", required=True), _p("date", DATE, required=True),
              _p("days", INT), _p("note"), _p("count", INT)),
             response=("etickets",)),
    # Marks the ticket used, hence a write. "seperator" is Digistore24's spelling.
    Function("validateEticket", ETICKETS, W,
             "Checks an e-ticket against event, location and date, and marks it used.",
             (_p("eticket_id", required=True), _p("template_id", LIST, required=True),
              _p("location_id", LIST, required=True),
              _p("date", LIST, description="date or comma list; default today"),
              _p("seperator")),
             response=("status", "msg", "eticket_location_id", "eticket_template_id",
                       "eticket_date", "is_eticket_valid_for_different_event")),
    Function("getEticketSettings", ETICKETS, R, "E-ticket templates and event locations."),
    Function("listEticketLocations", ETICKETS, R, "Event locations for e-tickets.",
             response=("locations",)),  # unverified
    Function("listEticketTemplates", ETICKETS, R, "E-ticket templates.",
             response=("templates",)),  # unverified
    # Affiliates
    Function("getAffiliateCommission", AFFILIATES, R, "An affiliate's commission per product.",
             (_p("affiliate_id", required=True, description="id, name or email"),
              _p("product_ids", LIST, description="all, or product ids"))),
    Function("updateAffiliateCommission", AFFILIATES, W,
             "Changes an affiliate's commission or approval for products.",
             (_p("affiliate_id", required=True),
              _p("product_ids", LIST, required=True, description="all, or product ids"),
              _p("data", OBJ, fields=(
                  _p("commission_rate", DEC), _p("commission_fix", DEC),
                  _p("commission_currency"),
                  _p("approval_status", choices=("new", "approved", "rejected", "pending")))))),
    Function("validateAffiliate", AFFILIATES, R,
             "Whether an affiliate is approved for the given products.",
             (_p("affiliate_name", required=True), _p("product_ids", LIST, required=True))),
    Function("getAffiliateForEmail", AFFILIATES, R,
             "The affiliate assigned to a future buyer's email address.",
             (_p("email", EMAIL, required=True),)),
    Function("setAffiliateForEmail", AFFILIATES, W,
             "Assigns an affiliate (and keys) to a future buyer's email address.",
             (_p("email", EMAIL, required=True), _p("affiliate", required=True),
              _p("campaignkey"), _p("trackingkey"), _p("click_id"))),
    Function("getReferringAffiliate", AFFILIATES, R, "The partner who referred an affiliate.",
             (_p("affiliate_id", required=True),)),
    Function("setReferringAffiliate", AFFILIATES, W,
             "Sets the partner who referred an affiliate, and their share.",
             (_p("referrer_id", required=True), _p("affiliate_id", required=True),
              _p("commission", DEC, description="percent of the affiliate commission"))),
    # The syntax line stops at page_size; the page describes the other three after it.
    Function("listCommissions", AFFILIATES, R, "Commission amounts credited in a time range.",
             (_p("from", DATETIME), _p("to", DATETIME), *_PAGE, _p("transaction_type", LIST),
              _p("commission_type", LIST), _p("purchase_id")),
             response=("items",)),
    # Marketplace, statistics and payouts
    Function("listMarketplaceEntries", STATS, R, "The vendor's marketplace entries with figures.",
             (_p("sort_by"),), response=("entries",)),  # unverified
    Function("getMarketplaceEntry", STATS, R, "One marketplace entry with figures.",
             (_p("entry_id", INT, required=True),)),
    # Its only argument is a content language, sent positionally (not the connector's
    # language of messages).
    Function("statsMarketplace", STATS, R, "Marketplace statistics.", (_p("language"),)),
    Function("statsSales", STATS, R, "Sales figures per day, month, quarter or year.",
             (_p("period", choices=("day", "week", "month", "quarter", "year")),
              _p("from", DATE), _p("to", DATE))),
    Function("statsSalesSummary", STATS, R, "Revenue overview for several time periods."),
    Function("statsDailyAmounts", STATS, R, "Sales amounts per day in a time range.",
             (_p("from", DATE), _p("to", DATE))),
    Function("statsAffiliateToplist", STATS, R, "Affiliates ranked by sales between months.",
             (_p("from", required=True, description="month, e.g. 2026-01"),
              _p("to", required=True, description="month, e.g. 2026-12"), _p("affiliate"),
              _p("currency"))),
    Function("statsExpectedPayouts", STATS, R, "Expected payouts, as on the dashboard.",
             response=("future_amounts", "total_earnings", "paidout_amount", "pending_amount")),
    Function("listPayouts", STATS, R, "Credit notes paid out to the vendor and affiliate.",
             response=("payouts",)),  # unverified
    Function("listServiceProofRequests", STATS, R,
             "Digistore24's requests for proof that a refunded sale was delivered.",
             (_p("search", OBJ, fields=(
                 _p("purchase_id"), _p("product_id", INT),
                 _p("delivery_type", choices=("digital", "shipping", "service", "event",
                                              "download")),
                 _p("approval_status", choices=("new", "pending", "approved", "rejected")),
                 _p("request_status", choices=("pending", "proof_provided", "exec_refund")))),),
             response=("service_proof_requests",)),  # unverified
    Function("getServiceProofRequest", STATS, R, "One service-proof request.",
             (_p("service_proof_id", INT, required=True),)),
    Function("updateServiceProofRequest", STATS, W,
             "Answers a service-proof request with proof, or by refunding.",
             (_p("service_proof_id", INT, required=True),
              _p("data", OBJ, required=True, fields=(
                  _p("request_status", required=True, choices=("proof_provided", "exec_refund")),
                  _p("message"))),
              _p("files", OBJ, description="indexed list: files[0][url]=…",
                 fields=(_p("url", URL, required=True), _p("filename"))))),
)  # fmt: skip

FUNCTIONS: dict[str, Function] = {function.name: function for function in _FUNCTIONS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(function.group for function in _FUNCTIONS))


def get(name: str) -> Function | None:
    return FUNCTIONS.get(name)


def is_read(name: str) -> bool:
    """True for a known read function. An unknown function counts as a write: it is never
    retried, and the console asks for confirmation before calling it."""
    function = FUNCTIONS.get(name)
    return function is not None and function.is_read
