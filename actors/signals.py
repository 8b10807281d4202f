"""Signals with which actors (the lowest layer) lets higher apps react without importing
them: the apps above subscribe in their AppConfig.ready()."""

from django.dispatch import Signal

# Organisations or rollout statuses changed, in effect from `since` (a date, or None for
# today): whatever is computed from them (benefits' coverage targets) is to be redone.
coverage_inputs_changed = Signal()
