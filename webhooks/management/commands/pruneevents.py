from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from ds24site.commands import OneLineErrorCommand, delete_in_batches
from webhooks.models import Event, RejectedDelivery


class Command(OneLineErrorCommand):
    help = (
        "Delete events and rejected deliveries received more than DAYS days ago (default: "
        "EVENT_RETENTION_DAYS; unset keeps everything), in small batches so the tables are never "
        "locked for long."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="only count what would go")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *, older_than, dry_run, batch_size, **options):
        days = older_than if older_than is not None else settings.EVENT_RETENTION_DAYS
        if days is None:
            self.stdout.write(
                "EVENT_RETENTION_DAYS is not set and --older-than was not given: keeping "
                "everything."
            )
            return
        if not 1 <= days <= 36_500:
            raise CommandError("--older-than must be between 1 and 36500 days")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - timedelta(days=days)
        counts = {
            model._meta.verbose_name_plural: self.prune(model, cutoff, batch_size, dry_run)
            for model in (Event, RejectedDelivery)
        }
        summary = " and ".join(f"{count} {name}" for name, count in counts.items())
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {summary} received before {cutoff:%Y-%m-%d %H:%M:%S %Z}.")

    def prune(self, model, cutoff, batch_size, dry_run) -> int:
        old = model.objects.filter(received__lt=cutoff)  # served by the received index
        if dry_run:
            return old.count()
        return delete_in_batches(old, batch_size)
