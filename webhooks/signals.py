from django.dispatch import Signal

# Sent once per stored IPN, after its row is committed, with `event` (a webhooks.models.Event).
# Not sent again for a redelivery of the same payload. Connection tests and events outside the
# webhook's set are sent too: check `event.scope`. A receiver that raises does not change the
# answer to Digistore24; its error is logged and recorded in `event.signal_error`.
ipn_received = Signal()
