#!/usr/bin/env bash
# Debian packages the test suite needs: openssl verifies every generated chain, shellcheck lints
# the bootstrap script, jq runs it against the stand-in Fabric CLI, chromium renders the served
# pages (/docs) in the browser tests. Skipped when the commands already exist; needs root (CI
# runs as root).
set -euo pipefail
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "==> apt-get install ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "error: ${missing[*]} missing and not root; install them: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
