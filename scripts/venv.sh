#!/usr/bin/env bash
# Create or refresh the project virtualenv in .venv. Skipped when .venv already
# matches the current pyproject.toml (hash stamp), so re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.pyproject.sha256
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ -x .venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "==> setting up .venv (python: $($PY --version))" >&2
$PY -m venv .venv
.venv/bin/pip install -q --upgrade pip
# setuptools reports every editable install with an "Editable installation." block of asterisks
# that pip (25 and later) shows even under -q; it is information, not a problem, so only that
# message is filtered out: every other warning and every error still print.
PYTHONWARNINGS="${PYTHONWARNINGS:+$PYTHONWARNINGS,}ignore:Editable installation" \
  .venv/bin/pip install -q -e '.[dev]'
echo "$want" > "$stamp"
