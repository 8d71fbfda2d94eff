from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from apicall.models import ApiCall
from ds24site.commands import OneLineErrorCommand, delete_in_batches


class Command(OneLineErrorCommand):
    help = (
        "Delete API calls made more than DAYS days ago (default: APICALL_RETENTION_DAYS; unset "
        "keeps everything), in small batches so the history is never locked for long."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="only count what would go")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *, older_than, dry_run, batch_size, **options):
        days = older_than if older_than is not None else settings.APICALL_RETENTION_DAYS
        if days is None:
            self.stdout.write(
                "APICALL_RETENTION_DAYS is not set and --older-than was not given: keeping "
                "everything."
            )
            return
        if not 1 <= days <= 36_500:
            raise CommandError("--older-than must be between 1 and 36500 days")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - timedelta(days=days)
        old = ApiCall.objects.filter(created__lt=cutoff)  # served by the apicall_created index
        count = old.count() if dry_run else delete_in_batches(old, batch_size)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} API calls made before {cutoff:%Y-%m-%d %H:%M:%S %Z}.")
