# Sourced by the scripts: makes sure .venv exists with the project installed (extras in $VIVA_EXTRAS).
#
# The install uses the versions of the last green CI run (scripts/constraints.txt; VIVA_UNLOCKED=1 resolves
# the ranges in pyproject.toml afresh instead). The stamp that skips the install next time is written only
# after pip succeeded and scripts/check_install.py found every runtime import declared and importable, so a
# failed or interrupted install is retried by the next run. VIVA_VENV names another venv folder.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="${VIVA_VENV:-$ROOT/.venv}"
LOCK="$ROOT/scripts/constraints.txt"
stamp="$VENV/.viva-installed${VIVA_EXTRAS:+-$VIVA_EXTRAS}"
lock_args=()
if [ -z "${VIVA_UNLOCKED:-}" ] && [ -f "$LOCK" ]; then lock_args=(-c "$LOCK"); fi
# What the stamp records: the inputs of the install. Any change to them installs again.
want="$(cat pyproject.toml "${lock_args[@]:1}" | "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())') ${VIVA_EXTRAS:-} ${VIVA_UNLOCKED:+unlocked}"

_viva_install_failed() {
  echo "Viva: the install into $VENV failed ($1); nothing was marked installed, so the next run tries again." >&2
  exit 1
}

if ! "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; then
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Viva needs Python 3.11 or newer")'
  rm -rf "$VENV"  # a venv interrupted while it was being made has no working pip
  "$PYTHON" -m venv "$VENV" || _viva_install_failed "could not create the virtual environment"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  rm -f "$stamp"
  echo "Installing Viva into $VENV ${lock_args:+(versions from scripts/constraints.txt)}..." >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2 || _viva_install_failed "pip could not upgrade itself"
  "$VENV/bin/python" -m pip install -q "${lock_args[@]}" -e ".${VIVA_EXTRAS:+[$VIVA_EXTRAS]}" >&2 \
    || _viva_install_failed "pip install exited with $?"
  "$VENV/bin/python" scripts/check_install.py >&2 \
    || _viva_install_failed "the installed server is missing a runtime dependency, listed above"
  printf '%s\n' "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
