from apicall.models import ApiCall
from ds24site.commands import RetentionCommand


class Command(RetentionCommand):
    help = (
        "Delete API calls made more than DAYS days ago (default: APICALL_RETENTION_DAYS; unset "
        "keeps everything), in small batches so the history is never locked for long."
    )
    retention_setting = "APICALL_RETENTION_DAYS"

    def prune(self, cutoff, batch_size, dry_run):
        old = ApiCall.objects.filter(created__lt=cutoff)  # served by the apicall_created index
        return f"{self.delete_or_count(old, batch_size, dry_run)} API calls made"
