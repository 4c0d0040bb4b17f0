#!/usr/bin/env bash
# Install everything the `cluster` test suite needs for a real single-node Kubernetes cluster
# (tests/support/cluster.py): pods really run, under containerd + runc, on a CNI bridge.
#
#   Debian packages  containerd runc containernetworking-plugins nftables iptables ipset
#                    conntrack iproute2 busybox-static gcc: apt-get install, only when a command
#                    is missing (needs root, like scripts/install-system.sh).
#   Kubernetes       etcd, kube-apiserver, kubelet, kube-proxy, kube-controller-manager,
#                    kube-scheduler, kubectl at the pinned version: scripts/install-kube.sh (one
#                    `go build`, module hashes pinned by scripts/kube-apiserver/go.sum).
#   CoreDNS          scripts/cluster/coredns: a wrapper main with the cluster-DNS plugins only.
#   kube-router      scripts/cluster/kube-router: its NetworkPolicy controller (iptables + ipset)
#                    enforces NetworkPolicies. sigs.k8s.io/kube-network-policies cannot run on
#                    kernels without CONFIG_NFT_QUEUE (the CI VM's: `nft ... queue num 100`
#                    fails with "No such file or directory"); kube-router needs only xt matches.
#   pause            scripts/cluster/pause/pause.c, `gcc -static` (the pod sandbox program).
#
# The Go wrapper modules commit go.mod + go.sum, so builds are reproducible (-mod=readonly);
# BAAS_CLUSTER_UPDATE_LOCK=1 re-resolves them (-mod=mod) and writes them back after a bump.
# Each output is skipped when present with a matching stamp (inputs' hash), so CI can call this
# every run (warm: < 1 s). Cold (empty Go build cache, 2 cores): ~7.5 min measured: the six
# Kubernetes commands ~5 min in one `go build`, CoreDNS ~50 s, kube-router ~80 s, apt ~1 min.
#
# stdout: KEY=path lines: ETCD KUBE_APISERVER KUBELET KUBE_PROXY KUBE_CONTROLLER_MANAGER
# KUBE_SCHEDULER KUBECTL COREDNS KUBE_ROUTER PAUSE CONTAINERD CONTAINERD_SHIM CTR RUNC CNI_BIN_DIR
# BUSYBOX IPTABLES IPSET NFT CONNTRACK. Progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/install-lib.sh
source "$here/install-lib.sh"

COREDNS_VERSION=v1.14.0
KUBE_ROUTER_VERSION=v2.1.0
CNI_BIN_DIR=/usr/lib/cni

