"""Chaincode delivery over HTTP against a real ``baas serve`` (SQLite and PostgreSQL), without
Fabric: uploading chaincode sources (the content store's layout and modes, idempotence, and
every refusal with a real crafted archive: absolute and ``..`` names, links in and out, devices,
fifos, duplicates, not gzip, not tar, cut short, too large), and deliveries (who may, what is
refused before anything changes, the stored topology's edit, the job and the history). The
delivery on real Fabric is in tests/api/test_api_ci_delivery.py."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.api.conftest import Api, MakeApi
from tests.api.support import EXAMPLES, read_events, two_orgs

YAML = {"Content-Type": "application/yaml"}
GZIP = {"Content-Type": "application/gzip"}
NODE_CC = EXAMPLES / "chaincode" / "asset-transfer"


def _file(name: str, data: bytes = b"x", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def _special(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info, None


def archive(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A real .tar.gz of ``members`` (each a header and its data)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def node_archive(extra: bytes = b"") -> bytes:
    """examples/chaincode/asset-transfer as ``tar -czf - -C DIR .`` packs it (no node_modules);
    ``extra`` appended to a comment file so each caller can get its own digest."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path in sorted(NODE_CC.rglob("*")):
            if "node_modules" in path.parts:
                continue
            tar.add(path, arcname=f"./{path.relative_to(NODE_CC)}", recursive=False)
        info, data = _file("./BUILD-NOTE.txt", b"ci build " + extra)
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _upload(api: Api, body: bytes, *, token: str | None = None, net: str = "dlv") -> httpx.Response:
    with api.server.client(token or api.tokens.deployer) as http:
        return http.post(f"/api/v1/networks/{net}/chaincode-sources", content=body, headers=GZIP)


@pytest.fixture(scope="module")
def networks(api: Api) -> list[str]:
    names = ["dlv", "dlv-job", "dlv-scoped", "dlv-refused"]
    with api.server.client(api.tokens.admin) as http:
        for name in names:
            created = http.post("/api/v1/networks", content=two_orgs(name), headers=YAML)
            assert created.status_code == 201, created.text
    return names


# --------------------------------------------------------------------------- uploads


def test_upload_is_content_addressed_private_and_idempotent(api: Api, networks: list[str]) -> None:
    body = node_archive(b"idempotent")
    first = _upload(api, body)
    assert first.status_code == 201, first.text
    hexdigest = hashlib.sha256(body).hexdigest()
    assert first.json() == {
        "digest": f"sha256:{hexdigest}",
        "created": True,
        "files": first.json()["files"],
        "bytes": first.json()["bytes"],
        "archiveBytes": len(body),
    }
    store = api.server.home / "sources"
    folder = store / hexdigest
    assert (store / f"{hexdigest}.tar.gz").read_bytes() == body
    assert (folder / "package.json").read_bytes() == (NODE_CC / "package.json").read_bytes()
    assert (folder / "lib").is_dir()
    for path in [store, folder, *folder.rglob("*"), store / f"{hexdigest}.tar.gz"]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))  # private to the server's user
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert first.json()["files"] == len(files)
    assert [p.name for p in store.iterdir() if p.name.startswith(".upload-")] == []

    before = folder.stat().st_mtime_ns
    again = _upload(api, body)
    assert again.status_code == 200, again.text
    assert again.json()["digest"] == first.json()["digest"] and again.json()["created"] is False
    assert folder.stat().st_mtime_ns == before  # nothing unpacked again


