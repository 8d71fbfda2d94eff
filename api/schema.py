from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `python manage.py addapitoken USERNAME`, or the admin.",
        }


ERROR_RESPONSES = {
    "400": "Bad parameter (a filter value, cursor, page size or limit); `message` says which.",
    "401": "No valid token.",
    "403": "The token or user lacks permission.",
    "404": "No such object or path.",
    "429": "Too many requests; see the Retry-After header.",
    "503": "The database is temporarily unavailable; see the Retry-After header.",
}


def add_error_responses(result, generator, request, public):
    """Every operation can answer with the API's JSON errors: document them once, here."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "message": {"type": "string", "description": "One line, for people and logs."},
            "detail": {"description": "DRF's detail: a string, or errors per field."},
        },
        "required": ["message", "detail"],
    }
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for status, description in ERROR_RESPONSES.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": reference}
                )
    return result
