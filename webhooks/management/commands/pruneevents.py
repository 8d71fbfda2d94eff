from ds24site.commands import RetentionCommand
from webhooks.models import Event, RejectedDelivery


class Command(RetentionCommand):
    help = (
        "Delete events and rejected deliveries received more than DAYS days ago (default: "
        "EVENT_RETENTION_DAYS; unset keeps everything), in small batches so the tables are never "
        "locked for long."
    )
    retention_setting = "EVENT_RETENTION_DAYS"

    def prune(self, cutoff, batch_size, dry_run):
        counts = []
        for model in (Event, RejectedDelivery):
            old = model.objects.filter(received__lt=cutoff)  # served by the received index
            deleted = self.delete_or_count(old, batch_size, dry_run)
            counts.append(f"{deleted} {model._meta.verbose_name_plural}")
        return " and ".join(counts) + " received"
