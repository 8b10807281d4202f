#!/usr/bin/env bash
# Smoke test of the real production stack (README, "Smoke test"): production settings,
# gunicorn, a Celery worker and beat as separate processes on PostgreSQL and Redis, driven
# over HTTP by scripts/smoke_client.py; then a backup (pg_dump) restored into a fresh
# database must pass the reference invariants and keep the append-only triggers.
#
#   DATABASE_URL=postgres://…/innforing REDIS_URL=redis://…/0 scripts/smoke.sh
#
# It creates (dropping first) the databases <name>_smoke and <name>_smoke_restored next to
# the one in DATABASE_URL (or SMOKE_DATABASE_URL and SMOKE_DATABASE_URL_restored), uses
# SMOKE_REDIS_URL (default REDIS_URL) as broker and cache, stops everything it started
# and drops its databases again (KEEP_SMOKE_DATABASES=1 keeps them). On a failure it
# prints the tails of the logs and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?Set DATABASE_URL to a PostgreSQL database (the smoke databases go next to it).}"
: "${REDIS_URL:?Set REDIS_URL to a Redis database.}"
PY=.venv/bin/python
started_at=$SECONDS
log() { printf '\n=== [%3ds] %s\n' "$((SECONDS - started_at))" "$*"; }
fail() { printf '\nSMOKE FAILED: %s\n' "$*" >&2; exit 1; }

# --- databases, PostgreSQL client tools of the server's version ------------------------
url_with_db() {  # URL DBNAME -> the URL with its database replaced
  "$PY" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' "$1" "$2"
}
db_name() { "$PY" -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).path.lstrip("/"))' "$1"; }

SMOKE_DATABASE_URL="${SMOKE_DATABASE_URL:-$(url_with_db "$DATABASE_URL" "$(db_name "$DATABASE_URL")_smoke")}"
SMOKE_DB="$(db_name "$SMOKE_DATABASE_URL")"
RESTORED_DB="${SMOKE_DB}_restored"
RESTORED_DATABASE_URL="$(url_with_db "$SMOKE_DATABASE_URL" "$RESTORED_DB")"
MAINTENANCE_URL="$(url_with_db "$SMOKE_DATABASE_URL" postgres)"

