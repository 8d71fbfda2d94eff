import sys
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone


class OneLineErrorCommand(BaseCommand):
    """A management command whose every usage error is one line on stderr and a non-zero exit.

    argparse would print the usage block and exit 2; scripts that call our commands want the
    reason alone, the way CommandError reports it.
    """

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.called_from_command_line = False  # argparse errors raise CommandError instead
        return parser

    def run_from_argv(self, argv):
        try:
            super().run_from_argv(argv)
        except CommandError as exc:  # raised while parsing, outside BaseCommand's own handler
            self.stderr.write(f"CommandError: {exc}")
            sys.exit(exc.returncode)


def delete_in_batches(queryset, batch_size: int) -> int:
    """Delete the rows of `queryset` a batch at a time; returns how many of its rows went
    (not the rows of other models deleted with them by CASCADE). For retention commands on
    log tables that writers keep appending to."""
    deleted = 0
    while True:
        batch = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        # One short transaction per batch: writers (the receiver) wait milliseconds at most.
        with transaction.atomic():
            _, per_model = queryset.model.objects.filter(pk__in=batch).delete()
            deleted += per_model.get(queryset.model._meta.label, 0)


class RetentionCommand(OneLineErrorCommand):
    """A command deleting log rows older than `--older-than DAYS` (default: the setting named
    `retention_setting`; unset keeps everything), in small batches, or counting them with
    `--dry-run`. Subclasses say what goes in `prune(cutoff, batch_size, dry_run)`, which
    returns a phrase such as "12 API calls made", completed with "before <cutoff>"."""

    retention_setting: str

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="only count what would go")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *, older_than, dry_run, batch_size, **options):
        days = older_than if older_than is not None else getattr(settings, self.retention_setting)
        if days is None:
            self.stdout.write(
                f"{self.retention_setting} is not set and --older-than was not given: keeping "
                "everything."
            )
            return
        if not 1 <= days <= 36_500:
            raise CommandError("--older-than must be between 1 and 36500 days")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - timedelta(days=days)
        what = self.prune(cutoff, batch_size, dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {what} before {cutoff:%Y-%m-%d %H:%M:%S %Z}.")

    def prune(self, cutoff: datetime, batch_size: int, dry_run: bool) -> str:
        raise NotImplementedError

    @staticmethod
    def delete_or_count(queryset, batch_size: int, dry_run: bool) -> int:
        return queryset.count() if dry_run else delete_in_batches(queryset, batch_size)
