#!/usr/bin/env bash
# Builds the images docker-compose.yml uses, from source only:
#   peon:local  the peon binary on scratch
#   nats:local  nats-server built from its Go module on scratch
set -euo pipefail
cd "$(dirname "$0")"
root=../..
mkdir -p bin
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -buildvcs=false"
(cd "$root" && go build -trimpath -ldflags '-s -w' -o deploy/docker/bin/peon ./cmd/peon)
(cd "$root" && go build -trimpath -ldflags '-s -w' -o deploy/docker/bin/nats-server github.com/nats-io/nats-server/v2)
docker build -q -t peon:local -f peon.Dockerfile . >/dev/null
docker build -q -t nats:local -f nats.Dockerfile . >/dev/null
echo "built peon:local and nats:local"
