# gunicorn settings for `make run` and production; override any of them on the command line.
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers: the receiver's work is a few short queries, and a slow client cannot hold a
# worker for long because the body is capped and a proxy buffers it in production.
timeout = 30
# Forwarded headers are judged by the app's TRUSTED_PROXIES alone.
forwarded_allow_ips = ""
accesslog = "-"