# install_packages: apt-get install the Debian packages whose command is missing.
install_packages() {
  local -A need=(
    [containerd]=containerd [ctr]=containerd [containerd-shim-runc-v2]=containerd
    [runc]=runc [nft]=nftables [iptables]=iptables [ipset]=ipset [conntrack]=conntrack
    [ip]=iproute2 [busybox]=busybox-static [gcc]=gcc
  )
  local cmd missing=()
  for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
  done
  [[ -x $CNI_BIN_DIR/bridge ]] || missing+=(containernetworking-plugins)
  # busybox-static provides /bin/busybox; the dynamic `busybox` package would not do in an image.
  [[ -e /usr/share/doc/busybox-static ]] || missing+=(busybox-static)
  if ((${#missing[@]} == 0)); then
    baas_log "cluster packages present (skipped)"
    return 0
  fi
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  [[ $(id -u) -eq 0 ]] ||
    baas_die "${missing[*]} missing and not root; install them: sudo apt-get install ${missing[*]}"
  baas_log "apt-get install ${missing[*]}"
  apt-get update -qq >&2
  # policy-rc.d / no init: the packaged containerd service is not started; the suite runs its own.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}

# tree_hash DIR: a short hash of the regular files in DIR (names and contents).
tree_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
    sha256sum | cut -c1-16
}

# build_wrapped NAME VERSION WRAPPER_DIR PACKAGE: `go build` PACKAGE inside a copy of the wrapper
# module WRAPPER_DIR into the cache; prints NAME's path. Skipped when the stamp matches.
build_wrapped() {
  local name=$1 version=$2 wrapper=$3 pkg=$4
  local dir out stamp want
  dir="$(baas_cache_root)/$name/$version"
  out="$dir/bin/$name"
  stamp="$dir/.$name.stamp"
  want="$name $version wrapper=$(tree_hash "$wrapper") cgo=0"
  baas_lock "$dir"
  if baas_stamp_ok "$stamp" "$want" "$out"; then
    baas_log "$name $version present (skipped): $out"
    printf '%s\n' "$out"
    return 0
  fi
  command -v go >/dev/null 2>&1 || baas_die "go is not installed (needed to build $name)"
  local work start mod=readonly
  [[ ${BAAS_CLUSTER_UPDATE_LOCK:-0} == 1 ]] && mod=mod
  work=$(mktemp -d "${TMPDIR:-/tmp}/baas-$name-build.XXXXXX")
  cp -R "$wrapper/." "$work/"
  mkdir -p "$dir/bin"
  baas_log "building $name $version (cold: a few minutes on 2 cores; cached afterwards)"
  start=$SECONDS
  (
    cd "$work"
    CGO_ENABLED=0 GOFLAGS="-mod=$mod" nice -n 10 go build -trimpath -ldflags "-s -w" \
      -o "$out.tmp" "$pkg"
  ) || { rm -rf "$work"; baas_die "go build of $name failed"; }
  if [[ $mod == mod ]]; then
    cp "$work/go.mod" "$work/go.sum" "$wrapper/"
    baas_log "updated ${wrapper#"$here/../"}/go.mod and go.sum"
    want="$name $version wrapper=$(tree_hash "$wrapper") cgo=0"
  fi
  rm -rf "$work"
  mv -f "$out.tmp" "$out"
  printf '%s\n' "$want" > "$stamp"
  baas_log "$name $version built in $((SECONDS - start))s: $out"
  printf '%s\n' "$out"
}

# build_pause: the static pod-sandbox program; prints its path.
build_pause() {
  local src=$here/cluster/pause/pause.c dir out stamp want
  want="pause $(sha256sum "$src" | cut -c1-16) static"
  dir="$(baas_cache_root)/pause/$(sha256sum "$src" | cut -c1-16)"
  out="$dir/bin/pause"
  stamp="$dir/.pause.stamp"
  baas_lock "$dir"
  if ! baas_stamp_ok "$stamp" "$want" "$out"; then
    mkdir -p "$dir/bin"
    gcc -static -Os -Wall -Wextra -Werror -o "$out.tmp" "$src"
    strip "$out.tmp"
    mv -f "$out.tmp" "$out"
    printf '%s\n' "$want" > "$stamp"
    baas_log "pause built: $out"
  fi
  printf '%s\n' "$out"
}

# which_or_die CMD: the absolute path of CMD.
which_or_die() {
  command -v "$1" 2>/dev/null || baas_die "$1 not found after installing the packages"
}

install_packages
bash "$here/install-kube.sh" etcd kube-apiserver kubelet kube-proxy kube-controller-manager \
  kube-scheduler kubectl
printf 'COREDNS=%s\n' "$(build_wrapped coredns "$COREDNS_VERSION" "$here/cluster/coredns" \
  baas.local/coredns)"
printf 'KUBE_ROUTER=%s\n' "$(build_wrapped kube-router "$KUBE_ROUTER_VERSION" \
  "$here/cluster/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router)"
printf 'PAUSE=%s\n' "$(build_pause)"
for key_cmd in CONTAINERD=containerd CONTAINERD_SHIM=containerd-shim-runc-v2 CTR=ctr RUNC=runc \
  BUSYBOX=busybox IPTABLES=iptables IPSET=ipset NFT=nft CONNTRACK=conntrack; do
  printf '%s=%s\n' "${key_cmd%%=*}" "$(which_or_die "${key_cmd#*=}")"
done
printf 'CNI_BIN_DIR=%s\n' "$CNI_BIN_DIR"
