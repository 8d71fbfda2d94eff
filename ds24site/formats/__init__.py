"""Date and time formats of the admin (FORMAT_MODULE_PATH). Django's locale formats win over
the DATETIME_FORMAT setting, so ours are a format module for the one language we serve."""
