# gunicorn settings for `make run` and production; override any of them on the command line.
import gc
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers that give each request a deadline to arrive in (REQUEST_HEADER_TIMEOUT,
# REQUEST_BODY_TIMEOUT), so slow clients cannot starve them; ds24site/server.py says why these
# rather than sync or gevent workers. 32 threads a worker: 8 slow clients and 16 busy ones
# landing on the same worker are all served. Every thread may keep a database connection open
# (DB_CONN_MAX_AGE): on PostgreSQL up to workers x threads of them.
worker_class = "ds24site.server.DeadlineWorker"
threads = int(os.environ.get("WEB_THREADS", "32"))
# A worker whose main loop has not reported for this many seconds is restarted (its threads'
# requests do not count: they are bounded by their own timeouts).
timeout = 30
# Forwarded headers are judged by the app's TRUSTED_PROXIES alone.
forwarded_allow_ips = ""
accesslog = "-"
# Cuts receive URLs' tokens from the access and error logs (ds24site/redaction.py).
logger_class = "ds24site.server.RedactingLogger"
# gunicorn's default control socket is one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl): a
# second instance on the machine takes it over, and stopping either removes it. Off unless
# asked for, at a path of this instance's own (0600).
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def post_worker_init(worker):
    """The app, once loaded, lives as long as the worker: out of the garbage collector's full
    passes, which would otherwise walk its ~110,000 objects each time a request's many
    (a page of 500 events) set one off, tens of milliseconds in the slowest requests."""
    gc.freeze()
