from django.dispatch import Signal

# Sent once per stored IPN, by a worker (webhooks.tasks.notify) after its row is committed, with
# `event` (a webhooks.models.Event); receivers may be slow, the IPN request does not wait.
# Not sent again for a redelivery of the same payload. Connection tests and events outside the
# webhook's set are sent too: check `event.scope`. A receiver that raises does not change the
# answer to Digistore24; its error is logged and recorded in `event.signal_error`.
ipn_received = Signal()

# Sent by a worker (webhooks.services.events_follow_up) for new events, in batches, inside
# the transaction that puts them in the event log (about a second after Digistore24's IPN was
# answered): `events` is a list of webhooks.models.Event, oldest first. Never for a redelivery
# of the same payload. For receivers that write in the same database (the dashboard's roll-ups,
# forwarding's deliveries): what they write commits with the events, so it is written exactly
# once, and a receiver that raises leaves the batch's IPNs waiting to be taken again.
# Receivers must not do I/O outside the database: the batch's transaction waits for them.
events_stored = Signal()
