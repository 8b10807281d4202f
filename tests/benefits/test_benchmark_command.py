"""`manage.py benchmark` itself: it builds its copied registry, measures, and its figures
agree with the independent counts (a benchmark that has rotted measures nothing)."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from actors.models import Organisation
from benefits.benchmarks import registry
from benefits.models import CoverageSnapshot
from rollout.models import RolloutStatus, StatusChange

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_coverage_section_on_a_doubled_registry_agrees_with_independent_counts():
    call_command("seed_demo", seed=registry.SEED, no_coverage_history=True, verbosity=0)
    originals = Organisation.objects.filter(is_synthetic=True).count()
    statuses, history = RolloutStatus.objects.count(), StatusChange.objects.count()
    out = io.StringIO()

    call_command("benchmark", scale=2, runs=1, repeat=1, only=["coverage"], check=True, stdout=out)

    text = out.getvalue()
    assert logging.root.manager.disable == logging.NOTSET  # logging is given back as it was
    copies = Organisation.objects.filter(is_synthetic=True, name__endswith=" (kopi 1)")
    assert copies.count() == originals
    assert Organisation.objects.filter(is_synthetic=True).count() == 2 * originals
    assert RolloutStatus.objects.count() > statuses and StatusChange.objects.count() > history
    # every line of the section was measured (no "not measured"), the check agreed
    assert "not measured" not in text, text
    for line in (
        "Recompute all targets for today, as a multiple of one grouped SQL statement",
        "into empty days",
        "again (changed days only)",
    ):
        assert line in text, text
    assert "MISMATCH" not in text and "0 figures differ" in text, text
    # the back-fill into emptied days wrote the year again: every day has its figures
    days = CoverageSnapshot.objects.values("day").distinct().count()
    assert days >= 365

    # a second run reuses the registry instead of copying again
    said: list[str] = []
    registry.build(2, timezone.localdate(), said.append)
    assert said and said[0].startswith("Reusing the registry"), said
    assert Organisation.objects.filter(is_synthetic=True).count() == 2 * originals


def test_a_scale_out_of_range_is_refused_with_the_range():
    with pytest.raises(CommandError, match="between 1 and 100"):
        call_command("benchmark", scale=0, only=["coverage"])
