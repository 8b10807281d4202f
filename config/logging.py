"""Structured logs for production: one JSON object per line on stdout.

`JsonFormatter` adds the Celery task (name, id, and the Job id for tasks that take one)
to every line logged while a task runs; `RequestLogMiddleware` writes one line per request
with method, path (never the query string), status, duration and the user's id (never a
username, password or token).
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from datetime import UTC, datetime

REQUEST_LOGGER = logging.getLogger("innforing.request")
# Attributes of a record passed through `extra=` that end up in the JSON line.
FIELDS = ("method", "path", "status", "duration_ms", "user_id", "job_id")


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
            "message": record.getMessage(),
            **task_context(),
        }
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
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
