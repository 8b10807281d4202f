"""Solutions, rollout statuses, areas, readiness and governance (see the rollout issue)."""
