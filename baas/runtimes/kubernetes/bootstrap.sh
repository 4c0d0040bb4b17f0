#!/usr/bin/env bash
# Channel and chaincode bootstrap of a baas network, run by the toolbox Job
# (baas/runtimes/kubernetes/bootstrap.py) in the hyperledger/fabric-tools image.
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
#                                                     ("already exists" counts as joined; a 4xx
#                                                     other than 409 is not retried)
#   peer-join CHANNEL ORG MSPID PEER_ADDR             peer channel join unless already joined
#   install   ORG MSPID PEER_ADDR PACKAGE_FILE PACKAGE_ID
#                                                     install unless queryinstalled lists the ID
#   approve   CHANNEL NAME VERSION POLICY INIT ORG MSPID PEER_ADDR ORDERER_ORG ORDERER_ADDR
#             PACKAGE_ID                              approveformyorg unless the org approved this
#                                                     definition and package at the sequence
#   commit    CHANNEL NAME VERSION POLICY INIT ORG MSPID PEER_ADDR ORDERER_ORG ORDERER_ADDR
#             [PEER_ORG PEER_ADDR]...                 commit unless the definition is committed
#   init      CHANNEL NAME CTOR ORG MSPID PEER_ADDR ORDERER_ORG ORDERER_ADDR [PEER_ORG PEER_ADDR]...
#                                                     invoke --isInit with CTOR (JSON); Fabric's
#                                                     "already initialized" counts as done
#
# POLICY is a signature policy or "-" (the channel's default Endorsement policy); INIT is
# "yes" for --init-required. Identities: ORG's admin from $CRYPTO_DIR/ORG/admin/{msp,tls};
# TLS CAs are $CRYPTO_DIR/ORG/admin/tls/ca.crt. A failing step is retried ($ATTEMPTS times,
# $RETRY_DELAY seconds apart: nodes may still be starting) unless retrying cannot help; a
# command that fails prints the command (paths only, never key material) and Fabric's output.
#
# Sequences are not inputs: approve and commit read the committed definition
# (querycommitted --output json) each time. Not committed: sequence 1. Committed and equal to
# the wanted definition: its sequence, nothing to commit (an organisation whose package changed
# approves that sequence again with its new package ID, which Fabric allows). Committed and
# different: committed sequence + 1, an upgrade. Comparing with the committed definition, never
# an approved one, keeps a re-run after a partial upgrade (some approvals done, no commit) at the
# same sequence. "Equal" covers what querycommitted shows and baas sets: version, init_required,
# the endorsement and validation plugins (escc/vscc) and the kind of endorsement policy (the
# channel default, compared byte for byte, or a signature policy). The text of a signature
# policy is not compared (Fabric compiles it to bytes): to change it, bump the version.
#
# Init (INIT "yes"): Fabric records the version a chaincode was initialised for, so Init is due
# once per version. The init step always asks for it; "already initialized" means done, so a
# re-run, or a run after a failure between commit and Init, is safe.
set -euo pipefail

CRYPTO_DIR=${CRYPTO_DIR:-/etc/baas/crypto}
INPUT_DIR=${INPUT_DIR:-/etc/baas/bootstrap}
WORK_DIR=${WORK_DIR:-/tmp/baas}
STEPS_FILE=${STEPS_FILE:-$INPUT_DIR/steps.tsv}
ATTEMPTS=${ATTEMPTS:-10}
RETRY_DELAY=${RETRY_DELAY:-6}

OUT=""        # combined output of the last command run by `run`/`query` (stdout: `capture`)
CHANGES=0     # number of actions taken (joins, installs, approvals, commits, inits, blocks made)
PERMANENT=2   # a step's status when retrying cannot help

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

