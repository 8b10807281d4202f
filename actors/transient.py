"""Errors that pass: the database or the broker was briefly away. A task that meets one is
retried later, with backoff. One definition for the tasks of every app."""

from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

TRANSIENT = (OperationalError, InterfaceError, BrokerError, RedisConnectionError)
MAX_RETRIES = 6
