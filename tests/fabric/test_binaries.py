"""Finding, checking and installing Fabric's binaries (:mod:`baas.fabric.binaries`).

Release folders here are built by the tests: small shell scripts ``bin/peer`` and
``bin/orderer`` that print a ``Version:`` line, plus the config files and builder scripts an
install must have. They exercise the search, the checks, the download, the extraction and the
atomic move; they are not a stand-in for Fabric. The installer downloads from a local HTTP server
on 127.0.0.1. One test (marked ``fabric``) checks the real cached 2.5.16 install when present.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import platform
import sys
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from baas.cli.app import main
from baas.errors import OperationError, UsageError
from baas.fabric import binaries
from baas.fabric.binaries import FabricInstall, cache_root, find, install, list_installs
from baas.services.fabric import fabric_install, fabric_list
from tests.support.fabric import fabric_install_or_skip

OS_NAME = "darwin" if sys.platform == "darwin" else "linux"
ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower(), platform.machine()
)


def archive_path(release: str) -> str:
    """The URL path the installer must ask for (computed here, independently of the code)."""
    return f"/v{release}/hyperledger-fabric-{OS_NAME}-{ARCH}-{release}.tar.gz"


# ---------------------------------------------------------------------------- release folders


def _script(name: str, version: str, counter: Path | None) -> str:
    count = f'echo {name} >> "{counter}"\n' if counter is not None else ""
    return (
        "#!/bin/sh\n"
        f"{count}"
        'if [ "$1" = version ]; then\n'
        f"  printf '{name}:\\n Version: {version}\\n Commit SHA: test\\n'\n"
        "  exit 0\n"
        "fi\n"
        "exit 3\n"
    )


def _write_exec(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


def make_release(
    root: Path,
    release: str = "2.5.16",
    *,
    peer_version: str | None = None,
    orderer_version: str | None = None,
    omit: tuple[str, ...] = (),
    counter: Path | None = None,
    padding: int = 0,
) -> Path:
    """A folder laid out like the release archive at ``root`` (returned). ``omit`` names files
    (archive paths) to leave out; ``padding`` adds that many incompressible bytes as
    ``bin/ledgerutil`` so a download takes several chunks."""
    files: dict[str, str] = {
        "bin/peer": _script("peer", peer_version or release, counter),
        "bin/orderer": _script("orderer", orderer_version or release, counter),
        "bin/configtxgen": "#!/bin/sh\nexit 0\n",
        "config/core.yaml": "peer:\n  id: jdoe\n",
        "config/orderer.yaml": "General:\n  ListenPort: 7050\n",
        "config/configtx.yaml": "Profiles: {}\n",
        "builders/ccaas/bin/detect": "#!/bin/sh\nexit 0\n",
        "builders/ccaas/bin/build": "#!/bin/sh\nexit 0\n",
        "builders/ccaas/bin/release": "#!/bin/sh\nexit 0\n",
    }
    for name, text in files.items():
        if name not in omit:
            _write_exec(root / name, text)
    if padding:
        (root / "bin" / "ledgerutil").write_bytes(os.urandom(padding))
    return root


def make_archive(tree: Path, dest: Path, *, extra: tuple[tarfile.TarInfo, ...] = ()) -> bytes:
    """``tree`` as a .tar.gz with top-level bin/, config/, builders/ (like the official
    archive), plus ``extra`` members; returns the bytes (also written to ``dest``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for top in ("bin", "config", "builders"):
            if (tree / top).exists():
                tar.add(tree / top, arcname=top)
        for info in extra:
            data = b"escaped\n" if info.isfile() else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    dest.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def leftovers() -> list[str]:
    """Everything in the cache root (the installer's temp folders are hidden siblings there)."""
    root = cache_root()
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# ---------------------------------------------------------------------------- local HTTP server


@dataclass
class Route:
    body: bytes
    cut_after: int | None = None  # send the full Content-Length, then close after this many bytes


@dataclass
class ArchiveServer:
    base_url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[ArchiveServer]:
    """An HTTP server on 127.0.0.1 serving ``routes`` (404 for anything else)."""
    state = ArchiveServer(base_url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            route = state.routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            end = len(route.body) if route.cut_after is None else route.cut_after
            self.wfile.write(route.body[:end])
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return None

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/releases"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def serve_release(
    server: ArchiveServer,
    tmp_path: Path,
    release: str = "2.5.16",
    *,
    extra: tuple[tarfile.TarInfo, ...] = (),
    **release_options: Any,
) -> bytes:
    """Build a release archive for ``release`` (``make_release`` options) plus ``extra``
    members, and serve it where the installer must look; returns the archive bytes."""
    n = len(server.routes)
    tree = make_release(tmp_path / f"src-{release}-{n}", release, **release_options)
    body = make_archive(tree, tmp_path / f"{release}-{n}.tar.gz", extra=extra)
    server.routes[f"/releases{archive_path(release)}"] = Route(body)
    return body


# ---------------------------------------------------------------------------- isolation


@pytest.fixture(autouse=True)
def isolated(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A private cache (XDG_CACHE_HOME), an empty PATH and no FABRIC_BIN/download URL —
    except for tests marked ``fabric``, which look at the real machine."""
    if request.node.get_closest_marker("fabric") is not None:
        return
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("FABRIC_BIN", raising=False)
    monkeypatch.delenv("BAAS_FABRIC_DOWNLOAD_URL", raising=False)


def cached_release(release: str = "2.5.16", **release_options: Any) -> Path:
    """A release folder in the (private) cache."""
    return make_release(cache_root() / release, release, **release_options)


# ---------------------------------------------------------------------------- find


def test_explicit_folder_or_its_bin(tmp_path: Path) -> None:
    root = make_release(tmp_path / "fabric")
    for given in (root, root / "bin"):
        found = find("2.5.16", fabric_bin=given)
        assert found.source == "--fabric-bin"
        assert found.root == root
        assert found.bin_dir == root / "bin"
        assert found.config_dir == root / "config"
        assert (found.config_dir / "core.yaml").is_file()
        assert (found.builders_dir / "bin" / "detect").is_file()
        assert found.peer == root / "bin" / "peer"
        assert found.orderer == root / "bin" / "orderer"
        assert found.configtxgen == root / "bin" / "configtxgen"


def test_line_is_accepted_for_release(tmp_path: Path) -> None:
    root = make_release(tmp_path / "fabric", "3.1.5")
    assert find("3.1", fabric_bin=root).release == "3.1.5"


def test_fabric_bin_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_release(tmp_path / "fabric")
    monkeypatch.setenv("FABRIC_BIN", str(root / "bin"))
    found = find("2.5.16")
    assert (found.source, found.root) == ("FABRIC_BIN", root)


def test_cache_under_xdg_cache_home(tmp_path: Path) -> None:
    root = cached_release()
    assert root == tmp_path / "xdg-cache" / "baas" / "fabric" / "2.5.16"
    found = find("2.5.16")
    assert (found.source, found.root) == ("cache", root)


def test_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_release(tmp_path / "opt" / "fabric")
    monkeypatch.setenv("PATH", f"{tmp_path / 'empty-path'}{os.pathsep}{root / 'bin'}")
    found = find("2.5.16")
    assert found.source == "PATH"
    assert found.root is None
    assert found.bin_dir == root / "bin"
    assert found.config_dir == root / "config"
    assert found.builders_dir == root / "builders" / "ccaas"


def test_symlinked_peer_on_path_uses_the_target_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_release(tmp_path / "opt" / "fabric")
    links = tmp_path / "links"
    links.mkdir()
    (links / "peer").symlink_to(root / "bin" / "peer")
    monkeypatch.setenv("PATH", str(links))
    assert find("2.5.16").bin_dir == root / "bin"


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = make_release(tmp_path / "explicit")
    env = make_release(tmp_path / "env")
    cache = cached_release()
    on_path = make_release(tmp_path / "on-path")
    monkeypatch.setenv("FABRIC_BIN", str(env))
    monkeypatch.setenv("PATH", str(on_path / "bin"))

    assert find("2.5.16", fabric_bin=explicit).root == explicit
    assert find("2.5.16").root == env
    monkeypatch.delenv("FABRIC_BIN")
    assert find("2.5.16").root == cache
    (cache / "bin" / "peer").unlink()
    assert find("2.5.16").bin_dir == on_path / "bin"


@pytest.mark.parametrize("binary", ["peer", "orderer"])
def test_wrong_version_in_explicit_folder_fails_there(tmp_path: Path, binary: str) -> None:
    root = make_release(
        tmp_path / "fabric",
        peer_version="2.5.15" if binary == "peer" else None,
        orderer_version="2.5.15" if binary == "orderer" else None,
    )
    cached_release()  # a good install further down the search must not be used
    with pytest.raises(UsageError) as caught:
        find("2.5.16", fabric_bin=root)
    message = caught.value.message
    assert str(root / "bin" / binary) in message
    assert "2.5.15" in message and "2.5.16" in message
    assert "baas fabric install --version 2.5" in caught.value.hint


def test_wrong_version_in_fabric_bin_env_fails_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_release(tmp_path / "fabric", "3.1.5")
    monkeypatch.setenv("FABRIC_BIN", str(root))
    cached_release()
    with pytest.raises(UsageError) as caught:
        find("2.5")
    assert "FABRIC_BIN" in caught.value.message
    assert "3.1.5" in caught.value.message and "2.5.16" in caught.value.message


def test_unreleased_build_is_refused(tmp_path: Path) -> None:
    root = make_release(tmp_path / "fabric", peer_version="latest")
    with pytest.raises(UsageError, match="latest"):
        find("2.5.16", fabric_bin=root)


def test_missing_files_are_named(tmp_path: Path) -> None:
    omit = ("config/core.yaml", "builders/ccaas/bin/detect")
    root = make_release(tmp_path / "fabric", omit=omit)
    with pytest.raises(UsageError) as caught:
        find("2.5.16", fabric_bin=root)
    for name in omit:
        assert name in caught.value.message
    assert "bin/peer" not in caught.value.message


def test_explicit_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such folder"):
        find("2.5.16", fabric_bin=tmp_path / "nowhere")


def test_wrong_cache_falls_through_to_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached_release(peer_version="2.5.14")
    on_path = make_release(tmp_path / "on-path")
    monkeypatch.setenv("PATH", str(on_path / "bin"))
    assert find("2.5.16").source == "PATH"


def test_nothing_found_names_every_place(tmp_path: Path) -> None:
    cached_release(omit=("bin/orderer",))
    with pytest.raises(OperationError) as caught:
        find("2.5.16")
    message, hint = caught.value.message, caught.value.hint
    assert str(cache_root() / "2.5.16") in message and "bin/orderer" in message
    assert "FABRIC_BIN" in message and "PATH" in message
    assert "baas fabric install --version 2.5" in hint
    assert "FABRIC_BIN" in hint and "--fabric-bin" in hint


def test_unsupported_version_lists_choices() -> None:
    with pytest.raises(UsageError) as caught:
        find("2.4.9")
    assert "2.5" in caught.value.hint and "3.1" in caught.value.hint


def test_binary_not_there(tmp_path: Path) -> None:
    found = find("2.5.16", fabric_bin=make_release(tmp_path / "fabric"))
    with pytest.raises(OperationError, match="osnadmin"):
        found.binary("osnadmin")


def test_version_probe_is_memoised_until_the_binary_changes(tmp_path: Path) -> None:
    counter = tmp_path / "runs.txt"
    root = make_release(tmp_path / "fabric", counter=counter)
    find("2.5.16", fabric_bin=root)
    find("2.5.16", fabric_bin=root)
    assert counter.read_text().split() == ["peer", "orderer"]
    peer = root / "bin" / "peer"
    _write_exec(peer, peer.read_text() + "# changed\n")
    find("2.5.16", fabric_bin=root)
    assert counter.read_text().split() == ["peer", "orderer", "peer"]


def test_list_installs(tmp_path: Path) -> None:
    cached_release()
    cached_release("3.1.5", orderer_version="3.1.4")
    rows = {s.line: s for s in list_installs()}
    assert rows["2.5"].found and rows["2.5"].install is not None
    assert rows["2.5"].install.source == "cache"
    broken = rows["3.1"]
    assert not broken.found and broken.candidate is not None
    assert broken.candidate.state == "wrong-version"
    assert "3.1.4" in broken.candidate.problem
    assert [c.source for c in broken.searched] == ["--fabric-bin", "FABRIC_BIN", "cache", "PATH"]


def test_status_checks_every_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = make_release(tmp_path / "on-path")
    monkeypatch.setenv("PATH", str(on_path / "bin"))
    cached_release(omit=("config/orderer.yaml",))
    places = {c.source: c for c in binaries.status("2.5")}
    assert places["--fabric-bin"].state == "not-set"
    assert places["cache"].state == "incomplete"
    assert places["cache"].missing == ("config/orderer.yaml",)
    assert places["PATH"].found


def test_fabric_list_service(tmp_path: Path) -> None:
    cached_release()
    data = fabric_list().to_dict()
    assert data["allFound"] is False
    first, second = data["releases"]
    assert (first["version"], first["release"], first["found"]) == ("2.5", "2.5.16", True)
    assert first["install"]["configDir"] == str(cache_root() / "2.5.16" / "config")
    assert (second["release"], second["status"], second["source"]) == ("3.1.5", "absent", None)


# ---------------------------------------------------------------------------- install


def test_install_downloads_verifies_and_moves_into_place(
    server: ArchiveServer, tmp_path: Path
) -> None:
    body = serve_release(server, tmp_path, padding=300_000)
    calls: list[tuple[int, int | None]] = []
    done = install("2.5", base_url=server.base_url, progress=lambda d, t: calls.append((d, t)))
    assert server.requests == [f"/releases{archive_path('2.5.16')}"]
    target = cache_root() / "2.5.16"
    assert (done.source, done.root, done.release) == ("cache", target, "2.5.16")
    assert os.access(target / "bin" / "peer", os.X_OK)
    assert find("2.5.16") == done
    assert leftovers() == ["2.5.16"]
    assert calls[0] == (0, len(body)) and calls[-1] == (len(body), len(body))
    assert len(calls) > 2
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_install_is_skipped_when_installed_unless_forced(
    server: ArchiveServer, tmp_path: Path
) -> None:
    serve_release(server, tmp_path)
    first = install("2.5.16", base_url=server.base_url)
    marker = first.bin_dir / "marker"
    marker.write_text("kept")
    assert install("2.5.16", base_url=server.base_url) == first
    assert len(server.requests) == 1 and marker.exists()
    assert install("2.5.16", base_url=server.base_url, force=True) == first
    assert len(server.requests) == 2 and not marker.exists()
    assert leftovers() == ["2.5.16"]


def test_download_url_from_environment(
    server: ArchiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_release(server, tmp_path, "3.1.5")
    monkeypatch.setenv("BAAS_FABRIC_DOWNLOAD_URL", server.base_url + "/")
    assert install("3.1").release == "3.1.5"
    assert server.requests == [f"/releases{archive_path('3.1.5')}"]


def test_wrong_version_in_archive_leaves_nothing(server: ArchiveServer, tmp_path: Path) -> None:
    serve_release(server, tmp_path, peer_version="2.5.15")
    with pytest.raises(OperationError) as caught:
        install("2.5", base_url=server.base_url)
    assert "2.5.15" in caught.value.message and "2.5.16" in caught.value.message
    assert leftovers() == []


def test_failed_verification_keeps_the_old_install(server: ArchiveServer, tmp_path: Path) -> None:
    old = cached_release()
    (old / "bin" / "marker").write_text("old")
    serve_release(server, tmp_path, omit=("bin/configtxgen",))
    with pytest.raises(OperationError, match="bin/configtxgen"):
        install("2.5", base_url=server.base_url, force=True)
    assert (old / "bin" / "marker").read_text() == "old"
    assert find("2.5").root == old
    assert leftovers() == ["2.5.16"]


def test_http_404_names_the_url(server: ArchiveServer) -> None:
    with pytest.raises(OperationError) as caught:
        install("2.5", base_url=server.base_url)
    url = f"{server.base_url}{archive_path('2.5.16')}"
    assert url in caught.value.message and "404" in caught.value.message
    assert "FABRIC_BIN" in caught.value.hint
    assert leftovers() == []


def test_unreachable_server_is_an_operation_error(tmp_path: Path) -> None:
    with pytest.raises(OperationError, match=r"download of http://127\.0\.0\.1:9/"):
        install("2.5", base_url="http://127.0.0.1:9/")
    assert leftovers() == []


def _evil(kind: str) -> tarfile.TarInfo:
    if kind == "dotdot":
        return tarfile.TarInfo("bin/../../escaped.txt")
    if kind == "absolute":
        return tarfile.TarInfo("/tmp/baas-escaped.txt")
    if kind == "symlink":
        info = tarfile.TarInfo("bin/escape")
        info.type, info.linkname = tarfile.SYMTYPE, "../../../../escaped.txt"
        return info
    info = tarfile.TarInfo("bin/device")
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    return info


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "device"])
def test_unsafe_archive_is_refused(server: ArchiveServer, tmp_path: Path, kind: str) -> None:
    serve_release(server, tmp_path, extra=(_evil(kind),))
    with pytest.raises(OperationError, match="refusing the archive"):
        install("2.5", base_url=server.base_url)
    assert leftovers() == []
    assert not (cache_root().parent / "escaped.txt").exists()
    assert not (cache_root() / "escaped.txt").exists()


def test_corrupt_archive(server: ArchiveServer) -> None:
    server.routes[f"/releases{archive_path('2.5.16')}"] = Route(b"<html>not an archive</html>")
    with pytest.raises(OperationError, match="cannot extract"):
        install("2.5", base_url=server.base_url)
    assert leftovers() == []


def test_connection_closed_early_leaves_nothing(server: ArchiveServer, tmp_path: Path) -> None:
    body = serve_release(server, tmp_path, padding=200_000)
    server.routes[f"/releases{archive_path('2.5.16')}"].cut_after = len(body) // 2
    with pytest.raises(OperationError) as caught:
        install("2.5", base_url=server.base_url)
    assert f"{server.base_url}{archive_path('2.5.16')}" in caught.value.message
    assert leftovers() == []


class Interrupted(Exception):
    pass


def test_interrupted_install_leaves_nothing(server: ArchiveServer, tmp_path: Path) -> None:
    serve_release(server, tmp_path, padding=300_000)

    def stop_midway(done: int, total: int | None) -> None:
        if done > 0:
            raise Interrupted

    with pytest.raises(Interrupted):
        install("2.5", base_url=server.base_url, progress=stop_midway)
    assert leftovers() == []


def test_install_rejects_unpinned_versions(server: ArchiveServer) -> None:
    with pytest.raises(UsageError) as caught:
        install("2.5.15", base_url=server.base_url)
    assert "2.5 (2.5.16)" in caught.value.hint and "3.1 (3.1.5)" in caught.value.hint
    assert server.requests == []


def test_fabric_install_service_reports_skips(server: ArchiveServer, tmp_path: Path) -> None:
    serve_release(server, tmp_path)
    first = fabric_install("2.5", base_url=server.base_url).to_dict()
    again = fabric_install("2.5", base_url=server.base_url).to_dict()
    assert (first["installed"], again["installed"]) == (True, False)
    assert first["binDir"] == again["binDir"] == str(cache_root() / "2.5.16" / "bin")


# ---------------------------------------------------------------------------- CLI


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    cached_release("3.1.5")
    code, out, _ = run_cli(capsys, "fabric", "list", "-o", "json")
    assert code == 0
    releases = {r["version"]: r for r in json.loads(out)["releases"]}
    assert releases["3.1"]["found"] and releases["3.1"]["source"] == "cache"
    assert releases["3.1"]["path"] == str(cache_root() / "3.1.5")
    assert not releases["2.5"]["found"]


def test_cli_list_text(capsys: pytest.CaptureFixture[str]) -> None:
    cached_release(omit=("config/core.yaml",))
    code, out, err = run_cli(capsys, "fabric", "list")
    assert code == 0
    assert "2.5 (2.5.16)" in out and "incomplete" in out and "absent" in out
    assert "2.5.16: not a complete Fabric release folder: missing config/core.yaml" in err
    assert "baas fabric install" in err


def test_cli_install(
    server: ArchiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_release(server, tmp_path, "3.1.5")
    monkeypatch.setenv("BAAS_FABRIC_DOWNLOAD_URL", server.base_url)
    code, out, _ = run_cli(capsys, "fabric", "install", "--version", "3.1", "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["release"], data["installed"]) == ("3.1.5", True)
    code, _, err = run_cli(capsys, "fabric", "install", "--version", "3.1")
    assert code == 0 and "already installed" in err
    assert len(server.requests) == 1


def test_cli_install_text_progress(
    server: ArchiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_release(server, tmp_path)
    monkeypatch.setenv("BAAS_FABRIC_DOWNLOAD_URL", server.base_url)
    code, _, err = run_cli(capsys, "fabric", "install")
    assert code == 0
    assert f"installed Fabric 2.5.16 in {cache_root() / '2.5.16'}" in err


def test_cli_install_errors(
    server: ArchiveServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "fabric", "install", "--version", "9.9")
    assert code == 2 and "unsupported Fabric version" in err and "Traceback" not in err
    monkeypatch.setenv("BAAS_FABRIC_DOWNLOAD_URL", server.base_url)
    code, _, err = run_cli(capsys, "fabric", "install", "--version", "2.5")
    assert code == 1 and "404" in err and "FABRIC_BIN" in err and "Traceback" not in err


# ---------------------------------------------------------------------------- the real thing


@pytest.mark.fabric
def test_real_cached_release_is_accepted() -> None:
    real: FabricInstall = fabric_install_or_skip("2.5.16")
    assert real.release == "2.5.16"
    assert binaries.probe_version(real.peer) == "2.5.16"
    assert binaries.probe_version(real.orderer) == "2.5.16"
    assert find("2.5.16") == real
