#!/usr/bin/env bash
# The README's main-job command (make demo): bring examples/two-orgs.yaml up on this machine,
# write and read an asset through the sample chaincode, show baas status. Without Fabric's
# binaries it says how to get them and shows what works without them: validate, plan, render.
set -euo pipefail
cd "$(dirname "$0")/.."
BAAS=.venv/bin/baas
EXAMPLE=examples/two-orgs.yaml
$BAAS validate examples/*.yaml
if ! .venv/bin/python -c "from baas.fabric import binaries; binaries.find('2.5.16')" 2>/dev/null; then
  echo >&2
  echo "==> Fabric 2.5.16 binaries not found, so the network cannot run here." >&2
  echo "    Get them with:  $BAAS fabric install --version 2.5" >&2
  echo "    or point FABRIC_BIN at an extracted official release (bin/, config/, builders/)." >&2
  echo "    What works without them:" >&2
  $BAAS plan $EXAMPLE
  $BAAS pki generate $EXAMPLE --crypto .demo/crypto
  $BAAS render $EXAMPLE --out .demo/render --crypto .demo/crypto
  bash scripts/demo-console.sh "$EXAMPLE"
  exit 0
fi
$BAAS up $EXAMPLE
asset="demo-$(date +%s)"
$BAAS invoke $EXAMPLE basic CreateAsset "$asset" blue 5 Tomoko 300
$BAAS invoke $EXAMPLE basic TransferAsset "$asset" Max
$BAAS query $EXAMPLE basic ReadAsset "$asset" --peer peer1.org2.example.com
$BAAS status $EXAMPLE
echo >&2
echo "==> the network keeps running: 'baas logs $EXAMPLE NODE', 'baas down $EXAMPLE [--purge]'" >&2
bash scripts/demo-console.sh "$EXAMPLE"
