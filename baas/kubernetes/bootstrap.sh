#!/usr/bin/env bash
# Channel and chaincode bootstrap of a baas network, run by the toolbox Job
# (baas/kubernetes/bootstrap.py) in the hyperledger/fabric-tools image.
#
# Idempotent: every step reads the state first and acts only on what is missing, so the Job can
# be retried (backoffLimit) and re-run at will. Steps come from $INPUT_DIR/steps.tsv, one per
# line, tab-separated fields ("-" = none), processed in order:
#
#   block     CHANNEL PROFILE [ORG MSPID ADMIN_ADDR ORDERER_ADDR]...
#             the channel's genesis block in $WORK_DIR: block 0 fetched from an orderer that
#             already joined the channel, else made by configtxgen from $INPUT_DIR/configtx.yaml
#             (anchor peers are in it: no anchor-peer update is needed)
#   osn-join  CHANNEL ORG ADMIN_ADDR                  osnadmin join unless already joined
#   peer-join CHANNEL ORG MSPID PEER_ADDR             peer channel join unless already joined
#   install   ORG MSPID PEER_ADDR PACKAGE_FILE PACKAGE_ID
#                                                     install unless queryinstalled lists the ID
#   approve   CHANNEL NAME VERSION SEQUENCE POLICY INIT ORG MSPID PEER_ADDR ORDERER_ORG
#             ORDERER_ADDR PACKAGE_ID                 approveformyorg unless the definition is
#                                                     committed or the org already approved it
#   commit    CHANNEL NAME VERSION SEQUENCE POLICY INIT ORG MSPID PEER_ADDR ORDERER_ORG
#             ORDERER_ADDR [PEER_ORG PEER_ADDR]...    commit unless querycommitted has it
#
# POLICY is a signature policy or "-" (the channel's default Endorsement policy); INIT is
# "yes" for --init-required. Identities: ORG's admin from $CRYPTO_DIR/ORG/admin/{msp,tls};
# TLS CAs are $CRYPTO_DIR/ORG/admin/tls/ca.crt. A failing step is retried ($ATTEMPTS times,
# $RETRY_DELAY seconds apart: nodes may still be starting); a command that fails prints the
# command (paths only, never key material) and Fabric's own output.
set -euo pipefail

CRYPTO_DIR=${CRYPTO_DIR:-/etc/baas/crypto}
INPUT_DIR=${INPUT_DIR:-/etc/baas/bootstrap}
WORK_DIR=${WORK_DIR:-/tmp/baas}
STEPS_FILE=${STEPS_FILE:-$INPUT_DIR/steps.tsv}
ATTEMPTS=${ATTEMPTS:-10}
RETRY_DELAY=${RETRY_DELAY:-6}

OUT=""        # combined output of the last command run by `run`/`query`
CHANGES=0     # number of actions taken (joins, installs, approvals, commits, blocks made)

log() { printf '[bootstrap] %s\n' "$*"; }

quoted() {
  local out="" arg
  for arg in "$@"; do out+="$(printf '%q' "$arg") "; done
  printf '%s' "${out% }"
}

# fail MESSAGE [COMMAND...]: print MESSAGE, the command and the output of the last command.
fail() {
  local message=$1
  shift
  {
    printf '[bootstrap] ERROR: %s\n' "$message"
    if [ "$#" -gt 0 ]; then printf '[bootstrap]   command: %s\n' "$(quoted "$@")"; fi
    if [ -n "$OUT" ]; then printf '%s\n' "$OUT" | sed 's/^/[bootstrap]   | /'; fi
  } >&2
  return 1
}

# query COMMAND...: run it, keep its output in OUT, return its status (caller decides).
query() {
  local status=0
  OUT=$("$@" 2>&1) || status=$?
  return "$status"
}

# run COMMAND...: like query, but a failure is reported with the command and its output.
run() {
  local status=0
  query "$@" || status=$?
  if [ "$status" -ne 0 ]; then
    fail "command failed with exit status $status" "$@" || true
  fi
  return "$status"
}

changed() {
  CHANGES=$((CHANGES + 1))
  log "$*"
}

tls_ca() { printf '%s/%s/admin/tls/ca.crt' "$CRYPTO_DIR" "$1"; }

# as_admin ORG MSPID PEER_ADDR COMMAND...: COMMAND with the peer CLI environment of ORG's admin.
as_admin() {
  local org=$1 msp=$2 peer=$3
  shift 3
  env CORE_PEER_LOCALMSPID="$msp" \
    CORE_PEER_MSPCONFIGPATH="$CRYPTO_DIR/$org/admin/msp" \
    CORE_PEER_TLS_ENABLED=true \
    CORE_PEER_TLS_ROOTCERT_FILE="$(tls_ca "$org")" \
    CORE_PEER_ADDRESS="$peer" \
    "$@"
}

