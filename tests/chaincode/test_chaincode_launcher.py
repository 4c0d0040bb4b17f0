"""baas.runtimes.local.chaincode: detect() a chaincode folder, prepare() it with a real npm ci
against the registry (cached by digest), and start the real chaincode server it describes."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeAlias

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fabric_protos.common import common_pb2
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
)

from baas.errors import OperationError, UsageError
from baas.runtimes.local import chaincode
from baas.runtimes.local.chaincode import (
    ChaincodeSource,
    PreparedChaincode,
    ServerCommand,
    ServerTLS,
    detect,
    prepare,
    server_command,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chaincode" / "asset-transfer"
PACKAGE_ID = "basic_1.0:" + "0123456789abcdef" * 4
HANG_GUARD_SECONDS = 120.0
"""Only stops a broken server from hanging the suite; no assertion depends on it."""

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="needs node and npm on PATH",
)


def write_node_folder(folder: Path, *, lockfile: str | None = "package-lock.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "cc", "main": "index.js", "dependencies": {"fabric-shim": "2.5.8"}}
    (folder / "package.json").write_text(json.dumps(manifest))
    (folder / "index.js").write_text("module.exports.contracts = [];\n")
    if lockfile:
        (folder / lockfile).write_text('{"lockfileVersion": 3}')
    return folder


def copy_example(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("node_modules"))
    return target


# --- detect -------------------------------------------------------------------------------------


def test_detect_accepts_the_sample_node_chaincode() -> None:
    source = detect(EXAMPLE)
    assert source == ChaincodeSource(
        path=EXAMPLE,
        name="asset-transfer",
        manifest=EXAMPLE / "package.json",
        lockfile=EXAMPLE / "package-lock.json",
        language="node",
    )


def test_detect_prefers_the_shrinkwrap_as_npm_does(tmp_path: Path) -> None:
    folder = write_node_folder(tmp_path / "cc")
    (folder / "npm-shrinkwrap.json").write_text("{}")
    assert detect(folder).lockfile == folder / "npm-shrinkwrap.json"
    (folder / "package-lock.json").unlink()
    assert detect(folder).lockfile == folder / "npm-shrinkwrap.json"


def test_detect_without_a_lockfile_says_to_run_npm_install(tmp_path: Path) -> None:
    folder = write_node_folder(tmp_path / "cc", lockfile=None)
    with pytest.raises(UsageError) as caught:
        detect(folder)
    assert "no package-lock.json" in caught.value.message
    assert str(folder) in caught.value.message
    assert "npm install" in caught.value.hint
    assert "commit" in caught.value.hint


@pytest.mark.parametrize(
    ("marker", "language"),
    [
        ("go.mod", "Go"),
        # Java (pom.xml, build.gradle) is built now: tests/chaincode/test_chaincode_java.py
        ("setup.py", "Python"),
        ("pyproject.toml", "Python"),
    ],
)
def test_detect_refuses_other_languages_naming_them(
    tmp_path: Path, marker: str, language: str
) -> None:
    (tmp_path / marker).write_text("")
    with pytest.raises(UsageError) as caught:
        detect(tmp_path)
    assert f"{language} chaincode ({marker})" in caught.value.message
    assert "not supported yet" in caught.value.message
    assert "must be Node" in caught.value.hint
    assert "image" in caught.value.hint


def test_detect_names_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(UsageError) as caught:
        detect(missing)
    assert str(missing) in caught.value.message
    assert "does not exist" in caught.value.message
    assert caught.value.hint


def test_detect_names_an_empty_folder_and_a_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"is empty") as caught:
        detect(tmp_path)
    assert str(tmp_path) in caught.value.message
    file = tmp_path / "package.json"
    file.write_text("{}")
    with pytest.raises(UsageError, match=r"is not a folder"):
        detect(file)


def test_detect_refuses_a_folder_without_chaincode(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    with pytest.raises(UsageError, match=r"no chaincode found .* no package\.json"):
        detect(tmp_path)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("{not json", "cannot read"),
        ("[]", "is not a JSON object"),
        ('{"dependencies": {"fabric-shim": "2.5.8"}}', 'has no "main" entry'),
        ('{"main": "index.js"}', "does not depend on fabric-shim"),
        (
            '{"main": "index.js", "devDependencies": {"fabric-shim": "2.5.8"}}',
            "does not depend on fabric-shim",
        ),
    ],
)
def test_detect_refuses_an_unusable_package_json(
    tmp_path: Path, manifest: str, message: str
) -> None:
    folder = write_node_folder(tmp_path / "cc")
    (folder / "package.json").write_text(manifest)
    with pytest.raises(UsageError) as caught:
        detect(folder)
    assert message in caught.value.message
    assert caught.value.hint


# --- prepare ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstPrepare:
    prepared: PreparedChaincode
    reports: list[str]
    xdg: Path


@pytest.fixture(scope="module")
def first_prepare(tmp_path_factory: pytest.TempPathFactory) -> FirstPrepare:
    """The sample prepared once into an empty XDG cache: npm ci really runs."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("needs node and npm on PATH")
    xdg = tmp_path_factory.mktemp("xdg")
    reports: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(xdg))
        prepared = prepare(detect(EXAMPLE), report=reports.append)
    return FirstPrepare(prepared=prepared, reports=reports, xdg=xdg)


