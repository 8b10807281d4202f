"""The HTTP half of scripts/smoke.sh: talks to the running production stack (gunicorn,
Celery worker) the way a browser behind a TLS-terminating proxy and an API client would.

    smoke_client.py BASE_URL WORKER_LOG OIDC_ISSUER

Every request says `X-Forwarded-Proto: https` (production redirects plain http). The
session and CSRF cookies are Secure, which `requests` will not send over http, so cookies
are kept here by hand. Exits non-zero with a message on the first failed check.
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

import openpyxl
import requests

# The demo logins of create_demo_users (README, "Two commands").
DEMO_USERS = {
    "koordinator": "demo-koordinator-2026",
    "koordinator-vest": "demo-koordinator-vest-2026",
    "kommunekontakt": "demo-kommunekontakt-2026",
    "direktorat": "demo-direktorat-2026",
    "admin": "demo-admin-2026",
}
HASHED_ASSET = re.compile(r"\.[0-9a-f]{12}\.(css|js)$")
JOB_TIMEOUT = 180  # seconds for the worker to finish a job


class SmokeFailure(Exception):
    pass


def check(condition, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def step(message: str) -> None:
    print(f"--- {message}", flush=True)


class Client:
    """One user agent: its own cookies, always "https" as seen through the proxy."""

    def __init__(self, base: str):
        self.base = base.rstrip("/") + "/"
        self.origin = "https://" + urlsplit(self.base).netloc
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, headers=None, **kwargs) -> requests.Response:
        url = urljoin(self.base, path.lstrip("/"))
        sent = {
            "X-Forwarded-Proto": "https",
            "Origin": self.origin,
            "Referer": self.origin + urlsplit(url).path,
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if "csrftoken" in self.cookies and method not in ("GET", "HEAD"):
            sent.setdefault("X-CSRFToken", self.cookies["csrftoken"])
        response = self.http.request(
            method, url, headers=sent, allow_redirects=False, timeout=120, **kwargs
        )
        self.http.cookies.clear()  # ours are kept below, Secure or not
        for header in response.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def follow(self, path: str) -> requests.Response:
        """GET, following redirects within the site."""
        response = self.get(path)
        for _ in range(10):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            location = response.headers["Location"]
            check(
                not location.startswith("http") or location.startswith(self.origin),
                f"{path}: redirected off the site to {location}",
            )
            response = self.get(urlsplit(location).path + _query(location))
        raise SmokeFailure(f"{path}: too many redirects")

    def json(self, method: str, path: str, expect: int, **kwargs) -> dict:
        response = self.request(method, path, **kwargs)
        check(
            response.status_code == expect,
            f"{method} {path}: expected {expect}, got {response.status_code}: "
            f"{response.text[:500]}",
        )
        return response.json() if response.content else {}


def _query(url: str) -> str:
    query = urlsplit(url).query
    return f"?{query}" if query else ""


def check_health(client: Client) -> None:
    step("/helse/ answers ok, also to a load balancer's plain-http probe")
    response = client.get("/helse/")
    check(
        response.status_code == 200,
        f"/helse/ answered {response.status_code}: {response.text[:300]}",
    )
    plain = requests.get(urljoin(client.base, "helse/"), allow_redirects=False, timeout=30)
    check(plain.status_code == 200, f"/helse/ over plain http answered {plain.status_code}")
    print(f"    {response.status_code} {response.text.strip()[:80]!r}")


def login(client: Client, username: str, password: str) -> requests.Response:
    """Through the login form, as a browser; returns the start page."""
    form = client.get("/login/")
    check(form.status_code == 200, f"GET /login/ answered {form.status_code}")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    check(token, "the login page has no CSRF token")
    response = client.request(
        "POST",
        "/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
    )
    check(
        response.status_code == 302,
        f"{username}: login answered {response.status_code} (expected a redirect): "
        f"{response.text[:300]}",
    )
    check("sessionid" in client.cookies, f"{username}: no session cookie after login")
    start = client.follow(response.headers["Location"])
    check(start.status_code == 200, f"{username}: start page answered {start.status_code}")
    return start


def check_assets(client: Client, page: requests.Response, seen: set[str]) -> int:
    """The page's stylesheets and scripts have hashed names and load."""
    links = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', page.text)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page.text)
    assets = [url for url in links + scripts if "/static/" in url]
    check(any(a.endswith(".css") for a in assets), "the start page links no stylesheet")
    check(any(a.endswith(".js") for a in assets), "the start page loads no script")
    for url in assets:
        path = urlsplit(url).path
        check(HASHED_ASSET.search(path), f"static file without a hashed name: {path}")
        if path in seen:
            continue
        response = client.get(path)
        check(response.status_code == 200, f"{path} answered {response.status_code}")
        check(response.content, f"{path} is empty")
        seen.add(path)
    return len(assets)


