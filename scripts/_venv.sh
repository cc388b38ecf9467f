# Sourced by scripts/serve.sh and scripts/test.sh: make ./.venv with Python 3.11+ and install
# the project into it, editable, with the extras given as "$1" (e.g. "[test]").
# Honours PYTHON (the interpreter to build the venv with) and VENV (default ./.venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))'; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.11, 3.12 or 3.13 is required (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

ensure_venv() {
    local extras="${1:-}"
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python="$(find_python)"
        echo "creating $VENV with $python" >&2
        "$python" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    fi
    # Reinstall only when pyproject.toml changed since the last install with these extras.
    local stamp="$VENV/.injtrack-installed${extras:+-test}"
    local want
    want="$(cksum < "$ROOT/pyproject.toml")"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "installing injection-tracker$extras into $VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$extras" >&2
        echo "$want" > "$stamp"
    fi
}
