from django.dispatch import Signal

# Sent once per stored IPN, by a worker (webhooks.tasks.notify) after its row is committed, with
# `event` (a webhooks.models.Event); receivers may be slow, the IPN request does not wait.
# Not sent again for a redelivery of the same payload. Connection tests and events outside the
# webhook's set are sent too: check `event.scope`. A receiver that raises does not change the
# answer to Digistore24; its error is logged and recorded in `event.signal_error`.
ipn_received = Signal()

# Sent by a worker (webhooks.services.events_follow_up) for new events soon after they are
# stored, in batches: `events` is a list of webhooks.models.Event, oldest first, without their
# payload loaded. Never for a redelivery of the same payload. Sent inside the transaction that
# marks the events' follow-up done, for receivers that write in the same database (the
# dashboard's roll-ups, forwarding's deliveries): what they write commits with that mark, so
# each event's follow-up is written exactly once, and a receiver that raises leaves the events
# to be followed up again. Receivers must not do I/O outside the database: the batch's
# transaction waits for them.
events_stored = Signal()