def wait_for_job(client: Client, job_id: int) -> dict:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job = client.json("GET", f"/api/v1/jobs/{job_id}/", 200)
        if job["is_finished"]:
            check(job["state"] == "done", f"job {job_id} {job['state']}: {job.get('message')}")
            return job
        time.sleep(0.5)
    raise SmokeFailure(f"job {job_id} not finished after {JOB_TIMEOUT} s: {job}")


def ran_in_worker(worker_log: str, job_id: int) -> None:
    """The worker's log shows the task that did this job (so it did not run in-process)."""
    with open(worker_log, encoding="utf-8", errors="replace") as fh:
        log = fh.read()
    # Celery's own line (plain, or the message of a JSON line) ...
    if re.search(rf"run_job\[[0-9a-f-]+\] succeeded in [0-9.]+s: {job_id}\b", log):
        return
    # ... or any JSON line logged inside the task with its job id (config/logging.py).
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(record, dict)
            and str(record.get("job_id")) == str(job_id)
            and str(record.get("task", "")).endswith("run_job")
        ):
            return
    raise SmokeFailure(f"the worker's log does not show job {job_id} done")


def jobs_of(client: Client, kind: str) -> list[dict]:
    return [j for j in client.json("GET", "/api/v1/jobs/", 200)["results"] if j["kind"] == kind]


# A change that counts: an e-multidose status at a GP office set to "i bruk" raises the
# national numerator of the target "e-multidose-legekontor" (organisations, i_bruk).
COUNTED = {"target": "e-multidose-legekontor", "solution": "e-multidose",
           "type": "fastlegekontor", "to": "i_bruk"}  # fmt: skip


def national_numerator(client: Client, code: str) -> int:
    targets = client.json("GET", "/api/v1/coverage-targets/?page_size=100", 200)["results"]
    target = next((t for t in targets if t["code"] == code), None)
    check(target and target["national"], f"no national figures for the target {code}")
    return target["national"]["numerator"]


def check_status_change(client: Client, worker_log: str) -> int:
    """A coordinator changes a status through the API; the worker recomputes coverage and
    the national figure moves (only changed figures are stored again, so a new figure is
    the proof that the worker computed it)."""
    step("koordinator changes a status through the API")
    before = max((j["id"] for j in jobs_of(client, "coverage_recompute")), default=0)
    numerator = national_numerator(client, COUNTED["target"])
    rows = client.json(
        "GET",
        f"/api/v1/statuses/?solution={COUNTED['solution']}&type={COUNTED['type']}"
        "&status=planlegging&status=teknisk_klar&status=i_utproving",
        200,
    )["results"]
    check(rows, f"no {COUNTED['solution']} status at a {COUNTED['type']} short of in use")
    for row in rows[:10]:  # the first whose prerequisites allow "in use"
        detail = client.request("GET", f"/api/v1/statuses/{row['id']}/")
        check(detail.status_code == 200 and detail.headers.get("ETag"), "no ETag on a status")
        changed = client.request(
            "PATCH",
            f"/api/v1/statuses/{row['id']}/",
            json={"status": COUNTED["to"], "reason": "smoke test", "confirm_jump": True},
            headers={"If-Match": detail.headers["ETag"]},
        )
        if changed.status_code == 200:
            break
        check(changed.status_code == 400, f"PATCH answered {changed.status_code}: {changed.text}")
    else:
        raise SmokeFailure(f"no status could be set to {COUNTED['to']}: {changed.text[:300]}")
    check(changed.json()["status"] == COUNTED["to"], f"status not changed: {changed.text}")
    print(f"    {row['organisation_name']} / {row['solution']}: {row['status']} -> {COUNTED['to']}")
    step("the worker recomputes coverage after the change")
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        new = [
            j
            for j in jobs_of(client, "coverage_recompute")
            if j["id"] > before and j["params"].get("trigger") == "change"
        ]
        if new:
            break
        check(time.monotonic() < deadline, "no coverage recomputation queued after the change")
        time.sleep(0.5)
    job = wait_for_job(client, new[-1]["id"])
    ran_in_worker(worker_log, job["id"])
    print(f"    job {job['id']} done by the worker: {job.get('result')}")
    after = national_numerator(client, COUNTED["target"])
    check(
        after == numerator + 1,
        f"{COUNTED['target']}: the national numerator is {after}, expected {numerator + 1}",
    )
    print(f"    {COUNTED['target']}: national numerator {numerator} -> {after}")
    return job["id"]


