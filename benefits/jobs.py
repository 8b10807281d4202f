"""Long work on the Celery worker, made safe against a broker or a worker that goes away.

The `Job` row is the outbox. A job is written in the same transaction as the change that
asks for it, and sent to the broker only once that transaction has committed. Nothing
depends on the message arriving:

- a job whose message could not be sent (the broker is down) stays queued and unsent;
- a job sent long ago that no worker has started (the broker lost its messages) is sent
  again;
- a running job has a heartbeat, written by a thread of the worker every few seconds; a
  job whose heartbeat stops (the worker was killed) is stalled: it is sent again once,
  and if it stalls again it is marked failed with the reason.

`sweep()` does all three. Beat runs it every few minutes (`benefits.tasks.sweep_jobs`),
and every job runs it when it finishes, so a backlog clears as soon as the broker is back.
Running a job twice is harmless (a day's snapshots are replaced, never added), and
`claim()` makes sure only one worker runs a job at a time.
"""

from __future__ import annotations

import datetime
import logging
import threading
from contextlib import contextmanager

from django.conf import settings
from django.db import (
    connections,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from actors import job_queue, transient
from actors.models import Job

log = logging.getLogger(__name__)

BROKER_DOWN = (BrokerError, RedisConnectionError, ConnectionError, OSError)
# Errors that pass: a job meeting one is retried later (benefits.tasks.run_job).
TRANSIENT = transient.TRANSIENT
# A stalled job is sent again this many times before it is marked failed.
MAX_ATTEMPTS = 2


def heartbeat_every() -> float:
    return settings.JOB_HEARTBEAT_SECONDS


def lost_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.JOB_LOST_AFTER_SECONDS)


def enqueue(job: Job, countdown: int = 0) -> Job:
    """Send the (just written) job to the worker once the transaction commits."""
    job.run_after = timezone.now() + datetime.timedelta(seconds=countdown)
    Job.objects.filter(pk=job.pk).update(run_after=job.run_after)
    # robust: the change that asked for the job is committed whatever happens to the job
    # (in-process mode runs it right here; a failure is on the Job row, not an error page).
    transaction.on_commit(lambda: send(job.pk, countdown), robust=True)
    return job


def send(job_id: int, countdown: int = 0) -> bool:
    """Hand the job to the broker; when it cannot be reached the job waits, saying so, and
    the sweep sends it later. True when the broker took the message."""
    from .tasks import run_job

    try:
        run_job.apply_async(
            args=[job_id],
            countdown=countdown or None,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except BROKER_DOWN as exc:
        log.warning("job %s waits for the broker: %s", job_id, exc)
        Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
            sent_at=None,
            message=_(
                "Waiting for the task queue, which cannot be reached (%(e)s). It is sent as "
                "soon as the queue is back."
            )
            % {"e": str(exc)[:200]},
        )
        return False
    Job.objects.filter(pk=job_id, state=Job.State.QUEUED, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    return True


def claim(job_id: int) -> bool:
    """Take a queued job for this worker. False when another worker has it or it is
    finished (a message delivered twice, or a stale one after a re-send)."""
    now = timezone.now()
    return bool(
        Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
            state=Job.State.RUNNING,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            attempts=F("attempts") + 1,
        )
    )


@contextmanager
def heartbeat(job_id: int):
    """While the body runs, a thread writes the job's heartbeat every few seconds on its
    own database connection; it stops with the body (or with the process)."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(heartbeat_every()):
                Job.objects.filter(pk=job_id, state=Job.State.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:  # the job itself reports database trouble
            log.exception("heartbeat of job %s stopped", job_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def stalled():
    """Running jobs whose heartbeat has stopped."""
    cutoff = Job.stalled_before()
    return Job.objects.filter(state=Job.State.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Send what is pending, send again what was lost, and deal with stalled jobs."""
    now = now or timezone.now()
    done = {"sent": 0, "resent": 0, "restarted": 0, "failed": 0}
    queued = Job.objects.filter(state=Job.State.QUEUED)
    pending = queued.filter(sent_at__isnull=True).filter(
        Q(run_after__isnull=True) | Q(run_after__lte=now)
    )
    for job_id in pending.values_list("pk", flat=True):
        done["sent"] += send(job_id)
    lost = queued.filter(sent_at__lt=now - lost_after()).filter(
        Q(run_after__isnull=True) | Q(run_after__lt=now - lost_after())
    )
    for job_id in lost.values_list("pk", flat=True):
        Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(sent_at=None)
        done["resent"] += send(job_id)
    for job in stalled():
        since = timezone.localtime(job.heartbeat_at or job.started_at).strftime("%d.%m.%Y %H:%M")
        if job.attempts < MAX_ATTEMPTS:
            restarted = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
                state=Job.State.QUEUED,
                sent_at=None,
                message=_(
                    "The worker running it stopped (no sign of life since %(t)s); started again."
                )
                % {"t": since},
            )
            if restarted:
                done["restarted"] += 1
                send(job.pk)
        else:
            done["failed"] += Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
                state=Job.State.FAILED,
                finished_at=now,
                message=_(
                    "The worker stopped %(n)s times while running it (the last sign of life "
                    "was at %(t)s), so it was given up. Check the worker's log and memory, "
                    "then start it again."
                )
                % {"n": job.attempts, "t": since},
            )
    if any(done.values()):
        log.info("job sweep: %s", done)
    return done


# Lower apps queue jobs (background imports) through this hook; benefits' AppConfig.ready()
# imports this module (through benefits.services).


def register_queue() -> None:
    """Lower apps queue their jobs (imports) through actors.job_queue; this is the queue."""
    job_queue.register(enqueue)
