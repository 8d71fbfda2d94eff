"""What every CSV export of untrusted text shares."""


def spreadsheet_safe(value):
    """Untrusted text (payloads, Digistore24's answers): keep spreadsheets from running it as a
    formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
