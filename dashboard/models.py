from django.db import models


class DailyTotal(models.Model):
    """How many events of one type arrived on one day (in the site's time zone), per currency,
    live/test mode and product, and the sum of their amounts: the roll-up the dashboard reads,
    so that its figures cost the same at a million events as at ten.

    Kept current by each new event's follow-up (dashboard/receivers.py), in the transaction
    that marks the follow-up done, so it counts every stored event exactly once. It
    is history: pruning events does not change it; `manage.py rebuildtotals` recomputes it
    from the events still stored.

    A key's count may be spread over several rows, one per `slot`: readers sum over slots.
    """

    day = models.DateField()
    # Part of the key so that events of different webhooks never queue on one row's lock while
    # their storing transactions run. A plain id, not a foreign key: the history outlives a
    # webhook deleted after its events.
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
    # When the newest event counted here was received. Empty only on rows of days whose events
    # had been pruned before this column existed.
    last_received = models.DateTimeField(null=True, blank=True)
    # Which of SLOTS rows of the key a batch of follow-ups counts its events in (the batch's
    # first event id modulo SLOTS): concurrent batches of one key then rarely queue on one
    # row's lock, which on PostgreSQL is held until the batch's commit is flushed.
    slot = models.PositiveSmallIntegerField(default=0)

    SLOTS = 8

    class Meta:
        constraints = [
            # The upsert's conflict target; its leading `day` also serves the dashboard's
            # reads, which are all "the last 30 days".
            models.UniqueConstraint(
                fields=["day", "event", "currency", "api_mode", "product_id", "webhook_pk", "slot"],
                name="dailytotal_unique_key",
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.event} {self.currency} {self.api_mode}: {self.count}"


class WebhookTotal(models.Model):
    """How many events a webhook stored over all days, and when the newest was received: its
    DailyTotal rows summed (so the same history, which pruning does not change), kept with
    them (dashboard.services.dailytotals_add) and recomputed with them by
    `rebuildtotals`. The webhooks' lists read their activity here
    (Webhook.objects.with_activity): at most SLOTS rows a webhook, where summing its daily
    rows reads every day's (~400 ms on SQLite for a webhook with a year of 1M events).

    Spread over slots as DailyTotal is, so that concurrent follow-ups of one webhook's events
    rarely queue on one row's lock; readers sum over slots.
    """

    # A plain id, as in DailyTotal: the history outlives a webhook deleted after its events.
    webhook_pk = models.BigIntegerField("webhook id")
    slot = models.PositiveSmallIntegerField(default=0)
    count = models.PositiveBigIntegerField(default=0)
    # Empty only for a webhook whose events were all pruned before DailyTotal.last_received.
    last_received = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The upsert's conflict target, and Webhook.objects.with_activity's index.
            models.UniqueConstraint(fields=["webhook_pk", "slot"], name="webhooktotal_unique_key"),
        ]

    def __str__(self):
        return f"webhook {self.webhook_pk} slot {self.slot}: {self.count}"
