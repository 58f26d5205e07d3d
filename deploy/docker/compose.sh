#!/usr/bin/env bash
# Runs Docker Compose v2 (docker compose) or, where only that is installed,
# v1 (docker-compose), from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
if docker compose version >/dev/null 2>&1; then
  exec docker compose "$@"
fi
exec docker-compose "$@"
