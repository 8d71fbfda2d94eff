"""The API-call console over the REST API: what a call request may contain, and how a call in
the history is shown. Only shapes are checked here; what may be sent is decided by
apicall.rules, the one validation the browser console uses as well."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apicall import results, rules
from apicall.models import ApiCall
from connections.client import FUNCTION_NAME

# The schema states what the rules accept (from their own patterns), so that clients and
# generated tests know it; the rules still decide, and say why when they refuse.
URL_PATTERN = (
    rf"^/?{FUNCTION_NAME.pattern.strip('^$')}(?:/format/json)?"
    r"(?:\?[^#\s\x00-\x1f\x7f-\x9f]*)?$"
)
HEADERS_SCHEMA = {
    "type": "object",
    "propertyNames": {"pattern": f"^{rules.TOKEN.pattern}$"},
    "additionalProperties": {"type": "string", "pattern": f"^{rules.HEADER_VALUE.pattern}$"},
    "maxProperties": rules.MAX_HEADERS,
}
TEXT_OR_OBJECT = {"oneOf": [{"type": "object"}, {"type": "string"}]}


@extend_schema_field(TEXT_OR_OBJECT)
class TextOrObjectField(serializers.JSONField):
    """An object, or text as the console's boxes take it; anything else is refused by the
    rules, which name the field."""

    def to_internal_value(self, data):
        if getattr(data, "is_json_string", False):
            # Form input (the browsable API, curl -F): the text as the console's boxes take it
            # ("Name: value" lines, a query string, name=value lines or a JSON object).
            return str(data)
        return super().to_internal_value(data)


@extend_schema_field({"oneOf": [HEADERS_SCHEMA, {"type": "string"}]})
class HeadersField(TextOrObjectField):
    pass


@extend_schema_field({"type": "string", "enum": list(rules.METHODS)})
class MethodField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": URL_PATTERN})
class UrlField(serializers.CharField):
    pass


class CallRequestSerializer(serializers.Serializer):
    connection = serializers.UUIDField(
        help_text="The connection's id, as /api/v1/connections/ shows it."
    )
    method = MethodField(default="POST", help_text="POST (any function) or GET (read functions).")
    # Not trimmed: a URL with surrounding white space is refused by the rules, not repaired.
    url = UrlField(
        trim_whitespace=False,
        help_text="A Digistore24 function relative to the API base, optionally with a query: "
        "`getPurchase` or `getPurchase?purchase_id=ABC`. Nothing else: no scheme, host or path.",
    )
    headers = HeadersField(
        required=False,
        help_text="Extra request headers, {name: value}. The API key and the transport's "
        "headers are the server's to set.",
    )
    query = TextOrObjectField(required=False, help_text="Query parameters, {name: value}.")
    body = TextOrObjectField(
        required=False,
        help_text="Form fields, {name: value}; nested objects are sent in bracket notation.",
    )
    confirm_write = serializers.BooleanField(
        default=False,
        help_text="Must be true to run a function that changes data (or an unknown one).",
    )


class ApiCallSerializer(serializers.ModelSerializer):
    """A call from the history (also the answer to running one). Never the API key: it is not
    stored, and secret-looking headers and parameters are stored as "[redacted]"."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True)
    connection = serializers.UUIDField(
        source="connection.public_id", read_only=True, allow_null=True
    )
    write = serializers.BooleanField(source="is_write", read_only=True)
    request_headers = serializers.SerializerMethodField()
    headers = serializers.SerializerMethodField(help_text="The answer's headers.")
    body = serializers.SerializerMethodField(
        help_text="The answer's body: parsed when it is JSON, else the text; null: no answer."
    )
    truncated = serializers.BooleanField(
        source="response_truncated",
        read_only=True,
        help_text="The answer was longer than the console keeps; `body` is its start, as text.",
    )
    error = serializers.SerializerMethodField(
        help_text="Digistore24's error (or why there was no answer) in one sentence; null if none."
    )

    class Meta:
        model = ApiCall
        fields = [
            *["id", "created", "user", "connection", "connection_name"],
            *["method", "function", "url", "request_headers", "request_body", "write"],
            *["status", "duration_ms", "headers", "body", "truncated", "error"],
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_request_headers(self, call) -> dict:
        return _header_object(call.request_headers)

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_headers(self, call) -> dict:
        return _header_object(call.response_headers)

    @extend_schema_field(OpenApiTypes.ANY)
    def get_body(self, call):
        if call.status is None:
            return None
        if call.response_truncated or not _is_json(call.response_headers):
            return call.response_body
        try:
            return results.loads(call.response_body)
        except ValueError:
            # Said to be JSON but is not JSON that can be shown: the text.
            return call.response_body

    def get_error(self, call) -> str | None:
        return call.error or None


def _header_object(pairs) -> dict[str, str]:
    """[name, value] pairs as an object; a repeated header's values joined with ", ", as
    HTTP allows for combining them (RFC 9110 §5.3)."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _is_json(headers) -> bool:
    content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")
