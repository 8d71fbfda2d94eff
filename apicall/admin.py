import contextlib
import json

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.urls import path
from django.utils.html import format_html

from apicall import results, rules, views
from apicall.models import ApiCall, ApiConsole
from connections import catalogue
from ds24site.admin_cells import marks, stacked, when
from ds24site.admin_tools import ExactFilter, ReadOnlyAdmin


class FunctionFilter(ExactFilter):
    title = "function"
    parameter_name = field = "function"
    # The catalogue's functions (not a DISTINCT over the history); a raw call to any other
    # function is still found with ?function=<name>.
    options = [(name, name) for name in sorted(catalogue.FUNCTIONS)]


class StatusClassFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status_class"
    NO_ANSWER = "none"
    CLASSES = {"2xx": "2xx success", "3xx": "3xx redirect", "4xx": "4xx refused",
               "5xx": "5xx server error"}  # fmt: skip

    def lookups(self, request, model_admin):
        return [*self.CLASSES.items(), (self.NO_ANSWER, "No answer")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == self.NO_ANSWER:
            return queryset.filter(status__isnull=True)
        if value not in self.CLASSES:
            raise IncorrectLookupParameters(f"unknown status class {value!r}")
        low = int(value[0]) * 100
        return queryset.filter(status__gte=low, status__lt=low + 100)


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    # Four cells that fit 1280 px with the sidebar and filters open.
    list_display = ["created_time", "connection_and_who", "call", "answer"]
    list_filter = ["connection", "user", FunctionFilter, StatusClassFilter]
    search_fields = []
    list_select_related = ["user", "token"]
    sortable_by = ["created_time"]  # the one order an index serves at any size
    readonly_fields = [
        "who",
        "request_url",
        "request_headers_display",
        "request_body_display",
        "status_display",
        "response_headers_display",
        "response_body_display",
    ]
    fieldsets = [
        (None, {"fields": ["created", "who", "connection", "connection_name", "is_write"]}),
        (
            "Request",
            {
                "fields": [
                    "method",
                    "request_url",
                    "request_headers_display",
                    "request_body_display",
                ]
            },
        ),
        (
            "Response",
            {
                "fields": [
                    "status_display",
                    "duration_ms",
                    "error",
                    "response_headers_display",
                    "response_body_display",
                    "response_truncated",
                ]
            },
        ),
    ]

    def get_urls(self):
        csv = path(
            "<uuid:public_id>/csv/",
            self.admin_site.admin_view(views.call_csv),
            name="apicall_apicall_csv",
        )
        return [csv, *super().get_urls()]

    def get_queryset(self, request):
        # Bodies are capped but still large: the list does not need them; a detail page loads
        # its own.
        return super().get_queryset(request).defer("request_body", "response_body")

    @admin.display(description="Created", ordering="created")
    def created_time(self, call):
        return when(call.created)

    @admin.display(description="Connection")
    def connection_and_who(self, call):
        return stacked(call.connection_name, f"by {self.who(call)}")

    @admin.display(description="Call")
    def call(self, call):
        return stacked(
            call.function, marks(("", call.method), ("warn", "write") if call.is_write else None)
        )

    @admin.display(description="Answer")
    def answer(self, call):
        took = call.duration_ms is not None and f"{call.duration_ms} ms"
        return stacked(self.status_display(call), took)

    @admin.display(description="Who")
    def who(self, call):
        if call.token_id:
            return f"API token {call.token}"
        return call.user.get_username() if call.user else "—"

    @admin.display(description="Write", boolean=True)
    def write(self, call):
        return call.is_write

    @admin.display(description="Status")
    def status_display(self, call):
        return call.status if call.status is not None else "no answer"

    @admin.display(description="URL")
    def request_url(self, call):
        return format_html("<code>{}</code> <small>({})</small>", call.url, call.path)

    @admin.display(description="Headers")
    def request_headers_display(self, call):
        return headers_block(call.request_headers)

    @admin.display(description="Body")
    def request_body_display(self, call):
        return text_block(call.request_body)

    @admin.display(description="Headers")
    def response_headers_display(self, call):
        return headers_block(call.response_headers)

    @admin.display(description="Body")
    def response_body_display(self, call):
        return text_block(call.response_body)


def headers_block(pairs):
    return text_block(rules.headers_text(pairs))


def text_block(text: str):
    """Escaped, in a <pre>; JSON indented so an answer can be read."""
    if not text:
        return "—"
    with contextlib.suppress(ValueError):  # not JSON that can be shown: shown as it is
        text = json.dumps(results.loads(text), indent=2, ensure_ascii=False)
    return format_html('<pre class="ds24-payload">{}</pre>', text)


@admin.register(ApiConsole)
class ApiConsoleAdmin(admin.ModelAdmin):
    """The console's entry in the admin index, beside the history (a proxy model, so it is
    listed like one): its one page is apicall.views.console, for users with use_console."""

    def get_urls(self):
        console = self.admin_site.admin_view(self.console_view)
        return [path("", console, name="apicall_apiconsole_changelist")]

    def console_view(self, request):
        return views.console(request, admin_site=self.admin_site)

    def has_module_permission(self, request):
        return request.user.has_perm(views.USE_CONSOLE)

    def get_model_perms(self, request):
        return {
            "add": False,
            "change": False,
            "delete": False,
            "view": self.has_module_permission(request),
        }

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