def _refusal(response: httpx.Response, *words: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    problem = dict(response.json())
    assert problem["code"] == "invalid-archive" and problem["hint"], problem
    for word in words:
        assert word in problem["message"], problem
    return problem


OK = _file("index.js", b"module.exports = {};\n")
REFUSED: dict[str, tuple[bytes, tuple[str, ...], str]] = {
    "absolute": (archive(OK, _file("/etc/cron.d/evil")), ("/etc/cron.d/evil", "absolute"), "-C"),
    "dot-dot": (archive(OK, _file("lib/../../evil.js")), ("lib/../../evil.js", ".."), "inside"),
    "dot-dot-first": (archive(_file("../evil.js")), ("../evil.js",), "inside"),
    "windows-drive": (archive(_file("C:/evil.js")), ("C:/evil.js", "absolute"), "relative"),
    "backslash": (archive(_file("..\\evil.js")), ("backslash",), "rename"),
    "symlink-out": (
        archive(OK, _special("lib", tarfile.SYMTYPE, "/etc")),
        ("'lib'", "symbolic link", "/etc"),
        "dereference",
    ),
    "symlink-in": (
        archive(OK, _special("main.js", tarfile.SYMTYPE, "index.js")),
        ("'main.js'", "symbolic link"),
        "dereference",
    ),
    "hardlink-out": (
        archive(OK, _special("passwd", tarfile.LNKTYPE, "/etc/passwd")),
        ("'passwd'", "hard link"),
        "dereference",
    ),
    "char-device": (archive(OK, _special("tty", tarfile.CHRTYPE)), ("'tty'", "device"), "out"),
    "block-device": (archive(OK, _special("sda", tarfile.BLKTYPE)), ("'sda'", "device"), "out"),
    "fifo": (archive(OK, _special("pipe", tarfile.FIFOTYPE)), ("'pipe'", "fifo"), "out"),
    "duplicate": (archive(OK, _file("./index.js", b"again")), ("index.js", "more than once"), ""),
    "file-then-inside-it": (
        archive(OK, _file("index.js/x.js")),
        ("index.js/x.js", "as a file"),
        "",
    ),
    "long-name-traversal": (
        archive(_file("a/" * 60 + "../" * 70 + "evil.js"), fmt=tarfile.GNU_FORMAT),
        ("..",),
        "inside",
    ),
    "no-file": (archive(_special("lib", tarfile.DIRTYPE)), ("no file",), "-C"),
    "not-gzip": (b"PK\x03\x04 this is a zip", ("not a gzip",), ".tar.gz"),
    "gzip-not-tar": (
        __import__("gzip").compress(b"just text, no tar headers here\n" * 40),
        ("tar",),
        ".tar.gz",
    ),
    "cut-short": (archive(OK, _file("big.bin", os.urandom(20000)))[:-4000], ("",), "again"),
    "empty": (b"", ("empty",), "-C"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_each_bad_archive_is_refused_before_anything_is_unpacked(
    api: Api, networks: list[str], case: str
) -> None:
    body, words, hint = REFUSED[case]
    store = api.server.home / "sources"
    before = sorted(p.name for p in store.iterdir()) if store.exists() else []
    problem = _refusal(_upload(api, body), *words)
    assert hint in problem["hint"], problem
    after = sorted(p.name for p in store.iterdir()) if store.exists() else []
    assert after == before  # nothing kept, nothing unpacked, no staging left
    assert not (api.server.home / "etc").exists() and not Path("/etc/cron.d/evil").exists()
    assert "Traceback" not in api.server.log.read_text()


def test_upload_media_type_and_size_limit(api: Api, networks: list[str]) -> None:
    with api.server.client(api.tokens.deployer) as http:
        wrong = http.post(
            "/api/v1/networks/dlv/chaincode-sources",
            content=b"{}",
            headers={"Content-Type": "application/json"},
        )
        assert wrong.status_code == 415 and "application/gzip" in wrong.json()["hint"]
        octet = http.post(
            "/api/v1/networks/dlv/chaincode-sources",
            content=node_archive(b"octet"),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert octet.status_code == 201, octet.text
        over = 32 * 1024 * 1024 + 1
        big = http.post(
            "/api/v1/networks/dlv/chaincode-sources", content=b"\0" * over, headers=GZIP
        )
        assert big.status_code == 413, big.text
        assert "node_modules" in big.json()["hint"]
        # other routes keep the 1 MiB limit
        topology = http.post(
            "/api/v1/networks/validate", content=b"#" * (1024 * 1024 + 1), headers=YAML
        )
        assert topology.status_code == 413


@pytest.mark.parametrize(
    ("role", "net", "status"),
    [
        ("viewer", "dlv", 403),
        ("org1", "dlv", 403),
        ("outsider", "dlv", 403),
        ("deployer1", "dlv", 201),
        ("admin", "nope", 404),
        ("deployer1", "nope", 403),
    ],
)
def test_who_may_upload(api: Api, networks: list[str], role: str, net: str, status: int) -> None:
    body = node_archive(f"{role}-{net}".encode())
    response = _upload(api, body, token=getattr(api.tokens, role), net=net)
    assert response.status_code == status, response.text
    if status != 201:
        assert not (api.server.home / "sources" / hashlib.sha256(body).hexdigest()).exists()
    with api.server.client() as http:
        anonymous = http.post("/api/v1/networks/dlv/chaincode-sources", content=body, headers=GZIP)
        assert anonymous.status_code == 401


# --------------------------------------------------------------------------- deliveries


def _deliver(
    api: Api, net: str, body: dict[str, Any], *, token: str | None = None, cc: str = "basic"
) -> httpx.Response:
    with api.server.client(token or api.tokens.deployer) as http:
        return http.post(f"/api/v1/networks/{net}/chaincodes/{cc}/deliveries", json=body)


def _stored(api: Api, net: str) -> dict[str, Any]:
    with api.server.client(api.tokens.admin) as http:
        return dict(http.get(f"/api/v1/networks/{net}").json())


def test_a_delivery_edits_the_stored_topology_and_runs_as_a_job(
    api: Api, networks: list[str]
) -> None:
    """Without Fabric (this server's FABRIC_BIN is empty) the job fails saying so, after the stored
    topology got the edit (comments kept); the history records the failure and who."""
    digest = _upload(api, node_archive(b"job")).json()["digest"]
    accepted = _deliver(api, "dlv-job", {"version": "1.1", "source": digest})
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["action"] == "deliver" and job["revision"] == 2
    assert accepted.headers["location"] == f"/api/v1/deployments/{job['id']}"
    stored = _stored(api, "dlv-job")
    assert stored["revision"] == 2
    assert f"path: {digest}" in stored["topology"]
    [entry] = yaml.safe_load(stored["topology"])["spec"]["chaincodes"]
    assert entry == {**entry, "version": "1.1", "path": digest}
    assert stored["topology"].startswith("# Two peer organisations")  # the comment is kept
    with api.server.client(api.tokens.viewer) as http:
        events = list(read_events(http, job["id"]))
        final = events[-1].data["data"]
        assert final["state"] == "failed", final
        failure = final["error"]["message"]  # the preflight's: this server has no Fabric
        assert failure and final["error"]["hint"]
        lines = [e.data["data"]["message"] for e in events if e.kind == "progress"]
        assert any(line.startswith("+") and digest in line for line in lines)  # the diff
        history = http.get("/api/v1/networks/dlv-job/chaincodes/basic/deliveries")
        assert history.status_code == 200, history.text
        [entry] = history.json()["items"]
        assert entry["outcome"] == "failed" and entry["error"] == failure
        assert entry["chaincode"] == "basic" and entry["channel"] == "mychannel"
        assert entry["who"].startswith("test chaincode-deployer") and "tok_" in entry["who"]
        assert entry["fields"] == ["version", "path"]
        assert http.get("/api/v1/networks/dlv-job/chaincodes/other/deliveries").json() == {
            "items": []
        }
    for secret in api.tokens.all():
        assert secret not in api.server.log.read_text()
        assert secret not in json.dumps(entry)


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({"version": "1.1", "source": "sha256:" + "A" * 64}, 422, "invalid-request", "source"),
        ({"version": "1.1", "source": "sha256:" + "0" * 63}, 422, "invalid-request", "source"),
        ({"version": "1.1", "source": "../../etc"}, 422, "invalid-request", "source"),
        ({"version": "1.1", "source": "sha256:" + "0" * 64 + "\n"}, 422, "invalid-request", ""),
        ({"version": "1.1", "source": "sha256:" + "0" * 64}, 422, "invalid-request", "no uploaded"),
        ({"version": "1.1"}, 422, "invalid-request", "source"),
        ({"version": "1.1", "image": "x", "extra": 1}, 422, "invalid-request", "extra"),
        ({"version": "1 1", "image": "x"}, 422, "invalid-request", "version"),
        ({"version": "1.1", "image": "x", "channel": "nope"}, 422, "invalid-topology", ""),
        ({"version": "1.1", "image": "x", "initRequired": "yes"}, 422, "invalid-request", ""),
    ],
)
def test_bad_deliveries_are_refused_before_anything_changes(
    api: Api, networks: list[str], body: dict[str, Any], status: int, code: str, words: str
) -> None:
    response = _deliver(api, "dlv-refused", body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    assert words in response.text
    stored = _stored(api, "dlv-refused")
    assert stored["revision"] == 1 and stored["topology"] == two_orgs("dlv-refused")
    assert stored["latestDeployment"] is None


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        ("viewer", 403, "forbidden"),
        ("org1", 403, "forbidden"),
        ("outsider", 403, "forbidden"),
        # basic needs org2's approval too (AND of both): org1's deployer may not sign for it
        ("deployer1", 403, "signing-refused"),
    ],
)
def test_who_may_deliver(api: Api, networks: list[str], role: str, status: int, code: str) -> None:
    response = _deliver(
        api, "dlv-refused", {"version": "9.9", "image": "x"}, token=getattr(api.tokens, role)
    )
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert _stored(api, "dlv-refused")["revision"] == 1
    with api.server.client() as http:
        anonymous = http.post(
            "/api/v1/networks/dlv-refused/chaincodes/basic/deliveries", json={"version": "1"}
        )
        assert anonymous.status_code == 401


def test_scoped_deployer_delivers_what_its_organisation_alone_approves(
    api: Api, networks: list[str]
) -> None:
    """A new chaincode endorsed by org1 alone is still approved by both organisations (the
    channel's majority): refused for org1's deployer; the history is readable by it."""
    digest = _upload(api, node_archive(b"scoped"), token=api.tokens.deployer1).json()["digest"]
    body = {"version": "1.0", "source": digest, "endorsement": "AND('Org1MSP.peer')"}
    refused = _deliver(api, "dlv-scoped", body, token=api.tokens.deployer1, cc="mine")
    assert refused.status_code == 403 and refused.json()["code"] == "signing-refused"
    assert "org2" in refused.json()["message"]
    assert _stored(api, "dlv-scoped")["revision"] == 1
    with api.server.client(api.tokens.deployer1) as http:
        listed = http.get("/api/v1/networks/dlv-scoped/chaincodes/mine/deliveries")
        assert listed.status_code == 200 and listed.json() == {"items": []}
    with api.server.client(api.tokens.outsider) as http:
        hidden = http.get("/api/v1/networks/dlv-scoped/chaincodes/mine/deliveries")
        assert hidden.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "sha256:" + "0" * 64,  # well-formed, never uploaded
        "sha256:" + "0" * 64 + "/../../../etc",
        "../sources/" + "0" * 64,
        "/etc",
    ],
)
def test_a_topology_reaches_the_store_only_by_an_uploaded_digest(
    api: Api, networks: list[str], path: str
) -> None:
    text = two_orgs("dlv").replace("path: chaincode/asset-transfer", f"path: {json.dumps(path)}")
    with api.server.client(api.tokens.admin) as http:
        response = http.post("/api/v1/networks/validate", content=text, headers=YAML)
        assert response.status_code == 422, response.text
        [diagnostic] = response.json()["diagnostics"]
        assert diagnostic["path"] == "spec.chaincodes[0].path"
        assert str(api.server.home) not in response.text