@needs_node
def test_prepare_installs_into_the_xdg_cache(first_prepare: FirstPrepare) -> None:
    prepared = first_prepare.prepared
    assert prepared.installed
    install = first_prepare.xdg / "baas" / "chaincode" / "node" / prepared.digest
    assert prepared.modules == install / "node_modules"
    assert prepared.root == install / "sources" / prepared.source_digest
    assert prepared.digest == chaincode.dependency_digest(detect(EXAMPLE))
    assert len(prepared.digest) == 64
    assert (prepared.modules / "fabric-shim" / "cli.js").is_file()
    assert (prepared.modules / "fabric-contract-api" / "package.json").is_file()
    assert any("npm ci --omit=dev --no-audit --no-fund" in line for line in first_prepare.reports)


@needs_node
def test_prepare_copies_sources_but_not_tests_or_modules(first_prepare: FirstPrepare) -> None:
    root = first_prepare.prepared.root
    copied = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert copied == [
        "README.md",
        "index.js",
        "lib/assetTransfer.js",
        "lib/canonicalJson.js",
        "package-lock.json",
        "package.json",
    ]
    assert (root / "index.js").read_bytes() == (EXAMPLE / "index.js").read_bytes()
    leftovers = [p.name for p in root.parents[2].iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


@needs_node
def test_prepare_again_is_a_cache_hit_and_says_so(
    first_prepare: FirstPrepare, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(first_prepare.xdg))
    marker = first_prepare.prepared.modules / ".baas-test-marker"
    marker.write_text("still here")
    reports: list[str] = []
    again = prepare(detect(EXAMPLE), report=reports.append)
    assert not again.installed
    assert again.root == first_prepare.prepared.root
    assert again.modules == first_prepare.prepared.modules
    assert marker.read_text() == "still here"  # npm ci did not run over it
    assert any("npm ci skipped" in line for line in reports)
    assert any("sources unchanged" in line for line in reports)
    marker.unlink()


@needs_node
def test_prepare_after_editing_sources_reuses_modules(
    first_prepare: FirstPrepare, tmp_path: Path
) -> None:
    cache = first_prepare.xdg / "baas" / "chaincode"
    folder = copy_example(tmp_path / "cc")
    for extra in ("lib/extra.js", "lib/test/kept.js", "tests/dropped.js", "lib/node_modules/x.js"):
        (folder / extra).parent.mkdir(parents=True, exist_ok=True)
        (folder / extra).write_text("module.exports = 1;\n")
    edited = prepare(detect(folder), cache_dir=cache)
    assert not edited.installed
    assert edited.modules == first_prepare.prepared.modules
    assert edited.root != first_prepare.prepared.root
    assert (edited.root / "lib" / "extra.js").is_file()
    assert (edited.root / "lib" / "test" / "kept.js").is_file()  # only top-level tests go
    assert not (edited.root / "tests").exists()
    assert not (edited.root / "test").exists()
    assert not (edited.root / "lib" / "node_modules").exists()
    assert not (first_prepare.prepared.root / "lib" / "extra.js").exists()


@needs_node
def test_prepare_that_loses_the_rename_race_uses_the_winner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second caller finishes its own install while the first one's npm ci runs."""
    cache = tmp_path / "cache"
    source = detect(copy_example(tmp_path / "cc"))
    real_run_npm = chaincode._run_npm
    inner: list[PreparedChaincode] = []
    raced: list[bool] = []

    def racing_run_npm(
        npm: str, args: tuple[str, ...], *, cwd: Path, source: ChaincodeSource
    ) -> None:
        real_run_npm(npm, args, cwd=cwd, source=source)
        if not raced:  # only the outer caller's install is overtaken
            raced.append(True)
            inner.append(prepare(source, cache_dir=cache))

    monkeypatch.setattr(chaincode, "_run_npm", racing_run_npm)
    reports: list[str] = []
    outer = prepare(source, cache_dir=cache, report=reports.append)
    assert inner[0].installed
    assert not outer.installed
    assert outer.root == inner[0].root
    assert any("another caller installed the same dependencies first" in r for r in reports)
    assert [p.name for p in (cache / "node").iterdir()] == [outer.digest]
    assert (outer.modules / "fabric-shim" / "cli.js").is_file()


@needs_node
def test_prepare_reports_a_failed_npm_ci_and_leaves_nothing(tmp_path: Path) -> None:
    folder = write_node_folder(tmp_path / "cc")
    lock = {
        "name": "cc",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {"": {"name": "cc"}},
    }
    (folder / "package-lock.json").write_text(json.dumps(lock))
    cache = tmp_path / "cache"
    with pytest.raises(OperationError) as caught:
        prepare(detect(folder), cache_dir=cache)
    message = caught.value.message
    assert "`npm ci --omit=dev --no-audit --no-fund` for cc failed (exit " in message
    assert "npm error code EUSAGE" in message  # npm's own stderr: the cause, not its usage text
    assert "are in sync" in message
    assert "complete log of this run" in message
    assert "npm install" in caught.value.hint
    assert list((cache / "node").iterdir()) == []


# --- server_command -----------------------------------------------------------------------------


def pem(path: Path, label: str = "CERTIFICATE") -> Path:
    path.write_text(f"-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n")
    return path


@needs_node
def test_server_command_runs_the_shim_cli_with_node(first_prepare: FirstPrepare) -> None:
    prepared = first_prepare.prepared
    command = server_command(prepared, package_id=PACKAGE_ID, address="127.0.0.1:7052")
    cli = (prepared.modules / "fabric-shim" / "cli.js").resolve()
    assert command == ServerCommand(
        argv=(
            str(shutil.which("node")),
            str(cli),
            "server",
            "--chaincode-address=127.0.0.1:7052",
            f"--chaincode-id={PACKAGE_ID}",
            f"--module-path={prepared.root}",
        ),
        env=command.env,
        cwd=prepared.root,
    )
    assert not Path(command.argv[1]).is_symlink()
    assert command.env == {
        "NODE_ENV": "production",
        "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:7052",
        "CHAINCODE_ID": PACKAGE_ID,
    }


def fake_prepared(tmp_path: Path) -> PreparedChaincode:
    """A prepared layout with only the shim's cli.js and the .bin link npm makes."""
    modules = tmp_path / "install" / "node_modules"
    (modules / "fabric-shim").mkdir(parents=True)
    (modules / "fabric-shim" / "cli.js").write_text("")
    (modules / ".bin").mkdir()
    (modules / ".bin" / "fabric-chaincode-node").symlink_to("../fabric-shim/cli.js")
    root = tmp_path / "install" / "sources" / "s"
    root.mkdir(parents=True)
    source = ChaincodeSource(path=root, name="cc", manifest=root / "p", lockfile=root / "l")
    return PreparedChaincode(
        source=source, root=root, modules=modules, digest="d", source_digest="s", installed=False
    )


@needs_node
def test_server_command_maps_tls_files_onto_the_shim_flags(tmp_path: Path) -> None:
    prepared = fake_prepared(tmp_path)
    key = pem(tmp_path / "server.key", "PRIVATE KEY")
    cert = pem(tmp_path / "server.crt")
    ca = pem(tmp_path / "client-ca.crt")
    mutual = server_command(
        prepared,
        package_id=PACKAGE_ID,
        address="127.0.0.1:9999",
        tls=ServerTLS(key_file=key, cert_file=cert, client_ca_file=ca),
    )
    assert mutual.argv[6:] == (
        "--chaincode-tls-key-file",
        str(key),
        "--chaincode-tls-cert-file",
        str(cert),
        "--chaincode-tls-client-cacert-file",
        str(ca),
    )
    server_only = server_command(
        prepared,
        package_id=PACKAGE_ID,
        address="127.0.0.1:9999",
        tls=ServerTLS(key_file=key, cert_file=cert),
    )
    assert server_only.argv[6:] == (
        "--chaincode-tls-key-file",
        str(key),
        "--chaincode-tls-cert-file",
        str(cert),
    )
    plain = server_command(prepared, package_id=PACKAGE_ID, address="127.0.0.1:9999")
    assert not any(arg.startswith("--chaincode-tls") for arg in plain.argv)
    assert plain.argv[1] == str((prepared.modules / "fabric-shim" / "cli.js").resolve())


@needs_node
def test_server_command_refuses_missing_or_non_pem_tls_files(tmp_path: Path) -> None:
    prepared = fake_prepared(tmp_path)
    cert = pem(tmp_path / "server.crt")
    der = tmp_path / "server.der"
    der.write_bytes(b"\x30\x82\x01\x0a")
    for key, message in ((tmp_path / "absent.key", "cannot read"), (der, "is not PEM")):
        with pytest.raises(UsageError, match=message) as caught:
            server_command(
                prepared,
                package_id=PACKAGE_ID,
                address="127.0.0.1:9999",
                tls=ServerTLS(key_file=key, cert_file=cert),
            )
        assert str(key) in caught.value.message
        assert "--chaincode-tls-key-file" in caught.value.message


@needs_node
@pytest.mark.parametrize(
    "package_id",
    ["basic_1.0", "basic_1.0:abc", ":" + "0" * 64, "basic 1.0:" + "0" * 64, "b:" + "A" * 64],
)
def test_server_command_refuses_a_malformed_package_id(tmp_path: Path, package_id: str) -> None:
    with pytest.raises(UsageError, match="is not <label>:<64 hex digits>"):
        server_command(fake_prepared(tmp_path), package_id=package_id, address="127.0.0.1:9")


@needs_node
@pytest.mark.parametrize("address", ["127.0.0.1", ":9999", "127.0.0.1:0", "127.0.0.1:65536", "h:p"])
def test_server_command_refuses_a_malformed_address(tmp_path: Path, address: str) -> None:
    with pytest.raises(UsageError, match="is not HOST:PORT"):
        server_command(fake_prepared(tmp_path), package_id=PACKAGE_ID, address=address)


@needs_node
def test_server_command_accepts_ipv6_and_names(tmp_path: Path) -> None:
    prepared = fake_prepared(tmp_path)
    for address in ("[::1]:9999", "peer0-org1.local:7052", "0.0.0.0:1"):
        command = server_command(prepared, package_id=PACKAGE_ID, address=address)
        assert f"--chaincode-address={address}" in command.argv


@needs_node
def test_server_command_says_when_the_shim_is_gone(tmp_path: Path) -> None:
    prepared = fake_prepared(tmp_path)
    shutil.rmtree(prepared.modules)
    with pytest.raises(OperationError, match="no fabric-shim command line") as caught:
        server_command(prepared, package_id=PACKAGE_ID, address="127.0.0.1:9999")
    assert "prepare" in caught.value.hint


# --- the real server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture
def server(
    first_prepare: FirstPrepare, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The real chaincode server, started from server_command() in its own process group."""
    port = free_port()
    command = server_command(
        first_prepare.prepared, package_id=PACKAGE_ID, address=f"127.0.0.1:{port}"
    )
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        command.argv,
        env=command.env,
        cwd=command.cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + HANG_GUARD_SECONDS
        while not accepts(port):
            output = (tmp_path / "server.log").read_text(errors="replace")
            assert process.poll() is None, f"server exited {process.returncode}:\n{output}"
            assert time.monotonic() < deadline, f"server never listened:\n{output}"
            time.sleep(0.05)
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def first_message(port: int) -> chaincode_shim_pb2.ChaincodeMessage:
    """Dial the server as a peer would and return the first message it sends."""
    outgoing: queue.Queue[chaincode_shim_pb2.ChaincodeMessage | None] = queue.Queue()

    def requests() -> Iterator[chaincode_shim_pb2.ChaincodeMessage]:
        while (message := outgoing.get()) is not None:
            yield message

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = chaincode_shim_pb2_grpc.ChaincodeStub(channel)
        responses = stub.Connect(requests(), timeout=HANG_GUARD_SECONDS)
        try:
            message: chaincode_shim_pb2.ChaincodeMessage = next(responses)
        finally:
            outgoing.put(None)
            responses.cancel()
    return message


@needs_node
def test_the_server_registers_with_the_package_id_and_stops_cleanly(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    message = first_message(port)
    assert message.type == chaincode_shim_pb2.ChaincodeMessage.REGISTER
    assert chaincode_pb2.ChaincodeID.FromString(message.payload).name == PACKAGE_ID

    process.terminate()
    returncode = process.wait(timeout=HANG_GUARD_SECONDS)
    assert returncode is not None
    assert not accepts(port)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # nothing of the process group is left


# --- a fake peer: every transaction through the real shim ---------------------------------------

Message: TypeAlias = chaincode_shim_pb2.ChaincodeMessage
CHANNEL = "mychannel"


def creator_certificate() -> bytes:
    """A self-signed client certificate (PEM): the shim parses the creator's X.509."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "user1.org1.example.com")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def signed_proposal(*, txid: str, args: list[bytes], creator: bytes) -> proposal_pb2.SignedProposal:
    """The parts of a proposal the shim decodes (nothing is signed: the peer checked that)."""
    identity = identities_pb2.SerializedIdentity(mspid="Org1MSP", id_bytes=creator)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION, channel_id=CHANNEL, tx_id=txid
    )
    signature_header = common_pb2.SignatureHeader(
        creator=identity.SerializeToString(), nonce=b"0" * 24
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )
    spec = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(input=chaincode_pb2.ChaincodeInput(args=args))
    )
    payload = proposal_pb2.ChaincodeProposalPayload(input=spec.SerializeToString())
    proposal = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    return proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString())


