"""Permission-matrix cases of rollout.governance (decisions). tests/actors/test_permissions.py
calls `cases(m)` with itself as `m` (for m.Case, m.by_role, m.api and the role tables)
and adds what it returns to the matrix."""


def cases(m) -> list:
    return []
