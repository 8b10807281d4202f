"""Programme governance (styring): evaluation and decision points with their briefs and
decisions, the change log, the cut list, external dependencies and reminders.

Models live in rollout/models.py; each part here keeps its services, selectors, views,
URLs and API together: `decisions` (decision points, decisions, change log, cut list) and
`dependencies` (dependencies and reminders)."""
