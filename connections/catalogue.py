"""Digistore24's API functions as data (shared/digistore24.md §5.5): the one list that the
client (what is a read, and so may be retried), the stand-in (positional arguments, permissions,
answers) and the API-call console (picker, forms, write confirmation) all read.

Parameters are in Digistore24's documented order, because its own PHP connector sends them
positionally as arg1…argN. An object parameter (`buyer`, `payment_plan`, `search`, `data`, …)
is sent in bracket notation (`buyer[email]=…`); its `fields` are the members the documentation
names, and others may be sent too.

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


# Short names keep the table below readable.
INT, DEC, BOOL, DATE, DATETIME = Type.INTEGER, Type.DECIMAL, Type.BOOLEAN, Type.DATE, Type.DATETIME
URL, EMAIL, LIST, OBJ = Type.URL, Type.EMAIL, Type.LIST, Type.OBJECT
R, W, DEV = Access.READ, Access.WRITE, Access.DEVELOPER

SYSTEM = "System and account"

_FUNCTIONS = (
    Function("ping", SYSTEM, R, "Tests the connection and returns the server time.",
             response=("server_time",)),
    Function("getUserInfo", SYSTEM, R, "Who the API key belongs to, and the account's roles.",
             response=("user_id", "user_name", "granted_roles", "granted_roles_msg")),
    Function("getPurchase", "Purchases", R, "An order with its buyer, items and transactions.",
             (_p("purchase_id", LIST, required=True, description="order id, or a comma list"),),
             response=("purchase_id", "transaction_list", "buyer", "items")),
    Function("listPurchases", "Purchases", R, "Orders in a time range, filtered and paged.",
             (_p("from", DATETIME), _p("to", DATETIME),
              _p("search", OBJ,
                 fields=(_p("email", EMAIL), _p("product_id", LIST), _p("purchase_id"))),
              _p("sort_by", choices=("date", "earning", "amount")),
              _p("sort_order", choices=("asc", "desc")), _p("load_transactions", BOOL),
              _p("page_no", INT), _p("page_size", INT)),
             response=("purchase_list",)),
    Function("listTransactions", "Transactions and rebilling", R,
             "Payments, refunds and chargebacks in a time range.",
             (_p("from", DATETIME), _p("to", DATETIME), _p("search", OBJ), _p("sort_by"),
              _p("sort_order"),
              _p("page_no", INT), _p("page_size", INT)),
             response=("transaction_list",)),
    Function("refundTransaction", "Transactions and rebilling", W, "Refunds one payment.",
             (_p("transaction_id", INT, required=True), _p("force", BOOL),
              _p("request_date", DATETIME)),
             response=("note",)),
    Function("ipnSetup", "IPN connections", W,
             "Creates or updates the IPN connection identified by domain_id.",
             (_p("ipn_url", URL, required=True), _p("name", required=True), _p("product_ids", LIST),
              _p("domain_id", required=True), _p("categories", LIST), _p("transactions", LIST),
              _p("timing", choices=("before_thankyou", "delayed")), _p("sha_passphrase"),
              _p("newsletter_send_policy")),
             response=("created", "updated", "deleted", "sha_passphrase", "ipn_id")),
    Function("ipnInfo", "IPN connections", R, "The IPN connection registered for domain_id.",
             (_p("domain_id", required=True),), response=("have_settings",)),
    Function("requestApiKey", SYSTEM, DEV,
             "Starts an interactive API key request; the vendor confirms at request_url.",
             (_p("permissions", required=True, choices=("readonly", "writable")),
              _p("return_url", URL), _p("cancel_url", URL)),
             response=("request_token", "request_url")),
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
