"""Structured logs for production: one JSON object per line on stdout.

`JsonFormatter` adds the Celery task (name, id, and the Job id for tasks that take one)
to every line logged while a task runs; `RequestLogMiddleware` writes one line per request
with method, path (never the query string), status, duration and the user's id (never a
username, password or token). Links that carry a secret in their path (an invitation's or
a password reset's token) are logged with "…" in its place, in the application's lines,
gunicorn's access log and Sentry's events alike (`without_secrets`).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import time
from datetime import UTC, datetime

from gunicorn.glogging import Logger as GunicornBaseLogger

REQUEST_LOGGER = logging.getLogger("innforing.request")
# Attributes of a record passed through `extra=` that end up in the JSON line.
FIELDS = ("method", "path", "status", "duration_ms", "user_id", "job_id")
# URL parameters that are secrets: whoever reads the log must not be able to use the link.
SECRET_URL_PARAMETERS = frozenset({"token", "uidb64"})
# A path, alone or after a URL's scheme and host (kept as they are).
PATH = re.compile(r"(?P<origin>[a-z]+://[^/\s\"']+)?(?P<path>/[^\s\"'?#]*)")


def without_secrets(text: str) -> str:
    """`text` with the secret parameters of every application link in it replaced by "…"
    (/invitasjon/<token>/ → /invitasjon/…/)."""
    return PATH.sub(_path_without_secrets, text) if "/" in text else text


def _path_without_secrets(match: re.Match) -> str:
    from django.urls import resolve

    origin, path = match.group("origin") or "", match.group("path")
    try:
        found = resolve(path)
    except Exception:  # not one of ours (Resolver404), or Django is not set up: as it is
        return match.group(0)
    for name in SECRET_URL_PARAMETERS & found.kwargs.keys():
        path = path.replace(str(found.kwargs[name]), "…")
    return origin + path


def task_context() -> dict:
    """The running Celery task, if any: its name, id and the Job it works on."""
    from celery import current_task

    if not current_task or not current_task.request.id:
        return {}
    request = current_task.request
    context = {"task": current_task.name, "task_id": request.id}
    job_id = (request.kwargs or {}).get("job_id")
    if job_id is None and request.args and first_parameter(current_task) == "job_id":
        job_id = request.args[0]
    if job_id is not None:
        context["job_id"] = job_id
    return context


def first_parameter(task) -> str | None:
    parameters = list(inspect.signature(task.run).parameters)
    return parameters[0] if parameters else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": without_secrets(record.getMessage()),
            **task_context(),
        }
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if "path" in line:
            line["path"] = without_secrets(line["path"])
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    """One log line per request (outermost middleware, so it times everything)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.monotonic()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        REQUEST_LOGGER.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - start) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )
        return response


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's logger, with the secrets left out of whatever the access log's format
    names (request line, path, referrer, headers)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: without_secrets(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


def sentry_before_send(event: dict, hint) -> dict:
    """Sentry's events without the secrets of the request's address."""
    request = event.get("request") or {}
    if isinstance(request.get("url"), str):
        request["url"] = without_secrets(request["url"])
    return event
