# Seconds matter when reading a log: a redelivery or a retry is often seconds after the first.
# Year-month-day sorts as text and reads the same everywhere, as in the CSV export.
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s"
TIME_FORMAT = "H:i:s"
