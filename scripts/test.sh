#!/usr/bin/env bash
# The test command (README, .ci/run): lint, type-check, then the whole pytest suite, including
# the tests against real servers (OpenBao, etcd + kube-apiserver, helm), which the suite starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
echo "==> ruff" >&2
.venv/bin/ruff check baas topology pki tests bench
echo "==> mypy" >&2
.venv/bin/mypy
echo "==> pytest" >&2
exec .venv/bin/pytest -p no:cacheprovider "$@"
