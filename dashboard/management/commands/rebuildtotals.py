from django.core.management.base import CommandError
from django.utils.dateparse import parse_date

from dashboard.services import dailytotals_rebuild
from ds24site.commands import OneLineErrorCommand


class Command(OneLineErrorCommand):
    help = (
        "Recompute the dashboard's daily totals from the stored events, from DATE on (default: "
        "the oldest day whose events are all still stored). Earlier days are kept: their "
        "events may have been pruned."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="YYYY-MM-DD")

    def handle(self, *, since, **options):
        day = None
        if since:
            try:
                day = parse_date(since)
            except ValueError:
                day = None
            if day is None:
                raise CommandError(f"--since must be a date (YYYY-MM-DD), not {since!r}")
        first, rows = dailytotals_rebuild(since=day)
        if first is None:
            self.stdout.write("No events stored: nothing to recompute.")
        else:
            self.stdout.write(f"Recomputed the daily totals from {first}: {rows} rows.")
