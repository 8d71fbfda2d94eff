"""Filter backends and filters every API view shares."""

from django.core.exceptions import ValidationError as FieldValidationError
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.settings import api_settings

from ds24site.datetimes import in_utc

PAGE_PARAMETERS = [
    "cursor_query_param",
    "page_query_param",
    "page_size_query_param",
    "limit_query_param",
    "offset_query_param",
]


class KnownParameters(BaseFilterBackend):
    """Refuses a query parameter that the view does not read (400, naming it), so a misspelt
    or unsupported filter (`?emial=…`, `?status=…` where there is no such filter) is an error
    instead of an answer that silently ignores it. Put it first in `filter_backends`.

    Known are: the view's other backends' parameters (a FilterSet's filters, ordering,
    search), the paginator's, DRF's `format`, and `query_parameters`, which an action that
    reads its own sets (`@action(..., query_parameters=[...])`)."""

    def filter_queryset(self, request, queryset, view):
        known = self.known(queryset, view)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            message = f"Unknown parameter. Known here: {', '.join(sorted(known))}."
            raise ValidationError({name: [message] for name in unknown})
        return queryset

    @staticmethod
    def known(queryset, view) -> set[str]:
        names = set(getattr(view, "query_parameters", ()))
        if api_settings.URL_FORMAT_OVERRIDE:
            names.add(api_settings.URL_FORMAT_OVERRIDE)
        for backend_class in view.filter_backends:
            backend = backend_class()
            if hasattr(backend, "get_filterset_class"):  # django-filter
                filterset_class = backend.get_filterset_class(view, queryset)
                names.update(filterset_class.base_filters if filterset_class else ())
            for attribute in ("ordering_param", "search_param"):
                names.add(getattr(backend, attribute, None))
        for attribute in PAGE_PARAMETERS:
            names.add(getattr(view.paginator, attribute, None))
        names.discard(None)
        return names


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, in ASCII, that exists in UTC, where the database compares it
    (year 1 at +14:00 does not, and would fail in the database instead of here)."""

    def clean(self, value):
        if isinstance(value, str) and not value.isascii():  # Django reads Arabic-Indic digits too
            raise FieldValidationError(self.error_messages["invalid"], code="invalid")
        moment = super().clean(value)
        try:
            return in_utc(moment) if moment is not None else None
        except OverflowError:
            raise FieldValidationError("Date/time out of range.", code="invalid") from None


class DateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
