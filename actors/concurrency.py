"""Optimistic concurrency for editable records (an integer `version` field, or another
value that changes with every save: a user's access, actors.access.access_etag)."""

from __future__ import annotations

from django.utils.translation import gettext as _


class VersionConflict(Exception):
    """Someone saved the record after the caller read it. `current` is the fresh record,
    `current_version` its version now (`current.version` unless given)."""

    def __init__(self, current, expected_version, *, current_version=None, message=None):
        self.current = current
        self.expected_version = expected_version
        self.current_version = current.version if current_version is None else current_version
        super().__init__(
            message
            or _(
                "Someone else saved this record while you were editing it (your version "
                "%(expected)s, now %(current)s). Review the current values and save again."
            )
            % {"expected": expected_version, "current": self.current_version}
        )


def check_version(obj, expected_version: int | None) -> None:
    if expected_version is None or int(expected_version) != obj.version:
        raise VersionConflict(obj, expected_version)


def show_conflict(form, conflict: VersionConflict) -> None:
    """Keep what the user typed, say that someone saved first, and let the next save be a
    deliberate one over the newer version."""
    form.add_error(None, str(conflict))
    form.data = form.data.copy()
    form.data["version"] = conflict.current_version
