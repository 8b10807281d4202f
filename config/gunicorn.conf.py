"""gunicorn settings for `make serve` and production: `gunicorn -c config/gunicorn.conf.py
config.wsgi` with DJANGO_SETTINGS_MODULE=config.settings_production.

HOST, PORT           where to listen (127.0.0.1:8000; behind a reverse proxy)
WEB_CONCURRENCY      worker processes (2 × cores + 1, at most 12)
GUNICORN_TIMEOUT     seconds a request may take before its worker is restarted (120: the
                     area and municipality PDF reports are rendered during the request)
GUNICORN_ACCESS_LOG  "-" (stdout) or empty for none
FORWARDED_ALLOW_IPS  addresses of the proxies whose X-Forwarded-* headers gunicorn trusts
                     (127.0.0.1; the application's own rules are SECURE_PROXY_SSL_HEADER
                     and TRUSTED_PROXY_COUNT)
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 12))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Logs go to stdout/stderr for the process manager to collect. The access log names the
# path without its query string; GUNICORN_ACCESS_LOG= (empty) turns it off, since the
# application logs every request as JSON too (config/logging.py).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# … with the tokens of invitation and password-reset links replaced by "…".
logger_class = "config.logging.GunicornLogger"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# A worker is recycled now and then, so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
wsgi_app = "config.wsgi:application"
# gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl): two servers
# on one machine (e.g. the smoke test next to `make serve`) would fight over it; unused here.
control_socket_disable = True