any_pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$any_pg_bin" ] || fail "no PostgreSQL client tools in /usr/lib/postgresql/*/bin"
server_major="$("$any_pg_bin/psql" "$MAINTENANCE_URL" -XtAc 'SHOW server_version_num' | cut -c1-2)"
PGBIN="/usr/lib/postgresql/$server_major/bin"
[ -x "$PGBIN/pg_dump" ] || fail "no pg_dump for the server's version $server_major ($PGBIN)"
psql() { PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -v ON_ERROR_STOP=1 "$@"; }
recreate_db() {
  psql "$MAINTENANCE_URL" -q -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\""
}
drop_db() { psql "$MAINTENANCE_URL" -q -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" 2>/dev/null || true; }

# --- the environment of every process: production settings ---------------------------
work="$(mktemp -d /tmp/smoke.XXXXXX)"
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DJANGO_SETTINGS_MODULE=config.settings_production
SECRET_KEY="smoke-$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 60)"
export SECRET_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export CSRF_TRUSTED_ORIGINS="https://127.0.0.1:$PORT"
export DATABASE_URL="$SMOKE_DATABASE_URL"
export REDIS_URL="${SMOKE_REDIS_URL:-$REDIS_URL}"
export COVERAGE_RECOMPUTE_DELAY=2
export PRIVATE_MEDIA_ROOT="$work/private"
export STATIC_ROOT="$work/static"
export HOST=127.0.0.1 PORT
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
export PYTHONUNBUFFERED=1
# Sign-in through a real OpenID Connect provider (oidc-provider-mock, its own process).
OIDC_PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT" OIDC_CLIENT_ID=innforing-smoke
export OIDC_CLIENT_SECRET=smoke-secret OIDC_PROVIDER_NAME=Testleverandør OIDC_CLAIM_ORGNR=orgnr
export OIDC_GROUP_ROLES="hdir-innforing=directorate@983544622"

# --- processes: started in their own process group, all stopped on exit ---------------
pids=()
start() {  # NAME COMMAND… : background, output to $work/NAME.log
  local name="$1"
  shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  echo "$!" >"$work/$name.pid"
}
alive() { kill -0 "$(cat "$work/$1.pid")" 2>/dev/null; }
tails() {
  for name in gunicorn worker beat oidc; do
    [ -f "$work/$name.log" ] || continue
    printf '\n----- last lines of %s.log -----\n' "$name" >&2
    tail -n 40 "$work/$name.log" >&2
  done
}
cleanup() {
  local rc=$?
  trap - EXIT
  [ "$rc" -eq 0 ] || tails
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  if [ "${KEEP_SMOKE_DATABASES:-}" != 1 ]; then
    drop_db "$SMOKE_DB"
    drop_db "$RESTORED_DB"
  fi
  rm -rf "$work"
  if [ "$rc" -eq 0 ]; then log "Smoke test passed in $((SECONDS - started_at)) s"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {  # NAME SECONDS COMMAND… : until COMMAND succeeds, while NAME is running
  local name="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    alive "$name" || fail "$name exited during start-up"
    [ "$SECONDS" -lt "$deadline" ] || fail "$name not up after $timeout s"
    sleep 0.5
  done
}
manage() { "$PY" manage.py "$@"; }

# --- 1. deployment checks (make serve collects the static files below) -----------------
log "check --deploy with production settings"
manage check --deploy --fail-level WARNING

# --- 2. a fresh database with the reference data and the demo ------------------------
log "Fresh database $SMOKE_DB: migrate, reference data, demo, demo users"
recreate_db "$SMOKE_DB"
manage migrate --noinput -v 0
manage load_reference_data
manage seed_demo --seed 1 --no-coverage-history
manage create_demo_users >/dev/null

# --- 3. the stack: gunicorn, worker, beat ---------------------------------------------
log "Starting the OpenID Connect provider on 127.0.0.1:$OIDC_PORT; make serve (collectstatic, gunicorn on 127.0.0.1:$PORT), make worker, make beat"
# (uvicorn would read WEB_CONCURRENCY, meant for gunicorn, as its own worker count)
start oidc env -u WEB_CONCURRENCY "$PY" -m oidc_provider_mock --port "$OIDC_PORT"
oidc_up() {
  "$PY" -c 'import sys, requests; sys.exit(requests.get(sys.argv[1], timeout=5).status_code != 200)' \
    "$OIDC_ISSUER/.well-known/openid-configuration"
}
wait_for oidc 60 oidc_up
# The operator's commands (README, Deploying): `make serve` migrates (nothing left to do
# here), collects the static files and starts gunicorn; `make worker` and `make beat`.
start gunicorn make --no-print-directory serve
start worker make --no-print-directory worker WORKER_ARGS="--concurrency=2 --hostname smoke-$$@%h --without-gossip --without-mingle"
start beat make --no-print-directory beat BEAT_ARGS="--schedule $work/celerybeat-schedule --pidfile $work/celerybeat.pid"
http_up() {
  "$PY" -c 'import sys, requests; r = requests.get(sys.argv[1], headers={"X-Forwarded-Proto": "https"}, allow_redirects=False, timeout=5); sys.exit(r.status_code != 200)' \
    "http://127.0.0.1:$PORT/login/"
}
worker_name="smoke-$$@$("$PY" -c 'import socket; print(socket.gethostname())')"
worker_ping() { .venv/bin/celery -A config inspect ping --destination "$worker_name" --timeout "$1"; }
worker_up() { grep -q 'ready\.' "$work/worker.log" || worker_ping 2; }
# beat opens its schedule file once it runs (its log lines depend on the log settings)
beat_up() { grep -q "beat: Starting" "$work/beat.log" || compgen -G "$work/celerybeat-schedule*"; }
wait_for gunicorn 300 http_up  # after collectstatic, which compresses every file
wait_for worker 90 worker_up
wait_for beat 60 beat_up
worker_ping 10 >/dev/null || fail "the worker does not answer a ping through the broker"

# --- 4. over HTTP ----------------------------------------------------------------------
log "Over HTTP: health, logins with static files, status change -> worker, national report"
"$PY" scripts/smoke_client.py "http://127.0.0.1:$PORT" "$work/worker.log" "$OIDC_ISSUER" | tee "$work/client.out"
job="$(sed -n 's/^COVERAGE_JOB=//p' "$work/client.out")"
[ -n "$job" ] || fail "the client did not report its coverage job"
manage shell -v 0 -c "
from django.utils import timezone
from actors.models import Job
from benefits.models import CoverageSnapshot
job = Job.objects.get(pk=$job)
# The client saw the national figure move; the job's own answer and today's figures:
assert job.state == Job.State.DONE and not job.result.get('failed'), job.result
today = CoverageSnapshot.objects.filter(day=timezone.localdate()).count()
assert job.result.get('snapshots') and today, 'no coverage figures for today from job %s' % job.pk
print('    job %s counted %s figures; %s stored for today' % (job.pk, job.result['snapshots'], today))
"
for name in gunicorn worker beat oidc; do alive "$name" || fail "$name is no longer running"; done

# --- 5. backup: dump, restore into a fresh database, check it --------------------------
log "Backup: pg_dump -Fc $SMOKE_DB, pg_restore into $RESTORED_DB"
"$PGBIN/pg_dump" -Fc --no-owner -f "$work/smoke.dump" "$SMOKE_DATABASE_URL"
recreate_db "$RESTORED_DB"
"$PGBIN/pg_restore" --no-owner --exit-on-error -d "$RESTORED_DATABASE_URL" "$work/smoke.dump"
count_history='SELECT count(*) FROM rollout_statuschange'
[ "$(psql "$SMOKE_DATABASE_URL" -tAc "$count_history")" = "$(psql "$RESTORED_DATABASE_URL" -tAc "$count_history")" ] ||
  fail "the restored status history has a different number of rows"
triggers="SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgname LIKE '%append_only%'"
[ "$(psql "$SMOKE_DATABASE_URL" -tAc "$triggers")" = "$(psql "$RESTORED_DATABASE_URL" -tAc "$triggers")" ] ||
  fail "the restored database lacks append-only triggers"
echo "    append-only triggers restored: $(psql "$RESTORED_DATABASE_URL" -tAc "$triggers")"
log "Restored database: migrations, reference invariants, append-only history"
DATABASE_URL="$RESTORED_DATABASE_URL" manage migrate --check --noinput >/dev/null ||
  fail "the restored database misses migrations"
DATABASE_URL="$RESTORED_DATABASE_URL" manage load_reference_data --check
DATABASE_URL="$RESTORED_DATABASE_URL" manage shell -v 0 -c "
from django.db import DatabaseError, connection, transaction
from rollout.models import StatusChange
row = StatusChange.objects.order_by('-pk').first()
assert row is not None, 'no status history to test'
for what, attempt in [
    ('UPDATE', lambda: StatusChange.objects.filter(pk=row.pk).update(reason='changed')),
    ('DELETE', lambda: StatusChange.objects.filter(pk=row.pk).delete()),
    ('TRUNCATE', lambda: connection.cursor().execute('TRUNCATE rollout_statuschange CASCADE')),
]:
    try:
        with transaction.atomic():
            attempt()
    except DatabaseError as exc:
        print('    %s on %s refused: %s' % (what, StatusChange._meta.db_table, str(exc).splitlines()[0]))
    else:
        raise SystemExit('%s on the restored status history was allowed' % what)
"
