"""A Digistore24 stand-in for tests, demos and the API console: see server.py and ipn.py."""
