from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows, so a list over millions of rows never runs a full
    COUNT(*); past the cap the page count is the cap's, and `capped` says so."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Only the primary keys: annotations (and their subqueries) stay out of the count.
        return self.object_list.values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap
