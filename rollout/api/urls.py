def register(router) -> None:
    """Rollout endpoints on the project's one API router (config/urls.py)."""
