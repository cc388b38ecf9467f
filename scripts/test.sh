#!/usr/bin/env bash
# Install the project with its test extras into ./.venv and run the whole test suite.
# PostgreSQL tests use INJTRACK_TEST_POSTGRES_URL (default
# postgresql://postgres@127.0.0.1:5432/test) and are skipped, with the reason, when no server
# answers; INJTRACK_REQUIRE_POSTGRES=1 makes them fail instead. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_venv "[test]"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "$@"