# osnadmin_as ORG ADMIN_ADDR ARGS...: osnadmin with ORG's admin TLS client certificate.
osnadmin_as() {
  local org=$1 admin=$2
  shift 2
  osnadmin "$@" -o "$admin" --ca-file "$(tls_ca "$org")" \
    --client-cert "$CRYPTO_DIR/$org/admin/tls/client.crt" \
    --client-key "$CRYPTO_DIR/$org/admin/tls/client.key"
}

block_file() { printf '%s/%s.block' "$WORK_DIR" "$1"; }

# osn_joined CHANNEL ORG ADMIN_ADDR: 0 joined, 1 not joined, 2 cannot tell (error printed).
osn_joined() {
  local channel=$1 org=$2 admin=$3
  run osnadmin_as "$org" "$admin" channel list --channelID "$channel" || return 2
  case "$(printf '%s\n' "$OUT" | head -n 1)" in
    "Status: 200") return 0 ;;
    "Status: 404") return 1 ;;
  esac
  fail "unexpected answer from orderer $admin about channel $channel" \
    osnadmin channel list --channelID "$channel" -o "$admin" || true
  return 2
}

step_block() {
  local channel=$1 profile=$2
  shift 2
  local block status
  block=$(block_file "$channel")
  if [ -s "$block" ]; then return 0; fi
  while [ "$#" -ge 4 ]; do
    local org=$1 msp=$2 admin=$3 orderer=$4
    shift 4
    status=0
    osn_joined "$channel" "$org" "$admin" || status=$?
    case "$status" in
      0)
        # Peers and the other orderers must join with the channel's real block 0: a new
        # configtxgen run would give a different block (timestamps). --bestEffort: an orderer
        # that joined alone has no Raft leader yet and refuses plain deliver requests
        # (SERVICE_UNAVAILABLE) until the others join, which they cannot without this block.
        run as_admin "$org" "$msp" "$orderer" peer channel fetch 0 "$block.tmp" \
          --channelID "$channel" --orderer "$orderer" --tls --cafile "$(tls_ca "$org")" \
          --bestEffort || return 1
        mv "$block.tmp" "$block" || return 1
        log "channel $channel: block 0 fetched from $orderer"
        return 0
        ;;
      1) ;;
      *) return 1 ;;
    esac
  done
  run configtxgen -configPath "$INPUT_DIR" -profile "$profile" -channelID "$channel" \
    -outputBlock "$block.tmp" || return 1
  mv "$block.tmp" "$block" || return 1
  changed "channel $channel: genesis block created (profile $profile)"
}

step_osn_join() {
  local channel=$1 org=$2 admin=$3 status=0
  osn_joined "$channel" "$org" "$admin" || status=$?
  case "$status" in
    0)
      log "orderer $admin: already in channel $channel"
      return 0
      ;;
    1) ;;
    *) return 1 ;;
  esac
  run osnadmin_as "$org" "$admin" channel join --channelID "$channel" \
    --config-block "$(block_file "$channel")" || return 1
  if [ "$(printf '%s\n' "$OUT" | head -n 1)" != "Status: 201" ]; then
    fail "orderer $admin refused to join channel $channel" \
      osnadmin channel join --channelID "$channel" -o "$admin"
    return 1
  fi
  changed "orderer $admin: joined channel $channel"
}

step_peer_join() {
  local channel=$1 org=$2 msp=$3 peer=$4
  run as_admin "$org" "$msp" "$peer" peer channel list || return 1
  if printf '%s\n' "$OUT" | grep -qxF -- "$channel"; then
    log "peer $peer: already in channel $channel"
    return 0
  fi
  run as_admin "$org" "$msp" "$peer" peer channel join --blockpath "$(block_file "$channel")" ||
    return 1
  changed "peer $peer: joined channel $channel"
}

step_install() {
  local org=$1 msp=$2 peer=$3 file=$4 id=$5
  run as_admin "$org" "$msp" "$peer" peer lifecycle chaincode queryinstalled || return 1
  if printf '%s\n' "$OUT" | grep -qF -- "Package ID: $id,"; then
    log "peer $peer: $id already installed"
    return 0
  fi
  if ! query as_admin "$org" "$msp" "$peer" peer lifecycle chaincode install "$INPUT_DIR/$file"; then
    if printf '%s\n' "$OUT" | grep -qF "already successfully installed"; then
      log "peer $peer: $id already installed"
      return 0
    fi
    fail "install failed" peer lifecycle chaincode install "$INPUT_DIR/$file"
    return 1
  fi
  changed "peer $peer: installed $id"
}

# definition_args POLICY INIT: the flags shared by checkcommitreadiness, approve and commit.
DEFINITION=()
definition_args() {
  DEFINITION=()
  if [ "$1" != "-" ]; then DEFINITION+=(--signature-policy "$1"); fi
  if [ "$2" = "yes" ]; then DEFINITION+=(--init-required); fi
}

