"""gunicorn settings for the Procfile's web process (the port comes from the Procfile's --bind)."""

# Two workers by default (gunicorn also honours WEB_CONCURRENCY); threads serve the
# long-lived Media Streams websockets next to short webhooks.
workers = 2
worker_class = "gthread"
threads = 32
# Load the app (and its speech model) once in the master, shared copy-on-write by the workers.
preload_app = True
timeout = 120
graceful_timeout = 20
accesslog = "-"
