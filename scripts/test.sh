#!/usr/bin/env bash
# The test command (README, .ci/run): install what the suite needs (each step cached and skipped
# when present at its pinned version), lint, type-check, then the whole pytest suite, including
# the tests against real servers (OpenBao, etcd + kube-apiserver, helm), which the suite starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/venv.sh
echo "==> real components (cached under ~/.cache/baas)" >&2
bash scripts/install-helm.sh >/dev/null
bash scripts/install-netpol-tools.sh >/dev/null
bash scripts/install-kube.sh >/dev/null
bash scripts/install-cluster.sh >/dev/null
bash scripts/install-vault-injector.sh >/dev/null
bash scripts/install-postgres.sh >/dev/null
bash scripts/build-ui.sh  # the web console (npm ci, check, unit tests, build; cached)
echo "==> ruff" >&2
.venv/bin/ruff check baas topology pki tests bench
echo "==> mypy" >&2
.venv/bin/mypy
echo "==> pytest" >&2
exec .venv/bin/pytest -p no:cacheprovider "$@"