@dataclass
class FakePeer:
    """The peer's side of the chaincode stream, with a dict as the world state.

    Writes apply at once (a real peer keeps them in the transaction's write set); the
    contract never reads its own writes, so that makes no difference here.
    """

    outgoing: queue.Queue[Message | None]
    incoming: Iterator[Message]
    state: dict[str, bytes] = field(default_factory=dict)
    creator: bytes = field(default_factory=creator_certificate)

    def handshake(self) -> str:
        register = next(self.incoming)
        assert register.type == Message.REGISTER
        self.outgoing.put(Message(type=Message.REGISTERED))
        self.outgoing.put(Message(type=Message.READY))
        name: str = chaincode_pb2.ChaincodeID.FromString(register.payload).name
        return name

    def invoke(self, *args: str) -> proposal_response_pb2.Response:
        """Send one TRANSACTION and answer the chaincode until it says COMPLETED."""
        txid = uuid.uuid4().hex
        encoded = [arg.encode() for arg in args]
        self.outgoing.put(
            Message(
                type=Message.TRANSACTION,
                txid=txid,
                channel_id=CHANNEL,
                payload=chaincode_pb2.ChaincodeInput(args=encoded).SerializeToString(),
                proposal=signed_proposal(txid=txid, args=encoded, creator=self.creator),
            )
        )
        while (message := next(self.incoming)).type != Message.COMPLETED:
            assert message.txid == txid, message
            payload = self.answer(message)
            self.outgoing.put(
                Message(type=Message.RESPONSE, txid=txid, channel_id=CHANNEL, payload=payload)
            )
        return proposal_response_pb2.Response.FromString(message.payload)

    def answer(self, message: Message) -> bytes:
        if message.type == Message.GET_STATE:
            return self.state.get(chaincode_shim_pb2.GetState.FromString(message.payload).key, b"")
        if message.type == Message.PUT_STATE:
            put = chaincode_shim_pb2.PutState.FromString(message.payload)
            self.state[put.key] = put.value
            return b""
        if message.type == Message.DEL_STATE:
            self.state.pop(chaincode_shim_pb2.DelState.FromString(message.payload).key, None)
            return b""
        if message.type == Message.GET_STATE_BY_RANGE:
            query = chaincode_shim_pb2.GetStateByRange.FromString(message.payload)
            keys = [
                key
                for key in sorted(self.state)
                if key >= query.startKey and (not query.endKey or key < query.endKey)
            ]
            results = [
                chaincode_shim_pb2.QueryResultBytes(
                    resultBytes=kv_query_result_pb2.KV(
                        namespace="basic", key=key, value=self.state[key]
                    ).SerializeToString()
                )
                for key in keys
            ]
            response = chaincode_shim_pb2.QueryResponse(results=results, has_more=False, id="q1")
            encoded: bytes = response.SerializeToString()
            return encoded
        if message.type == Message.QUERY_STATE_CLOSE:
            closed: bytes = chaincode_shim_pb2.QueryResponse(id="q1").SerializeToString()
            return closed
        raise AssertionError(f"unexpected message from the chaincode: {message}")


