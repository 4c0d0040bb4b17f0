"""bootstrap.sh: syntax (``bash -n``), ``shellcheck``, and its logic run against stand-ins.

No Fabric binary exists on this machine (fabric.md §5), so ``peer``, ``osnadmin`` and
``configtxgen`` are replaced by one small bash program (FAKE below) that keeps the network's
state in files and speaks the output formats the script parses (``osnadmin`` "Status: NNN"
lines, ``peer channel list``, ``queryinstalled``, ``checkcommitreadiness``, ``querycommitted``
plain text, taken from the Fabric sources). It computes package IDs on its own
(``sha256sum``), checks every file the script hands it exists, and logs every call. The script
runs on the real inputs: the ConfigMap and the Secret laid out by the Job's volume items.
The real binaries run in tests/kube/test_k3s.py where Docker is available.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import pki
import topology
from baas import plan as planning
from baas.channels import packaging
from baas.kubernetes import bootstrap

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "baas" / "kubernetes" / "bootstrap.sh"
GUARD_S = 300  # a hung script fails the test instead of hanging the suite

FAKE = r"""#!/usr/bin/env bash
# Stand-in for peer / osnadmin / configtxgen (chosen by the name it is called by).
set -euo pipefail
S=$FAKE_STATE
tool=$(basename "$0")
printf '%s\t%s\t%s\n' "$tool" "${CORE_PEER_ADDRESS:--}" "$*" >>"$S/calls.log"

die() { echo "Error: $*" >&2; exit 1; }
need() { [ -r "$1" ] || die "cannot read $1"; }
opt() {  # opt NAME ARGS...: the value after --NAME or -NAME
  local name=$1; shift
  while [ "$#" -gt 1 ]; do
    if [ "$1" = "--$name" ] || [ "$1" = "-$name" ]; then printf '%s' "$2"; return 0; fi
    shift
  done
  return 1
}
host() { printf '%s' "${1%:*}"; }
has() { local f=$1; shift; for a in "$@"; do [ "$a" = "$f" ] && return 0; done; return 1; }
maybe_fail() {  # $S/fail/<key> holds how many more failures to produce, or "always"
  local f="$S/fail/$1"
  [ -e "$f" ] || return 0
  local n; n=$(cat "$f")
  if [ "$n" != always ]; then
    if [ "$n" -le 1 ]; then rm -f "$f"; else echo $((n - 1)) >"$f"; fi
  fi
  die "fake failure of $1: connection refused"
}

case "$tool" in
configtxgen)
  maybe_fail configtxgen
  dir=$(opt configPath "$@"); profile=$(opt profile "$@"); ch=$(opt channelID "$@")
  out=$(opt outputBlock "$@")
  need "$dir/configtx.yaml"
  grep -q "^  $profile:\$" "$dir/configtx.yaml" || die "profile $profile not found"
  n=$(($(cat "$S/blocks" 2>/dev/null || echo 0) + 1)); echo "$n" >"$S/blocks"
  echo "BLOCK $ch $n" >"$out"
  ;;
osnadmin)
  maybe_fail "osnadmin-$2"
  addr=$(opt o "$@"); ch=$(opt channelID "$@")
  need "$(opt ca-file "$@")"; need "$(opt client-cert "$@")"; need "$(opt client-key "$@")"
  grep -q "PRIVATE KEY" "$(opt client-key "$@")" || die "client key is not a key"
  dir="$S/osn/${addr%:*}"
  case "$2" in
  list)
    if [ -f "$dir/$ch" ]; then printf 'Status: 200\n{\n\t"name": "%s"\n}\n' "$ch"
    else printf 'Status: 404\n{\n\t"error": "cannot find channel"\n}\n'; fi ;;
  join)
    block=$(opt config-block "$@"); need "$block"
    grep -q "^BLOCK $ch " "$block" || die "block is not of channel $ch"
    if [ -f "$dir/$ch" ]; then printf 'Status: 405\n'; exit 0; fi
    if [ -e "$S/fail/osnadmin-join-status" ]; then
      printf 'Status: 400\n{\n\t"error": "invalid join block"\n}\n'; exit 0
    fi
    mkdir -p "$dir"; cp "$block" "$dir/$ch"; printf 'Status: 201\n' ;;
  esac
  ;;
