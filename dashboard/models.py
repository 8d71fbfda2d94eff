from django.db import models


class DailyTotal(models.Model):
    """How many events of one type arrived on one day (in the site's time zone), per currency,
    live/test mode and product, and the sum of their amounts: the roll-up the dashboard reads,
    so that its figures cost the same at a million events as at ten.

    Kept current in the transaction that stores each new event (dashboard/receivers.py), so it
    counts every stored event exactly once and never an event whose storing rolled back. It
    is history: pruning events does not change it; `manage.py rebuildtotals` recomputes it
    from the events still stored.
    """

    day = models.DateField()
    # Part of the key so that events of different webhooks never queue on one row's lock while
    # their storing transactions run (one webhook's events already queue on its counter row).
    # A plain id, not a foreign key: the history outlives a webhook deleted after its events.
    webhook_pk = models.BigIntegerField("webhook id")
    event = models.CharField(max_length=64)
    currency = models.CharField(max_length=3, blank=True)
    api_mode = models.CharField(max_length=10, blank=True)
    product_id = models.CharField(max_length=64, blank=True)
    # The name the product had in its latest event.
    product_name = models.CharField(max_length=255, blank=True)
    count = models.PositiveBigIntegerField(default=0)
    # Sum of the amounts' magnitudes: whether Digistore24 sends refunds and chargebacks as
    # negative amounts is UNVERIFIED, so the sign comes from the event type (dashboard.figures).
    amount = models.DecimalField(max_digits=22, decimal_places=4, default=0)

    class Meta:
        constraints = [
            # The upsert's conflict target; its leading `day` also serves the dashboard's
            # reads, which are all "the last 30 days".
            models.UniqueConstraint(
                fields=["day", "event", "currency", "api_mode", "product_id", "webhook_pk"],
                name="dailytotal_unique_key",
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.event} {self.currency} {self.api_mode}: {self.count}"
