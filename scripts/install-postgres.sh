#!/usr/bin/env bash
# PostgreSQL from Debian's packages, for the API's tests against a real server (the suite starts
# a throwaway cluster with initdb/pg_ctl under a temporary folder; nothing is started here).
# Skipped when a server binary (initdb) is already installed; installing needs root (CI is root).
# Prints POSTGRES_BIN=<folder of initdb, pg_ctl, postgres> on stdout.
set -euo pipefail

find_bin() {
  local dir
  dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r | while read -r d; do
    if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
      printf '%s\n' "$d"
      break
    fi
  done)
  [[ -n $dir ]] && printf '%s\n' "$dir"
}

if bin=$(find_bin); then
  printf 'POSTGRES_BIN=%s\n' "$bin"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "error: PostgreSQL is not installed and this is not root; install it: sudo apt-get install postgresql" >&2
  exit 1
fi
echo "==> apt-get install postgresql" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The package's own cluster is not needed: keep apt from creating and starting one.
mkdir -p /etc/postgresql-common/createcluster.d
printf 'create_main_cluster = false\n' >/etc/postgresql-common/createcluster.d/baas-no-main.conf
apt-get install -y -qq postgresql >/dev/null
bin=$(find_bin) || { echo "error: postgresql installed but no initdb found under /usr/lib/postgresql" >&2; exit 1; }
printf 'POSTGRES_BIN=%s\n' "$bin"
