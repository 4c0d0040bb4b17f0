#!/usr/bin/env bash
# Build the web console (ui/) into baas/api/console/, where `baas serve` serves it and from
# where `pip install` ships it (package data). Two cached steps:
#   1. `npm ci` — skipped when ui/node_modules was installed from the current lockfile
#      (stamp: the lockfile's SHA-256 in ui/node_modules/.baas-lock.sha256);
#   2. type-check (svelte-check, strict TypeScript), unit tests (vitest) and `npm run build` —
#      skipped when the build's stamp (baas/api/console/.baas-src.sha256) matches a hash of
#      ui/'s sources, configuration and lockfile.
# Needs Node.js >= 20.19 and npm. BAAS_UI_FORCE=1 rebuilds regardless of the stamps.
set -euo pipefail
cd "$(dirname "$0")/.."
ui=ui
out=baas/api/console
if ! command -v npm >/dev/null; then
  echo "build-ui: npm not found; install Node.js 20 (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

lock_want=$(sha256sum "$ui/package-lock.json" | cut -d' ' -f1)
lock_stamp=$ui/node_modules/.baas-lock.sha256
if [[ ${BAAS_UI_FORCE:-} == 1 || ! -f $lock_stamp || "$(cat "$lock_stamp")" != "$lock_want" ]]; then
  echo "==> ui: npm ci" >&2
  (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_want" > "$lock_stamp"
fi

# Every file that changes the build: sources, public files and configuration (not node_modules).
src_want=$(
  cd "$ui" && find src public index.html package.json package-lock.json tsconfig.json \
    vite.config.ts svelte.config.js -type f 2>/dev/null | LC_ALL=C sort | xargs sha256sum |
    sha256sum | cut -d' ' -f1
)
src_stamp=$out/.baas-src.sha256
if [[ ${BAAS_UI_FORCE:-} != 1 && -f $out/index.html && -f $src_stamp && "$(cat "$src_stamp")" == "$src_want" ]]; then
  exit 0
fi
echo "==> ui: check, unit tests, build" >&2
(cd "$ui" && npm run --silent check && npm run --silent test && npm run --silent build)
echo "$src_want" > "$src_stamp"
