#!/usr/bin/env bash
# The end of `make demo`: the web console on the demo's network. Starts `baas serve` in the
# background (unless one already answers on BAAS_DEMO_PORT, default 8000), builds the console
# first when Node.js is there and it is not built, registers the topology with the API (the
# CLI's `up` ran it; the API then reads its live status), creates a consortium-admin token and
# prints the console's sign-in link with the token in its fragment (never sent to the server;
# the console drops it from the address bar). Stop the server with: kill "$(cat .demo/serve.pid)".
set -euo pipefail
cd "$(dirname "$0")/.."
BAAS=.venv/bin/baas
EXAMPLE=${1:-examples/two-orgs.yaml}
PORT=${BAAS_DEMO_PORT:-8000}
URL="http://127.0.0.1:$PORT"
mkdir -p .demo
if ! .venv/bin/python -c "import sys; from baas.api import webconsole; sys.exit(0 if webconsole.built() else 1)" 2>/dev/null; then
  if command -v npm >/dev/null; then bash scripts/build-ui.sh; else
    echo "==> the console is not built (needs Node.js 20: bash scripts/build-ui.sh); the API still serves" >&2
  fi
fi
if ! curl -sf "$URL/api/v1/health" >/dev/null 2>&1; then
  nohup "$BAAS" serve --port "$PORT" --source-dir "$(dirname "$EXAMPLE")" >.demo/serve.log 2>&1 &
  echo $! >.demo/serve.pid
  for _ in $(seq 1 60); do
    curl -sf "$URL/api/v1/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -sf "$URL/api/v1/health" >/dev/null || { echo "baas serve did not start: see .demo/serve.log" >&2; exit 1; }
fi
token=$("$BAAS" token create --role consortium-admin --name "make demo console" 2>/dev/null)
name=$(sed -n 's/^  name: \([a-z0-9-]*\)$/\1/p' "$EXAMPLE" | head -1)
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/yaml' --data-binary @"$EXAMPLE" "$URL/api/v1/networks")
case $status in
  201 | 409) ;; # created, or there from an earlier demo
  *) echo "registering $EXAMPLE with the API answered $status" >&2 ;;
esac
echo >&2
echo "==> the web console (baas serve on $URL, log .demo/serve.log; stop: kill \$(cat .demo/serve.pid)):" >&2
echo "    $URL/signin?next=%2Fnetworks%2F$name#token=$token"
