"""What every app's admin shares: read-only log admins, safe change lists, object views,
filters, badges and links."""

from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html

from ds24site.pagination import CappedCountPaginator


def badge(css_class: str, label: str, title: str = ""):
    """A status badge; its style is a class in static/ds24site/admin.css."""
    if title:
        return format_html(
            '<span class="ds24-badge {}" title="{}">{}</span>', css_class, title, label
        )
    return format_html('<span class="ds24-badge {}">{}</span>', css_class, label)


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


class ObjectActionsMixin:
    """For a ModelAdmin with extra views on one object (buttons on its change page): their
    URLs, and the object they act on, for users who may change it."""

    def object_urls(self, *routes):
        """URL patterns for (route, name, view): `<id>/<route>/`, named `<app>_<model>_<name>`."""
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                f"<path:object_id>/{route}/",
                self.admin_site.admin_view(view),
                name=f"{prefix}_{name}",
            )
            for route, name, view in routes
        ]

    def changeable_object(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404(f"No such {self.opts.verbose_name}")
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return obj


class SafeChangeList(ChangeList):
    """A change list that takes from its URL only what its own filters and search read.

    Django applies every query parameter that no list filter claims as an ORM lookup
    (`?email__regex=^(.*)*X$`, `?payload__contains=`, `?pk__in=`): any staff user who may view
    a list could make the database backtrack for seconds or fail. Here whatever the filters
    leave unclaimed is refused with the admin's own "bad filter" redirect (?e=1) before any
    query runs. (ModelAdmin.lookup_allowed cannot decide this: it is asked before the filters
    claim their parameters, knowing only list_filter's entries, whose parameters
    (`status__exact`, `webhook__id__exact`, `received_from`) depend on each filter's class.)

    It also honours ModelAdmin.sortable_by for `?o=` (Django only hides the other headers),
    so a URL cannot ask for a sort that no index serves. Columns it may not sort by are
    dropped from `o`; with none left the list keeps its default order."""

    def get_filters(self, request):
        try:
            specs, has_filters, unclaimed, *rest = super().get_filters(request)
        except DisallowedModelAdminLookup as exc:  # Django's own refusal, a bare 400
            raise IncorrectLookupParameters(str(exc)) from None
        if extra := set(unclaimed) - self._date_hierarchy_lookups():
            raise IncorrectLookupParameters(f"not a filter: {', '.join(sorted(extra))}")
        return specs, has_filters, unclaimed, *rest

    def _date_hierarchy_lookups(self) -> set[str]:
        """The lookups Django makes of the date hierarchy's year, month and day."""
        if not self.date_hierarchy:
            return set()
        return {f"{self.date_hierarchy}__gte", f"{self.date_hierarchy}__lt"}

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            kept = ".".join(p for p in self.params[ORDER_VAR].split(".") if self._allowed(p))
            if kept:
                self.params[ORDER_VAR] = kept
            else:
                del self.params[ORDER_VAR]
        return super().get_ordering(request, queryset)

    def _allowed(self, param: str) -> bool:
        sortable_by = self.model_admin.sortable_by
        try:
            field_name = self.list_display[int(param.rpartition("-")[2])]
        except (ValueError, IndexError):
            return False
        return sortable_by is None or field_name in sortable_by


class SafeChangeListMixin:
    """For every ModelAdmin with a change list (dashboard/sites.py adds it to other apps'):
    the list takes only its filters' parameters (SafeChangeList), and refuses query values the
    database cannot take (PostgreSQL rejects NUL in text), with the admin's own "bad filter"
    redirect instead of a 500."""

    def get_changelist(self, request, **kwargs):
        return SafeChangeList

    def get_changelist_instance(self, request):
        for values in request.GET.lists():
            if any("\x00" in value for value in values[1]):
                raise IncorrectLookupParameters("NUL character in a query parameter")
        return super().get_changelist_instance(request)


class ReadOnlyAdmin(SafeChangeListMixin, admin.ModelAdmin):
    """Log tables are append-only: viewable, never added, edited or deleted here. Lists never
    count the whole table and offer no facet counts."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ExactFilter(admin.SimpleListFilter):
    """A filter on one column by equality, with fixed choices (no DISTINCT over a log table)."""

    field: str
    options: list[tuple[str, str]]  # (not "choices": that is ListFilter's own method)

    def lookups(self, request, model_admin):
        return self.options

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset
