#!/usr/bin/env bash
# One entry point for every setup task: `setup`, `repl`, `test [--fast] [PYTEST ARGS]`, `lint`.
# Idempotent: re-running `setup` on a ready venv only checks it. The README's two commands and .ci/run call it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
venv="${QABOT_VENV:-.venv}"
py="${PYTHON:-python3}"

setup() {
  if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
  fi
  local vpy="$venv/bin/python"
  # A stamp of the dependency files: skip pip entirely when nothing changed since the last setup.
  local stamp="$venv/.qabot-setup"
  local want
  want="$(cat pyproject.toml scripts/dev.sh | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  "$vpy" -m pip install --quiet --upgrade pip
  # The CPU torch first: an unpinned torch (pulled in by sentence-transformers) would fetch a multi-GB CUDA build.
  "$vpy" -m pip install --quiet "torch==2.13.0"
  "$vpy" -m pip install --quiet -e ".[dev,e5,milvus,redis]"
  echo "$want" > "$stamp"
}

run_tests() {
  export PTB_TIMEDELTA=1
  export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
  export no_proxy="$NO_PROXY"
  export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
  "$venv/bin/python" -m pytest "$@"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  setup) setup ;;
  repl) setup; export HF_HUB_OFFLINE=1; exec "$venv/bin/qabot" repl "$@" ;;
  test)
    setup
    # --fast leaves out the tests marked slow (each over ~5 s: real qabot processes, kill -9 runs, load).
    if [ "${1:-}" = "--fast" ]; then
      shift
      run_tests -m "not slow" "$@"
    else
      run_tests "$@"
    fi
    ;;
  lint) setup; "$venv/bin/ruff" check qabot tests benchmarks ;;
  *) echo "usage: scripts/dev.sh setup|repl|test [--fast]|lint" >&2; exit 2 ;;
esac
