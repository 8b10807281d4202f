"""Concurrent writers on the embedded database (SQLite), as a user meets them: a real
threaded server on a SQLite file, eight PATCHes of the same organisation with the same
ETag at once. Exactly one wins; the others wait for it and get 412 with the newer version,
as on PostgreSQL, never "500 database is locked".

The server runs in a subprocess: the in-memory test database cannot be shared by real
threads, and this is the configuration `make run` serves.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 8

SETUP = """
from rest_framework.authtoken.models import Token
from actors.choices import Role
from tests.factories import OrganisationFactory, UserFactory
user = UserFactory(username="coord", role=Role.COORDINATOR, national_scope=True)
organisation = OrganisationFactory()
print(organisation.pk, Token.objects.create(user=user).key)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


@pytest.fixture
def sqlite_server(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "DEBUG": "0",
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
    }
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "load_reference_data", "-v0")
    organisation_id, token = _manage(env, "shell", "-v0", "-c", SETUP).stdout.split()[-2:]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/login/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield base, organisation_id, {"Authorization": f"Token {token}"}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_parallel_patches_with_the_same_etag_give_one_200_and_412s(sqlite_server):
    base, organisation_id, auth = sqlite_server
    url = f"{base}/api/v1/organisations/{organisation_id}/"
    etag = requests.get(url, headers=auth, timeout=10).headers["ETag"]
    start = threading.Barrier(WRITERS)
    statuses = [None] * WRITERS

    def patch(i: int) -> None:
        start.wait()
        response = requests.patch(
            url,
            json={"name": f"Samtidig {i}"},
            headers={**auth, "If-Match": etag},
            timeout=60,
        )
        statuses[i] = response.status_code

    threads = [threading.Thread(target=patch, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [200] + [412] * (WRITERS - 1)
    after = requests.get(url, headers=auth, timeout=10)
    assert after.headers["ETag"] == f'"{int(etag.strip(chr(34))) + 1}"'
    assert after.json()["name"].startswith("Samtidig ")
