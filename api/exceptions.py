import logging

from django.db import DatabaseError
from django.http import JsonResponse
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from ds24site.errors import unavailable_json

logger = logging.getLogger(__name__)


def handler(exc, context):
    """DRF's error responses, with a one-line `message` on top for people and logs:
    {"message": "...", "detail": <DRF's detail or field errors>}. Database trouble is a 503
    with Retry-After (ds24site.errors), logged with its traceback as Django logs a 500."""
    if isinstance(exc, DatabaseError):
        request = context["request"]
        logger.error("API: database unavailable: %s %s", request.method, request.path,
                     exc_info=exc)  # fmt: skip
        set_rollback()
        return unavailable_json(Response)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        message = str(data["detail"])
    elif isinstance(data, dict):
        field, errors = next(iter(data.items()))
        first = errors[0] if isinstance(errors, list) and errors else errors
        message = f"{field}: {first}"
    else:
        message = str(data[0]) if isinstance(data, list) and data else "Bad request."
    response.data = {"message": message, "detail": data}
    return response


def not_found(request, *args, **kwargs):
    """Unknown /api/ paths answer in JSON like the rest of the API."""
    return JsonResponse({"message": "Not found.", "detail": "Not found."}, status=404)