peer)
  [ -n "${CORE_PEER_LOCALMSPID:-}" ] || die "CORE_PEER_LOCALMSPID unset"
  need "$CORE_PEER_MSPCONFIGPATH/signcerts/cert.pem"
  need "$CORE_PEER_MSPCONFIGPATH/keystore/priv_sk"
  need "$CORE_PEER_MSPCONFIGPATH/config.yaml"
  need "$CORE_PEER_TLS_ROOTCERT_FILE"
  p="$S/peers/$CORE_PEER_ADDRESS"
  ch=$(opt channelID "$@" || true); name=$(opt name "$@" || true)
  case "$1 $2" in
  "channel list")
    maybe_fail peer-list
    echo "Channels peers has joined: "
    if [ -d "$p/channels" ]; then ls "$p/channels"; fi ;;
  "channel join")
    block=$(opt blockpath "$@"); need "$block"
    mkdir -p "$p/channels"; cp "$block" "$p/channels/$(awk '{print $2}' "$block")" ;;
  "channel fetch")
    [ "$3" = 0 ] || die "fetch $3"
    need "$(opt cafile "$@")"
    osn=$(host "$(opt orderer "$@")")
    # an orderer without a Raft leader only serves best-effort deliver requests
    if [ -e "$S/leaderless/$osn" ] && ! has --bestEffort "$@"; then
      die "can't read the block: &{SERVICE_UNAVAILABLE}"
    fi
    src="$S/osn/$osn/$ch"; need "$src"; cp "$src" "$4" ;;
  "lifecycle chaincode")
    init=no; if has --init-required "$@"; then init=yes; fi
    def="$(opt version "$@" || true)|$(opt signature-policy "$@" || echo -)|$init"
    seq=$(opt sequence "$@" || true)
    case "$3" in
    queryinstalled)
      echo "Installed chaincodes on peer:"
      for f in "$p"/installed/*; do
        [ -e "$f" ] || continue
        id=$(cat "$f"); echo "Package ID: $id, Label: ${id%%:*}"
      done ;;
    install)
      need "$4"
      label=$(tar -xzOf "$4" metadata.json | sed -n 's/.*"label": "\(.*\)".*/\1/p')
      id="$label:$(sha256sum "$4" | cut -d' ' -f1)"
      f="$p/installed/${id//:/_}"
      installed="chaincode already successfully installed"
      [ -e "$f" ] && die "chaincode install failed with status: 500 - $installed"
      mkdir -p "$p/installed"; echo "$id" >"$f"
      echo "Chaincode code package identifier: $id" ;;
    querycommitted)
      f="$S/committed/$ch/$name"
      [ -f "$f" ] || die "query failed with status: 404 - namespace $name is not defined"
      echo "Committed chaincode definition for chaincode '$name' on channel '$ch':"
      printf 'Version: %s, Sequence: %s, Endorsement Plugin: escc, ' \
        "$(sed -n 2p "$f")" "$(sed -n 1p "$f")"
      echo "Validation Plugin: vscc, Approvals: []" ;;
    checkcommitreadiness)
      printf "Chaincode definition for chaincode '%s', version 'x', sequence '%s' " "$name" "$seq"
      echo "on channel '$ch' approval status by org:"
      for f in "$S/approved/$ch/$name/$seq"/*; do
        [ -e "$f" ] || continue
        if [ "$(sed -n 1p "$f")" = "$def" ]; then echo "$(basename "$f"): true"
        else echo "$(basename "$f"): false"; fi
      done ;;
    approveformyorg)
      maybe_fail peer-approveformyorg
      need "$(opt cafile "$@")"; need "$S/osn/$(host "$(opt orderer "$@")")/$ch"
      [ -d "$p/channels" ] && [ -f "$p/channels/$ch" ] || die "peer not in channel $ch"
      pkg=$(opt package-id "$@"); need "$p/installed/${pkg//:/_}"
      mkdir -p "$S/approved/$ch/$name/$seq"
      printf '%s\n%s\n' "$def" "$pkg" >"$S/approved/$ch/$name/$seq/$CORE_PEER_LOCALMSPID" ;;
    commit)
      need "$(opt cafile "$@")"; need "$S/osn/$(host "$(opt orderer "$@")")/$ch"
      n=$(grep -c -- --peerAddresses <<<"$(printf '%s\n' "$@")")
      approvals=$(ls "$S/approved/$ch/$name/$seq" | wc -l)
      [ "$approvals" -ge "$n" ] || die "not enough approvals ($approvals of $n)"
      mkdir -p "$S/committed/$ch"
      printf '%s\n%s\n' "$seq" "$(opt version "$@")" >"$S/committed/$ch/$name" ;;
    *) die "unexpected lifecycle command $3" ;;
    esac ;;
  *) die "unexpected peer command $1 $2" ;;
  esac
  ;;
esac
"""

MUTATIONS = (
    ("configtxgen", ""),
    ("osnadmin", "channel join"),
    ("peer", "channel join"),
    ("peer", "lifecycle chaincode install"),
    ("peer", "lifecycle chaincode approveformyorg"),
    ("peer", "lifecycle chaincode commit"),
)


@dataclass(frozen=True)
class World:
    """A toolbox pod's files (crypto tree + inputs), the fake binaries and their state."""

    root: Path
    crypto: Path
    inputs: Path
    bin: Path
    state: Path
    plan: planning.Plan

    def run(self, *, attempts: int = 3, work: str = "work") -> subprocess.CompletedProcess[str]:
        """Run the script like a fresh pod would (``work`` = its emptyDir)."""
        env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "CRYPTO_DIR": str(self.crypto),
            "INPUT_DIR": str(self.inputs),
            "WORK_DIR": str(self.root / work),
            "FAKE_STATE": str(self.state),
            "ATTEMPTS": str(attempts),
            "RETRY_DELAY": "0",
            "HOME": str(self.root),
        }
        return subprocess.run(
            ["bash", str(self.inputs / "bootstrap.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=GUARD_S,
            check=False,
        )

    def calls(self) -> list[tuple[str, str, str]]:
        log = self.state / "calls.log"
        if not log.exists():
            return []
        lines = [line.split("\t") for line in log.read_text().splitlines()]
        return [(t, addr, args) for t, addr, args in lines]

    def mutations(self) -> list[tuple[str, str, str]]:
        return [
            c
            for c in self.calls()
            for tool, prefix in MUTATIONS
            if c[0] == tool and c[2].startswith(prefix)
        ]

    def reset_log(self) -> None:
        (self.state / "calls.log").unlink(missing_ok=True)

    def fail(self, key: str, times: str) -> None:
        (self.state / "fail").mkdir(exist_ok=True)
        (self.state / "fail" / key).write_text(times)


def _materialize(inputs: bootstrap.BootstrapInputs, crypto: Path, input_dir: Path) -> None:
    """Lay the Secret and ConfigMap out as the Job's volumes do."""
    data = {k: base64.b64decode(v) for k, v in inputs.secret["data"].items()}
    volume = next(
        v for v in inputs.job["spec"]["template"]["spec"]["volumes"] if v["name"] == "crypto"
    )
    for item in volume["secret"]["items"]:
        path = crypto / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[item["key"]])
    input_dir.mkdir(parents=True)
    for key, text in inputs.config_map["data"].items():
        (input_dir / key).write_text(text)
    for key, b64 in inputs.config_map.get("binaryData", {}).items():
        (input_dir / key).write_bytes(base64.b64decode(b64))


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[planning.Plan, Path]]:
    out: dict[str, tuple[planning.Plan, Path]] = {}
    for name in ("two-orgs", "bft"):
        network = topology.load(ROOT / "examples" / f"{name}.yaml").network
        root = tmp_path_factory.mktemp(name) / "crypto"
        pki.generate(root, planning.pki_org_specs(network), planning.pki_options(network))
        out[name] = (planning.build(network), root)
    return out


def _world(tmp_path: Path, plan: planning.Plan, crypto_root: Path) -> World:
    inputs = bootstrap.build_inputs(plan, crypto_root)
    assert inputs is not None
    world = World(
        root=tmp_path,
        crypto=tmp_path / "crypto",
        inputs=tmp_path / "inputs",
        bin=tmp_path / "bin",
        state=tmp_path / "state",
        plan=plan,
    )
    _materialize(inputs, world.crypto, world.inputs)
    world.bin.mkdir()
    world.state.mkdir()
    fake = world.bin / "fabric-fake"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    for tool in ("peer", "osnadmin", "configtxgen"):
        (world.bin / tool).symlink_to(fake)
    return world


@pytest.fixture
def two_orgs(tmp_path: Path, trees: dict[str, tuple[planning.Plan, Path]]) -> World:
    return _world(tmp_path, *trees["two-orgs"])


# --------------------------------------------------------------------------- static checks


def test_bash_syntax() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


@pytest.mark.skipif(
    shutil.which("shellcheck") is None,
    reason="shellcheck is not installed (apt-get install shellcheck)",
)
def test_shellcheck_clean() -> None:
    result = subprocess.run(
        ["shellcheck", "--shell=bash", str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_fake_is_shellcheck_clean(tmp_path: Path) -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    fake = tmp_path / "fake.sh"
    fake.write_text(FAKE)
    result = subprocess.run(
        ["shellcheck", "--shell=bash", "--exclude=SC2012,SC2015", str(fake)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_shipped_script_is_this_file() -> None:
    assert bootstrap.script_text() == SCRIPT.read_text()


# --------------------------------------------------------------------------- behaviour


def test_first_run_does_everything_second_run_nothing(two_orgs: World) -> None:
    first = two_orgs.run()
    assert first.returncode == 0, first.stderr
    plan = two_orgs.plan
    tools = [(t, a.split(" ")[:3]) for t, _, a in two_orgs.mutations()]
    assert tools.count(("configtxgen", ["-configPath", str(two_orgs.inputs), "-profile"])) == 1
    assert sum(1 for t, a in tools if t == "osnadmin") == 3
    assert sum(1 for t, a in tools if a[:2] == ["channel", "join"] and t == "peer") == 4
    assert sum(1 for t, a in tools if a[2:] == ["install"]) == 4
    assert sum(1 for t, a in tools if a[2:] == ["approveformyorg"]) == 2
    assert sum(1 for t, a in tools if a[2:] == ["commit"]) == 1
    assert "done: 15 steps, 15 changes" in first.stdout

    # every node joined with the same genesis block
    blocks = {p.read_text() for p in two_orgs.state.glob("osn/*/mychannel")}
    blocks |= {p.read_text() for p in two_orgs.state.glob("peers/*/channels/mychannel")}
    assert blocks == {"BLOCK mychannel 1\n"}
    # each org's peers hold that org's package, under the ID baas computed
    ids = {p.org: p.package_id for p in packaging.plan_packages(plan)}
    for org in ("org1", "org2"):
        for peer in ("peer0", "peer1"):
            installed = (
                two_orgs.state / "peers" / f"{peer}.supplychain-{org}.svc.cluster.local:7051"
            )
            assert [f.read_text().strip() for f in installed.glob("installed/*")] == [ids[org]]
    approval = two_orgs.state / "approved" / "mychannel" / "basic" / "1"
    assert sorted(f.name for f in approval.iterdir()) == ["Org1MSP", "Org2MSP"]
    assert (approval / "Org2MSP").read_text().splitlines() == [
        "1.0|AND('Org1MSP.peer','Org2MSP.peer')|no",
        ids["org2"],
    ]
    assert (two_orgs.state / "committed" / "mychannel" / "basic").read_text() == "1\n1.0\n"

    two_orgs.reset_log()
    second = two_orgs.run(work="work2")  # a new pod: empty scratch space
    assert second.returncode == 0, second.stderr
    assert two_orgs.mutations() == []
    assert "done: 15 steps, 0 changes" in second.stdout
    fetches = [c for c in two_orgs.calls() if c[2].startswith("channel fetch 0")]
    assert len(fetches) == 1  # the real block 0 comes from an orderer, not configtxgen