def check_national_report(client: Client, worker_log: str) -> None:
    step("direktorat requests the national XLSX report")
    started = client.json(
        "POST", "/api/v1/reports/", 202, json={"kind": "national", "format": "xlsx"}
    )
    job = wait_for_job(client, started["job"])
    ran_in_worker(worker_log, job["id"])
    check(job["download"], f"report job {job['id']} has no download")
    response = client.get(urlsplit(job["download"]).path)
    check(response.status_code == 200, f"download answered {response.status_code}")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    check(workbook.sheetnames, "the workbook has no sheets")
    print(f"    {len(response.content)} bytes, sheets: {', '.join(workbook.sheetnames)}")


def provider_sign_in(client: Client, issuer: str, sub: str) -> requests.Response:
    """The authorization-code flow as a browser makes it: our start URL, the provider's
    form (it signs in `sub`), back to our callback; returns the callback's answer."""
    page = client.get("/login/")
    check("/oidc/authenticate/" in page.text, "the login page offers no provider sign-in")
    start = client.get("/oidc/authenticate/")
    check(start.status_code == 302, f"/oidc/authenticate/ answered {start.status_code}")
    authorize = start.headers["Location"]
    check(authorize.startswith(issuer), f"sign-in went to {authorize}, not to {issuer}")
    granted = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=30)
    check(granted.status_code == 302, f"the provider answered {granted.status_code}")
    callback = granted.headers["Location"]
    check(
        callback.startswith(client.origin + "/oidc/callback/"),
        f"the provider sent the browser to {callback}",
    )
    return client.get(urlsplit(callback).path + _query(callback))


def check_provider_sign_in(base: str, issuer: str) -> None:
    """Production settings with a real provider: a directorate member through the group
    mapping, a stranger to the no-access page, and logout at the provider."""
    step("sign-in through the OpenID Connect provider: group mapping and no access")
    claims = {
        "smoke-hdir": {
            "email": "hilde@example.no",
            "name": "Hilde Direktorat",
            "orgnr": "983544622",
            "groups": ["hdir-innforing"],
        },
        "smoke-ny": {"email": "ny@example.no", "name": "Ny Person", "orgnr": "974760673"},
    }
    for sub, values in claims.items():
        r = requests.put(f"{issuer}/users/{sub}", json=values, timeout=30)
        check(r.status_code == 204, f"the provider refused the user {sub}: {r.status_code}")
    client = Client(base)
    answer = provider_sign_in(client, issuer, "smoke-hdir")
    check(
        answer.status_code == 302 and "innlogging=feilet" not in answer.headers["Location"],
        f"the callback answered {answer.status_code} {answer.headers.get('Location')}",
    )
    me = client.json("GET", "/api/v1/users/me/", 200)
    check(me.get("role") == "directorate", f"the group gave the role {me.get('role')!r}")
    start = client.follow("/")
    check(start.status_code == 200, f"the directorate's start page answered {start.status_code}")
    print("    hdir-innforing with orgnr 983544622 signed in as directorate")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', start.text)
    check(token, "the start page has no logout form")
    out = client.request("POST", "/logout/", data={"csrfmiddlewaretoken": token[1]})
    check(
        out.status_code == 302 and out.headers["Location"].startswith(issuer),
        f"logout answered {out.status_code} {out.headers.get('Location')}, not the provider",
    )
    print("    logout ends the provider's session too")
    stranger = Client(base)
    provider_sign_in(stranger, issuer, "smoke-ny")
    page = stranger.get("/virksomheter/")
    check(
        page.status_code == 302 and page.headers["Location"].endswith("/ingen-tilgang/"),
        f"a person without a role got {page.status_code} on /virksomheter/",
    )
    check(stranger.get("/ingen-tilgang/").status_code == 403, "no no-access page")
    print("    a person without a role sees only the no-access page")


def main(base: str, worker_log: str, issuer: str) -> int:
    check_health(Client(base))
    clients, seen = {}, set()
    for username, password in DEMO_USERS.items():
        step(f"{username} logs in through the form")
        client = Client(base)
        page = login(client, username, password)
        count = check_assets(client, page, seen)
        print(f"    start page 200, {count} hashed static files load")
        clients[username] = client
    job_id = check_status_change(clients["koordinator"], worker_log)
    check_national_report(clients["direktorat"], worker_log)
    check_provider_sign_in(base, issuer)
    print(f"COVERAGE_JOB={job_id}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/")))
    except (SmokeFailure, requests.RequestException) as exc:
        print(f"SMOKE FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
