# Sourced by scripts/demo and scripts/test: install what a fresh Debian/Ubuntu machine lacks.
# Usage: bootstrap_system PROGRAM:PACKAGE...   then   bootstrap_python EXTRAS
set -euo pipefail

bootstrap_system() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing: ${missing[*]} — install them with your system's package manager" >&2
    return 1
  fi
  local sudo=""
  [ "$(id -u)" = "0" ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

bootstrap_python() {
  # Installs into the interpreter that runs us; where the system forbids that (PEP 668, e.g. Debian's
  # own python3), into a virtualenv at .venv instead. Sets PYTHON to the interpreter to use.
  local python
  python=$(command -v python3 || command -v python)
  if "$python" -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
    "$python" -m venv --help >/dev/null 2>&1 || bootstrap_system_pkg python3-venv
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    python=.venv/bin/python
    export PATH="$PWD/.venv/bin:$PATH"
  fi
  "$python" -m pip install -q -e ".${1:-}"
  PYTHON="$python"
}

bootstrap_system_pkg() {
  local sudo=""
  [ "$(id -u)" = "0" ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}