def test_new_peer_joins_with_the_channels_real_block(two_orgs: World) -> None:
    assert two_orgs.run().returncode == 0
    peer = two_orgs.state / "peers" / "peer1.supplychain-org2.svc.cluster.local:7051"
    shutil.rmtree(peer)  # as if org2 had just added peer1
    two_orgs.reset_log()
    result = two_orgs.run(work="later")
    assert result.returncode == 0, result.stderr
    mutated = [(addr, args.split(" ")[:3]) for _, addr, args in two_orgs.mutations()]
    assert mutated == [
        (peer.name, ["channel", "join", "--blockpath"]),
        (peer.name, ["lifecycle", "chaincode", "install"]),
    ]
    assert (peer / "channels" / "mychannel").read_text() == "BLOCK mychannel 1\n"
    assert "done: 15 steps, 2 changes" in result.stdout


def test_orderers_joined_elsewhere_give_the_block(two_orgs: World) -> None:
    """One orderer already in the channel (a previous, interrupted run): the others and the
    peers join with its block 0; configtxgen is not run again."""
    osn = two_orgs.state / "osn" / "orderer1.supplychain-ordererorg.svc.cluster.local"
    osn.mkdir(parents=True)
    (osn / "mychannel").write_text("BLOCK mychannel 77\n")
    # alone in a three-node Raft cluster, it has no leader: plain deliver requests are refused
    (two_orgs.state / "leaderless").mkdir()
    (two_orgs.state / "leaderless" / osn.name).touch()
    result = two_orgs.run()
    assert result.returncode == 0, result.stderr
    assert not [c for c in two_orgs.calls() if c[0] == "configtxgen"]
    blocks = {p.read_text() for p in two_orgs.state.glob("peers/*/channels/mychannel")}
    blocks |= {p.read_text() for p in two_orgs.state.glob("osn/*/mychannel")}
    assert blocks == {"BLOCK mychannel 77\n"}


