"""Programme governance (styring): evaluation and decision points with their briefs and
decisions, the change log, the cut list, external dependencies and reminders.

Models live in rollout/models.py; each part here keeps its services, selectors, views,
URLs and API together. Decision points, decisions, the change log and the cut list:
`access` (who may read and who may govern), `decision_points` (the schedule and its
points), `briefs`, `decisions`, `changelog`, `cutlist` and `whatif` (services and
selectors), `decision_views`, `urls_decisions` and `api_decisions`. Dependencies and
reminders: `dependencies`, `dependency_views`, `urls_dependencies`, `api_dependencies`."""
