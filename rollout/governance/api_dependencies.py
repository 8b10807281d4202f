"""API of rollout.governance (dependencies); registered by rollout/api/urls.py."""


def register(router) -> None:
    pass
