"""API of rollout.governance (decisions); registered by rollout/api/urls.py."""


def register(router) -> None:
    pass
