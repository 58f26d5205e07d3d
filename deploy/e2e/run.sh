#!/usr/bin/env bash
# Cluster smoke test against the compose deployment: 3 NATS nodes (R3
# streams, sync always, least-privilege users) and 2 instances of every
# service, all from images built from source. It drives a turn end to end,
# then stops one decider, one projector and one ingest instance and checks
# the survivors carry on, and that the event stream has 3 replicas in sync.
# Bounded: every wait gives up after a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."

project=peon-e2e
if docker compose version >/dev/null 2>&1; then
  compose() { docker compose -p "$project" "$@"; }
else
  compose() { docker-compose -p "$project" "$@"; }   # Compose v1
fi
cleanup() { compose down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT

bash deploy/docker/build-images.sh
cleanup
compose up -d --scale decider=2 --scale projector=2 --scale query=2 --scale provider-ingest=2

export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
go build -o /tmp/peon-e2e ./cmd/peon
peon() { NATS_URL="nats://client:${PEON_CLIENT_PASSWORD:-client-secret}@127.0.0.1:4222" /tmp/peon-e2e "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

wait_for() { # wait_for <what> <command...>: retry for up to a minute
  local what=$1; shift
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "FAIL: $what"; compose logs --tail 50; exit 1
}

wait_for "services answer" peon projects list
project_id=$(peon cmd project.create name=e2e path=/e2e | field "['project_id']")
thread_id=$(peon cmd thread.create project_id="$project_id" title=e2e | field "['thread_id']")
turn_id=$(peon cmd turn.start thread_id="$thread_id" text=hello | field "['turn_id']")

# An adapter reports a short turn, with the adapter's credentials.
go run ./deploy/e2e/adapter \
  -url "nats://adapter:${PEON_ADAPTER_PASSWORD:-adapter-secret}@127.0.0.1:4222" \
  -thread "$thread_id" -turn "$turn_id" -text "hello from the cluster"
idle() { peon thread show "$thread_id" | grep -q "status Idle"; }
wait_for "the turn completes through ingest, decider and projector" idle
peon thread show "$thread_id" | grep -q "hello from the cluster" || { echo "FAIL: transcript"; exit 1; }

# Lose one instance of each service (kill -9): the others carry on.
for svc in decider projector query provider-ingest; do
  docker kill "$(docker ps -q --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$svc" | head -n 1)" >/dev/null
done
turn2=$(peon cmd turn.start thread_id="$(peon cmd thread.create project_id="$project_id" | field "['thread_id']")" text=again | field "['turn_id']")
[ -n "$turn2" ] || { echo "FAIL: a command after losing instances"; exit 1; }
wait_for "queries after losing instances" peon thread show "$thread_id"

replicas=$(peon status --json | field "['streams']['PEON_EVENTS']['replicas']")
[ "$replicas" = 3 ] || { echo "FAIL: PEON_EVENTS has $replicas replicas, want 3"; exit 1; }
echo "PASS: compose cluster smoke test"