def test_a_topology_names_an_uploaded_source_by_its_digest(api: Api, networks: list[str]) -> None:
    digest = _upload(api, node_archive(b"named")).json()["digest"]
    text = two_orgs("dlv").replace("path: chaincode/asset-transfer", f"path: {digest}")
    with api.server.client(api.tokens.admin) as http:
        response = http.post("/api/v1/networks/validate", content=text, headers=YAML)
        assert response.status_code == 200, response.text


def test_unpacked_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A gzip bomb stops at the unpacked limit while decompressing; too many members are
    refused; nothing is kept either way (the service, with small limits)."""
    from baas.services import sources

    monkeypatch.setenv("BAAS_HOME", str(tmp_path))
    bomb = archive(_file("zeros.bin", b"\0" * (8 * 1024 * 1024)))
    assert len(bomb) < 64 * 1024
    with pytest.raises(sources.SourceRefused, match="more than 1048576 bytes"):
        sources.store(bomb, limits=sources.Limits(max_bytes=1024 * 1024))
    many = archive(*(_file(f"f{i}.js") for i in range(30)))
    with pytest.raises(sources.SourceRefused, match="more than 20 members"):
        sources.store(many, limits=sources.Limits(max_members=20))
    assert [p.name for p in (tmp_path / "sources").iterdir()] == []
    made: Callable[[], sources.StoredSource] = lambda: sources.store(many)  # noqa: E731
    assert made().created is True and made().created is False


def test_scoped_deployer_delivers_on_its_own_organisations_channel(api: Api) -> None:
    """On a channel only org1 is in, org1's deployer signs everything the delivery needs:
    accepted (this server has no Fabric, so the job then fails in its preflight)."""
    from tests.api.test_api_security import with_org1_channel

    with api.server.client(api.tokens.admin) as http:
        created = http.post("/api/v1/networks", content=with_org1_channel("dlv-own"), headers=YAML)
        assert created.status_code == 201, created.text
    digest = _upload(api, node_archive(b"own"), token=api.tokens.deployer1, net="dlv-own")
    body = {"version": "1.1", "source": digest.json()["digest"]}
    accepted = _deliver(api, "dlv-own", body, token=api.tokens.deployer1, cc="mine")
    assert accepted.status_code == 202, accepted.text
    with api.server.client(api.tokens.deployer1) as http:
        states = [
            e.data["data"]["state"]
            for e in read_events(http, accepted.json()["id"])
            if e.kind == "state"
        ]
        assert states == ["queued", "running", "failed"]
    refused = _deliver(api, "dlv-own", body, token=api.tokens.deployer1, cc="basic")
    assert refused.status_code == 403 and refused.json()["code"] == "signing-refused"


def test_serve_limits_refuse_a_gzip_bomb_and_a_large_archive(make_api: MakeApi) -> None:
    """``baas serve --max-upload-mib 1 --max-source-mib 1``: an archive over 1 MiB is 413
    from its Content-Length; a 40 KiB archive that unpacks to 32 MiB of zeros stops at 1 MiB
    while decompressing (422); nothing is kept."""
    api = make_api("sqlite", start=False)
    api.server.args = ("--max-upload-mib", "1", "--max-source-mib", "1")
    api.server.start()
    with api.server.client(api.tokens.admin) as http:
        created = http.post("/api/v1/networks", content=two_orgs("dlv-limits"), headers=YAML)
        assert created.status_code == 201, created.text
    bomb = archive(_file("zeros.bin", b"\0" * (32 * 1024 * 1024)))
    assert len(bomb) < 64 * 1024
    _refusal(_upload(api, bomb, net="dlv-limits"), "more than 1048576 bytes")
    large = _upload(api, os.urandom(1024 * 1024 + 1), net="dlv-limits")
    assert large.status_code == 413 and "1048576" in large.json()["message"]
    assert _upload(api, node_archive(b"small"), net="dlv-limits").status_code == 201
    store = api.server.home / "sources"
    assert len([p for p in store.iterdir() if p.is_dir()]) == 1  # only the small one


def test_a_delivery_is_refused_while_another_job_runs(api: Api, networks: list[str]) -> None:
    """While another job holds the network (here a change under its lock), a delivery is
    409 naming it, and the stored topology is left as it was."""
    from baas.api import jobs

    db = api.server.database()
    try:
        held = jobs.claim(
            db, network="dlv-refused", action="replace", target="local", revision=1, created_by=None
        )
        try:
            busy = _deliver(api, "dlv-refused", {"version": "3.0", "image": "x"})
            assert busy.status_code == 409, busy.text
            assert held.id in busy.json()["message"] and "cancel" in busy.json()["hint"]
            assert _stored(api, "dlv-refused")["revision"] == 1
        finally:
            jobs.close(db, held.id, "succeeded")
    finally:
        db.dispose()
