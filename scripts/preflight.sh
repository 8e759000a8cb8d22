#!/usr/bin/env bash
# Check what a make target needs before it starts; on a miss print ONE line naming what is missing
# and how to fix it, and exit 1. Usage: preflight.sh python|git ... (PYTHON names the interpreter).
set -uo pipefail
PYTHON=${PYTHON:-python3}

fail() { echo "make: $*" >&2; exit 1; }

check_python() {
  command -v "$PYTHON" >/dev/null 2>&1 \
    || fail "no $PYTHON on PATH; install Python 3.11 or newer (Debian: apt-get install python3) or run make PYTHON=/path/to/python3.11"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "$PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); Wavegate needs 3.11 or newer: install it and run make PYTHON=python3.11"
  "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
    || fail "$PYTHON cannot create virtualenvs; install its venv module (Debian: apt-get install python3-venv)"
}

check_git() {
  command -v git >/dev/null 2>&1 || fail "git is not installed; the emulator keeps repositories in git (Debian: apt-get install git)"
}

for need in "$@"; do
  case "$need" in
    python) check_python ;;
    git) check_git ;;
    *) fail "preflight.sh: unknown check '$need'" ;;
  esac
done
