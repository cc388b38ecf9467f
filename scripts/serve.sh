#!/usr/bin/env bash
# Install the service into ./.venv and run it on the embedded SQLite store
# (./injtrack.sqlite unless INJTRACK_DB or INJTRACK_DATABASE_URL says otherwise).
# Extra arguments go to `injtrack serve`, e.g. ./scripts/serve.sh --port 8080 --host 0.0.0.0
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_venv ""
cd "$ROOT"
exec "$VENV/bin/injtrack" serve "$@"
