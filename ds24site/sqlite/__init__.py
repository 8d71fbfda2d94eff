"""Django's SQLite backend with the database's files private to the server's user
(ENGINE "ds24site.sqlite"; settings.py picks it for sqlite:// URLs)."""