# committed_sequence CHANNEL NAME ORG MSPID PEER_ADDR: print the committed sequence (0 if the
# chaincode is not defined on the channel); non-zero status when the peer cannot tell.
committed_sequence() {
  local channel=$1 name=$2 org=$3 msp=$4 peer=$5
  if query as_admin "$org" "$msp" "$peer" peer lifecycle chaincode querycommitted \
    --channelID "$channel" --name "$name"; then
    local sequence
    sequence=$(printf '%s\n' "$OUT" | sed -n 's/.*Sequence: \([0-9][0-9]*\),.*/\1/p' | head -n 1)
    if [ -z "$sequence" ]; then
      fail "cannot read the committed sequence of $name on $channel" \
        peer lifecycle chaincode querycommitted --channelID "$channel" --name "$name"
      return 1
    fi
    printf '%s' "$sequence"
    return 0
  fi
  if printf '%s\n' "$OUT" | grep -qE "status: 404|not defined|not found"; then
    printf '0'
    return 0
  fi
  fail "querycommitted failed" \
    peer lifecycle chaincode querycommitted --channelID "$channel" --name "$name"
  return 1
}

step_approve() {
  local channel=$1 name=$2 version=$3 sequence=$4 policy=$5 init=$6 org=$7 msp=$8 peer=$9
  local orderer_org=${10} orderer=${11} id=${12} committed
  committed=$(committed_sequence "$channel" "$name" "$org" "$msp" "$peer") || return 1
  if [ "$committed" -ge "$sequence" ]; then
    log "$name on $channel: sequence $committed committed, $msp approval not needed"
    return 0
  fi
  definition_args "$policy" "$init"
  run as_admin "$org" "$msp" "$peer" peer lifecycle chaincode checkcommitreadiness \
    --channelID "$channel" --name "$name" --version "$version" --sequence "$sequence" \
    "${DEFINITION[@]}" || return 1
  if printf '%s\n' "$OUT" | grep -qxF -- "$msp: true"; then
    log "$name on $channel: $msp already approved sequence $sequence"
    return 0
  fi
  run as_admin "$org" "$msp" "$peer" peer lifecycle chaincode approveformyorg \
    --orderer "$orderer" --tls --cafile "$(tls_ca "$orderer_org")" \
    --channelID "$channel" --name "$name" --version "$version" --sequence "$sequence" \
    --package-id "$id" "${DEFINITION[@]}" || return 1
  changed "$name on $channel: $msp approved sequence $sequence ($id)"
}

step_commit() {
  local channel=$1 name=$2 version=$3 sequence=$4 policy=$5 init=$6 org=$7 msp=$8 peer=$9
  local orderer_org=${10} orderer=${11} committed
  shift 11
  committed=$(committed_sequence "$channel" "$name" "$org" "$msp" "$peer") || return 1
  if [ "$committed" -ge "$sequence" ]; then
    log "$name on $channel: sequence $committed already committed"
    return 0
  fi
  local targets=()
  while [ "$#" -ge 2 ]; do
    targets+=(--peerAddresses "$2" --tlsRootCertFiles "$(tls_ca "$1")")
    shift 2
  done
  definition_args "$policy" "$init"
  run as_admin "$org" "$msp" "$peer" peer lifecycle chaincode commit \
    --orderer "$orderer" --tls --cafile "$(tls_ca "$orderer_org")" \
    --channelID "$channel" --name "$name" --version "$version" --sequence "$sequence" \
    "${DEFINITION[@]}" "${targets[@]}" || return 1
  changed "$name on $channel: sequence $sequence committed"
}

# attempt STEP ARGS...: run the step, retrying it (every step is idempotent) on failure.
attempt() {
  local step=$1 try=1
  shift
  while true; do
    if "step_${step//-/_}" "$@"; then return 0; fi
    if [ "$try" -ge "$ATTEMPTS" ]; then
      printf '[bootstrap] ERROR: step %s failed %s times; giving up\n' "$step" "$try" >&2
      return 1
    fi
    log "step $step failed (attempt $try/$ATTEMPTS); retrying in ${RETRY_DELAY}s"
    try=$((try + 1))
    sleep "$RETRY_DELAY"
  done
}

main() {
  mkdir -p "$WORK_DIR"
  if [ ! -r "$STEPS_FILE" ]; then
    printf '[bootstrap] ERROR: no steps file at %s\n' "$STEPS_FILE" >&2
    return 1
  fi
  local fields count=0
  while IFS=$'\t' read -r -u 3 -a fields; do
    if [ "${#fields[@]}" -eq 0 ] || [[ ${fields[0]} == "#"* ]]; then continue; fi
    case "${fields[0]}" in
      block | osn-join | peer-join | install | approve | commit) ;;
      *)
        printf '[bootstrap] ERROR: unknown step %q in %s\n' "${fields[0]}" "$STEPS_FILE" >&2
        return 1
        ;;
    esac
    count=$((count + 1))
    attempt "${fields[@]}" || return 1
  done 3<"$STEPS_FILE"
  log "done: $count steps, $CHANGES changes"
}

main "$@"