def test_transient_failures_are_retried(two_orgs: World) -> None:
    two_orgs.fail("osnadmin-list", "2")
    two_orgs.fail("peer-approveformyorg", "1")
    result = two_orgs.run(attempts=3)
    assert result.returncode == 0, result.stderr
    assert "retrying" in result.stdout
    assert "fake failure of osnadmin-list" in result.stderr  # each failure is shown
    assert (two_orgs.state / "committed" / "mychannel" / "basic").exists()


def test_a_lasting_failure_prints_the_command_and_fabrics_output(two_orgs: World) -> None:
    two_orgs.fail("peer-approveformyorg", "always")
    result = two_orgs.run(attempts=2)
    assert result.returncode != 0
    err = result.stderr
    assert "[bootstrap] ERROR: command failed with exit status 1" in err
    assert "command: as_admin org1 Org1MSP peer0.supplychain-org1.svc.cluster.local:7051" in err
    assert "approveformyorg" in err and "--package-id basic_1.0:" in err
    assert "[bootstrap]   | Error: fake failure of peer-approveformyorg" in err
    assert "step approve failed 2 times; giving up" in err
    assert not (two_orgs.state / "committed").exists()
    assert "PRIVATE KEY" not in err + result.stdout


def test_configtxgen_failure_stops_before_any_join(two_orgs: World) -> None:
    two_orgs.fail("configtxgen", "always")
    result = two_orgs.run(attempts=1)
    assert result.returncode != 0
    assert "command: configtxgen -configPath" in result.stderr
    assert not (two_orgs.state / "osn").exists()


def test_a_refused_join_is_reported(two_orgs: World) -> None:
    """osnadmin exits 0 on HTTP errors: the script reads the status line."""
    two_orgs.fail("osnadmin-join-status", "always")
    result = two_orgs.run(attempts=1)
    assert result.returncode != 0
    assert "ERROR: orderer orderer0.supplychain-ordererorg.svc.cluster.local:7053 refused" in (
        result.stderr
    )
    assert '|   "error": "invalid join block"' in result.stderr.replace("\t", "  ")
    assert not list(two_orgs.state.glob("peers/*"))


def test_bft_network(tmp_path: Path, trees: dict[str, tuple[planning.Plan, Path]]) -> None:
    world = _world(tmp_path, *trees["bft"])
    result = world.run()
    assert result.returncode == 0, result.stderr
    assert len(list(world.state.glob("osn/*/mychannel"))) == 4
    approval = world.state / "approved" / "mychannel" / "basic" / "1"
    # default endorsement: no --signature-policy
    assert (approval / "Org1MSP").read_text().splitlines()[0] == "1.0|-|no"
    assert world.run(work="again").returncode == 0
