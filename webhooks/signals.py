from django.dispatch import Signal

# Sent once per stored IPN, by a worker (webhooks.tasks.notify) after its row is committed, with
# `event` (a webhooks.models.Event); receivers may be slow, the IPN request does not wait.
# Not sent again for a redelivery of the same payload. Connection tests and events outside the
# webhook's set are sent too: check `event.scope`. A receiver that raises does not change the
# answer to Digistore24; its error is logged and recorded in `event.signal_error`.
ipn_received = Signal()

# Sent inside the transaction that stores a new event (not for a redelivery), with `event`.
# For receivers that queue work in the same database (forwarding's deliveries): what they write
# commits or rolls back with the event, so an acknowledged event never loses its follow-up work.
# Receivers must not do I/O or anything slow: the IPN request waits for them. A receiver that
# raises fails the store, and Digistore24 retries.
event_stored = Signal()