@pytest.fixture
def fake_peer(server: tuple[subprocess.Popen[bytes], int]) -> Iterator[FakePeer]:
    _, port = server
    outgoing: queue.Queue[Message | None] = queue.Queue()

    def requests() -> Iterator[Message]:
        while (message := outgoing.get()) is not None:
            yield message

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = chaincode_shim_pb2_grpc.ChaincodeStub(channel)
        incoming = stub.Connect(requests(), timeout=HANG_GUARD_SECONDS)
        try:
            yield FakePeer(outgoing=outgoing, incoming=incoming)
        finally:
            outgoing.put(None)
            incoming.cancel()


OK = 200


@needs_node
def test_the_server_runs_every_transaction_for_a_fake_peer(fake_peer: FakePeer) -> None:
    peer = fake_peer
    assert peer.handshake() == PACKAGE_ID

    created = peer.invoke("CreateAsset", "a1", "blue", "5", "Tomoko", "300")
    stored = b'{"AppraisedValue":300,"Color":"blue","ID":"a1","Owner":"Tomoko","Size":5}'
    assert (created.status, created.payload) == (OK, stored)
    assert peer.state == {"a1": stored}

    duplicate = peer.invoke("CreateAsset", "a1", "red", "1", "Brad", "1")
    assert duplicate.status >= 400
    assert "the asset a1 already exists" in duplicate.message
    assert peer.invoke("ReadAsset", "a1").payload == stored
    missing = peer.invoke("ReadAsset", "zz")
    assert missing.status >= 400
    assert "the asset zz does not exist" in missing.message

    assert peer.invoke("TransferAsset", "a1", "Brad").payload == b"Tomoko"
    updated = peer.invoke("UpdateAsset", "a1", "green", "7", "Max", "350")
    assert (
        updated.payload
        == b'{"AppraisedValue":350,"Color":"green","ID":"a1","Owner":"Max","Size":7}'
    )
    assert peer.invoke("AssetExists", "a1").payload == b"true"
    assert peer.invoke("AssetExists", "a2").payload == b"false"

    seeded = peer.invoke("InitLedger")
    assert seeded.status == OK
    assert json.loads(seeded.payload) == [f"asset{i}" for i in range(1, 7)]
    everything = json.loads(peer.invoke("GetAllAssets").payload)
    assert [asset["ID"] for asset in everything] == ["a1"] + [f"asset{i}" for i in range(1, 7)]

    assert peer.invoke("DeleteAsset", "a1").status == OK
    assert "a1" not in peer.state
    assert peer.invoke("AssetExists", "a1").payload == b"false"
