def register(router) -> None:
    """Benefits endpoints on the project's one API router (config/urls.py)."""
