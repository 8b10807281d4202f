"""Synthetic rollout history for the demo registry (run by `seed_demo` after the registry)."""

from .history import SYSTEM_USERNAMES, seed_rollout

__all__ = ["SYSTEM_USERNAMES", "seed_rollout"]