# capture COMMAND...: like query, but on success OUT holds stdout only (for parsers); on
# failure it holds stdout then stderr.
capture() {
  local status=0 errors="$WORK_DIR/.stderr"
  OUT=$("$@" 2>"$errors") || status=$?
  if [ "$status" -ne 0 ]; then OUT=$(printf '%s\n%s' "$OUT" "$(cat "$errors")"); fi
  rm -f "$errors"
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
  # osnadmin exits 0 whatever the HTTP status (non-zero only when it cannot reach the orderer,
  # which `run` reports and the step retries): the first line of its output says "Status: NNN".
  run osnadmin_as "$org" "$admin" channel join --channelID "$channel" \
    --config-block "$(block_file "$channel")" || return 1
  local code
  code=$(printf '%s\n' "$OUT" | head -n 1)
  code=${code#Status: }
  if [ "$code" = 201 ]; then
    changed "orderer $admin: joined channel $channel"
    return 0
  fi
  # Fabric answers 405 "cannot join: channel already exists" when the orderer joined meanwhile
  if [[ $code == 4?? ]] && printf '%s\n' "$OUT" | grep -qF "already exists"; then
    log "orderer $admin: already in channel $channel"
    return 0
  fi
  fail "orderer $admin refused to join channel $channel" \
    osnadmin channel join --channelID "$channel" -o "$admin" || true
  # 409: the channel is being removed from this orderer, a join works once that is done; 5xx
  # and anything unreadable may pass too. Any other 4xx (400 "invalid join block", a block
  # the orderer cannot verify...) is the same answer next time: stop now.
  if [[ $code == 4?? && $code != 409 ]]; then return "$PERMANENT"; fi
  return 1
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

# The validation parameter Fabric stores for the channel's default policy: the ApplicationPolicy
# {channel_config_policy_reference: "/Channel/Application/Endorsement"} (tag 0x12, length 32),
# base64 as querycommitted prints it. A signature policy is field 1 (tag 0x0a): base64 "C...".
DEFAULT_POLICY_B64=EiAvQ2hhbm5lbC9BcHBsaWNhdGlvbi9FbmRvcnNlbWVudA==
# querycommitted --output json (Go's encoding/json of QueryChaincodeDefinitionResult: snake_case
# keys, init_required omitted when false) → "SEQUENCE|VERSION|INIT|EPLUGIN|VPLUGIN|POLICY KIND".
# shellcheck disable=SC2016 # $default is a jq variable
COMMITTED_FILTER='[.sequence, .version, (.init_required // false), .endorsement_plugin,
  .validation_plugin, (.validation_parameter // "" | if . == $default then "default"
  elif startswith("C") then "signature" else "other" end)] | map(tostring) | join("|")'

SEQUENCE=0    # set by plan_definition: the sequence to approve and commit
CURRENT=no    # set by plan_definition: "yes" when the wanted definition is the committed one
COMMITTED=0   # set by plan_definition: the committed sequence (0: not defined)
UPGRADE_LOGGED=""

# wanted_definition VERSION POLICY INIT: the wanted definition in COMMITTED_FILTER's terms.
wanted_definition() {
  local kind=signature init=false
  if [ "$2" = "-" ]; then kind=default; fi
  if [ "$3" = "yes" ]; then init=true; fi
  printf '%s|%s|escc|vscc|%s' "$1" "$init" "$kind"
}

# plan_definition CHANNEL NAME VERSION POLICY INIT ORG MSPID PEER_ADDR: set COMMITTED, SEQUENCE
# and CURRENT from the definition committed on the channel (see the header); non-zero status
# when the peer cannot tell.
plan_definition() {
  local channel=$1 name=$2 version=$3 policy=$4 init=$5 org=$6 msp=$7 peer=$8 line committed
  local command=(peer lifecycle chaincode querycommitted --channelID "$channel" --name "$name"
    --output json)
  if ! capture as_admin "$org" "$msp" "$peer" "${command[@]}"; then
    if printf '%s\n' "$OUT" | grep -qF "status: 404"; then # namespace NAME is not defined
      COMMITTED=0 SEQUENCE=1 CURRENT=no
      return 0
    fi
    fail "querycommitted failed" as_admin "$org" "$msp" "$peer" "${command[@]}"
    return 1
  fi
  if ! line=$(printf '%s\n' "$OUT" | jq -r --arg default "$DEFAULT_POLICY_B64" \
    "$COMMITTED_FILTER" 2>&1) || ! [[ $line =~ ^[1-9][0-9]*\| ]]; then
    OUT+=$'\n'"jq: $line"
    fail "cannot read the committed definition of $name on $channel" \
      as_admin "$org" "$msp" "$peer" "${command[@]}"
    return 1
  fi
  COMMITTED=${line%%|*}
  committed=${line#*|}
  if [ "$committed" = "$(wanted_definition "$version" "$policy" "$init")" ]; then
    SEQUENCE=$COMMITTED CURRENT=yes
  else
    SEQUENCE=$((COMMITTED + 1)) CURRENT=no
    if [ "$UPGRADE_LOGGED" != "$channel/$name/$SEQUENCE" ]; then
      UPGRADE_LOGGED="$channel/$name/$SEQUENCE"
      log "$name on $channel: sequence $COMMITTED committed ($committed), upgrading to $SEQUENCE"
    fi
  fi
}

# approved_package CHANNEL NAME SEQUENCE ORG MSPID PEER_ADDR: print the package ID the org
# approved at SEQUENCE (empty: no approval, or approved without a package); non-zero status
# when the peer cannot tell.
approved_package() {
  local channel=$1 name=$2 sequence=$3 org=$4 msp=$5 peer=$6
  local command=(peer lifecycle chaincode queryapproved --channelID "$channel" --name "$name"
    --sequence "$sequence")
  if query as_admin "$org" "$msp" "$peer" "${command[@]}"; then
    # "sequence: N, version: V, init-required: B, package-id: ID, endorsement plugin: ..."
    if ! printf '%s\n' "$OUT" | grep -qF ", package-id: "; then
      fail "cannot read the approved definition of $name on $channel" \
        as_admin "$org" "$msp" "$peer" "${command[@]}"
      return 1
    fi
    printf '%s\n' "$OUT" | sed -n 's/.*, package-id: \([^,]*\), .*/\1/p' | head -n 1
    return 0
  fi
  if printf '%s\n' "$OUT" | grep -qF "could not fetch approved chaincode definition"; then
    return 0
  fi
  fail "queryapproved failed" as_admin "$org" "$msp" "$peer" "${command[@]}"
  return 1
}

step_approve() {
  local channel=$1 name=$2 version=$3 policy=$4 init=$5 org=$6 msp=$7 peer=$8
  local orderer_org=$9 orderer=${10} id=${11} approved
  plan_definition "$channel" "$name" "$version" "$policy" "$init" "$org" "$msp" "$peer" ||
    return 1
  approved=$(approved_package "$channel" "$name" "$SEQUENCE" "$org" "$msp" "$peer") || return 1
  definition_args "$policy" "$init"
  if [ "$approved" = "$id" ]; then
    if [ "$CURRENT" = "yes" ]; then
      log "$name on $channel: sequence $SEQUENCE committed, approved by $msp with $id"
      return 0
    fi
    # same package: did the org approve this very definition (policy bytes included)?
    run as_admin "$org" "$msp" "$peer" peer lifecycle chaincode checkcommitreadiness \
      --channelID "$channel" --name "$name" --version "$version" --sequence "$SEQUENCE" \
      "${DEFINITION[@]}" || return 1
    if printf '%s\n' "$OUT" | grep -qxF -- "$msp: true"; then
      log "$name on $channel: $msp already approved sequence $SEQUENCE"
      return 0
    fi
  fi
  local command=(peer lifecycle chaincode approveformyorg --orderer "$orderer" --tls
    --cafile "$(tls_ca "$orderer_org")" --channelID "$channel" --name "$name"
    --version "$version" --sequence "$SEQUENCE" --package-id "$id" "${DEFINITION[@]}")
  local status=0
  query as_admin "$org" "$msp" "$peer" "${command[@]}" || status=$?
  if [ "$status" -ne 0 ]; then
    if printf '%s\n' "$OUT" | grep -qF "attempted to redefine the current committed sequence"; then
      local why="$name on $channel: sequence $SEQUENCE is committed with parameters baas does"
      why+=" not compare (the endorsement policy's text) that differ from these; bump the"
      fail "$why chaincode version to change them" \
        as_admin "$org" "$msp" "$peer" "${command[@]}" || true
      return "$PERMANENT"
    fi
    fail "command failed with exit status $status" \
      as_admin "$org" "$msp" "$peer" "${command[@]}" || true
    return 1
  fi
  changed "$name on $channel: $msp approved sequence $SEQUENCE ($id)"
}

step_commit() {
  local channel=$1 name=$2 version=$3 policy=$4 init=$5 org=$6 msp=$7 peer=$8
  local orderer_org=$9 orderer=${10}
  shift 10
  plan_definition "$channel" "$name" "$version" "$policy" "$init" "$org" "$msp" "$peer" ||
    return 1
  if [ "$CURRENT" = "yes" ]; then
    log "$name on $channel: sequence $SEQUENCE (version $version) already committed"
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
    --channelID "$channel" --name "$name" --version "$version" --sequence "$SEQUENCE" \
    "${DEFINITION[@]}" "${targets[@]}" || return 1
  changed "$name on $channel: sequence $SEQUENCE committed (version $version)"
}

# Init: Fabric refuses a second Init of the same version at endorsement, before the chaincode
# runs (core/chaincode/chaincode_support.go CheckInvocation), so asking is harmless.
ALREADY_INITIALIZED="is already initialized but called as init"

step_init() {
  local channel=$1 name=$2 ctor=$3 org=$4 msp=$5 peer=$6 orderer_org=$7 orderer=$8
  shift 8
  local targets=()
  while [ "$#" -ge 2 ]; do
    targets+=(--peerAddresses "$2" --tlsRootCertFiles "$(tls_ca "$1")")
    shift 2
  done
  local command=(peer chaincode invoke --orderer "$orderer" --tls
    --cafile "$(tls_ca "$orderer_org")" --channelID "$channel" --name "$name" --isInit
    --ctor "$ctor" --waitForEvent "${targets[@]}")
  if query as_admin "$org" "$msp" "$peer" "${command[@]}"; then
    changed "$name on $channel: initialised ($ctor)"
    return 0
  fi
  if printf '%s\n' "$OUT" | grep -qF -- "$ALREADY_INITIALIZED"; then
    log "$name on $channel: already initialised for its version"
    return 0
  fi
  fail "Init of $name on $channel failed" as_admin "$org" "$msp" "$peer" "${command[@]}"
}

# attempt STEP ARGS...: run the step, retrying it (every step is idempotent) on failure.
attempt() {
  local step=$1 try=1
  shift
  while true; do
    local status=0
    "step_${step//-/_}" "$@" || status=$?
    if [ "$status" -eq 0 ]; then return 0; fi
    if [ "$status" -eq "$PERMANENT" ]; then
      printf '[bootstrap] ERROR: step %s failed; retrying cannot help\n' "$step" >&2
      return 1
    fi
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
      block | osn-join | peer-join | install | approve | commit | init) ;;
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
