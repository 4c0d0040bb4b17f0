#!/usr/bin/env bash
# Install network-config-analyzer (IBM np-guard `nca`: who-can-reach-whom from workloads +
# NetworkPolicies) into its OWN virtualenv: it pins its dependencies exactly, which would fight
# the project's .venv.
#
# Output (skipped when present at the pinned version for the same interpreter):
#   ${XDG_CACHE_HOME:-$HOME/.cache}/baas/netpol-tools/nca-<version>/venv/bin/nca
# stdout: NCA=<path>. Progress goes to stderr.
#
# Environment: BAAS_NCA_PYTHON (interpreter for the venv, default python3; needs >= 3.9).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/install-lib.sh
source "$here/install-lib.sh"

NCA_VERSION=2.1.0
# The full resolved set, so a new machine gets what was tested (nca pins its direct deps; the
# transitive ones below are pinned here).
REQUIREMENTS="network-config-analyzer==$NCA_VERSION
beautifulsoup4==4.12.3
fastcore==2.2.41
ghapi==1.0.6
greenery==4.0.0
lxml==5.3.0
networkx==3.2.1
packaging==26.4
PyYAML==6.0.2
soupsieve==4.1.3"

py=${BAAS_NCA_PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || baas_die "$py not found"
py_path=$(command -v "$py")
py_id="$("$py" -c 'import sys; print(sys.version.split()[0])') $(readlink -f "$py_path")"

dir="$(baas_cache_root)/netpol-tools/nca-$NCA_VERSION"
venv="$dir/venv"
out="$venv/bin/nca"
stamp="$dir/.nca.stamp"
want="network-config-analyzer $NCA_VERSION python $py_id requirements $(printf '%s' "$REQUIREMENTS" | sha256sum | cut -c1-16)"
baas_lock "$dir"
if baas_stamp_ok "$stamp" "$want" "$out" && "$out" --version >/dev/null 2>&1; then
  baas_log "network-config-analyzer $NCA_VERSION present (skipped): $out"
  printf 'NCA=%s\n' "$out"
  exit 0
fi
start=$SECONDS
baas_log "installing network-config-analyzer $NCA_VERSION into $venv"
rm -rf "$venv" "$stamp"
"$py" -m venv "$venv"
printf '%s\n' "$REQUIREMENTS" > "$dir/requirements.txt"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  -r "$dir/requirements.txt" >&2
"$venv/bin/python" -m pip check >&2
"$out" --version >&2
printf '%s\n' "$want" > "$stamp"
baas_log "network-config-analyzer $NCA_VERSION installed in $((SECONDS - start))s: $out"
printf 'NCA=%s\n' "$out"
