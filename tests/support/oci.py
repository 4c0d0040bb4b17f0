"""Assemble OCI container images from local files (no registry, no Docker) and import them into
containerd.

An image is a list of :class:`Entry` (files, directories, symlinks of the root filesystem, in one
layer) plus an :class:`ImageConfig` (Entrypoint, Cmd, Env, User, WorkingDir, ...).
:func:`build_image` writes an OCI image-layout *archive* (``oci-layout``, ``index.json``,
``blobs/sha256/...`` in one tar, what ``ctr images import`` reads) into the cache
``${XDG_CACHE_HOME:-~/.cache}/baas/oci/``. Builds are deterministic (sorted entries, fixed
mtimes, uid/gid 0, gzip without timestamp), so the same inputs give the same digests; an archive
whose inputs (ref, config, every entry's metadata and content hash) are unchanged is reused
without rebuilding. :func:`import_image` loads an archive into a containerd under its ref.

Ready-made images: :func:`pause_image`, :func:`busybox_image` and :func:`fabric_images` (Fabric
peer + orderer laid out like the official ``hyperledger/fabric-peer`` / ``fabric-orderer``
images, from the binaries ``baas.fabric.binaries`` finds). Dynamically linked programs get their
``ldd`` closure copied next to them (:func:`ldd_closure`), so images need no distribution base.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import re
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

#: Bump when the archive format produced here changes (invalidates the cache).
FORMAT_VERSION = "1"
#: mtime of every file in a layer (2000-01-01T00:00:00Z): deterministic, and not 0 (some tools
#: treat the epoch as "unset").
LAYER_MTIME = 946684800
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
#: containerd's annotation for the full image name of an index entry (``ctr images import``).
ANNOTATION_CONTAINERD_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"

_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_HASH_CHUNK = 1 << 20

Kind = Literal["file", "dir", "symlink"]


class ImageError(RuntimeError):
    """An image could not be built or imported (the message says what and why)."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Entry:
    """One item of the image's root filesystem.

    ``path`` is absolute inside the image (``/usr/local/bin/peer``). A ``file`` takes its bytes
    from ``source`` (a host file) or ``data``; a ``symlink`` points at ``target``; a ``dir`` is
    created empty. Owner is always root (uid/gid 0) unless ``uid``/``gid`` say otherwise.
    Parent directories are created automatically (mode 0755).
    """

    path: str
    kind: Kind = "file"
    mode: int = 0o644
    source: Path | None = None
    data: bytes | None = None
    target: str = ""
    uid: int = 0
    gid: int = 0

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"image path must be absolute: {self.path!r}")
        if self.kind == "file" and (self.source is None) == (self.data is None):
            raise ValueError(f"{self.path}: a file needs exactly one of source or data")
        if self.kind == "symlink" and not self.target:
            raise ValueError(f"{self.path}: a symlink needs a target")

    @property
    def name(self) -> str:
        """The tar member name (relative, normalised: ``usr/local/bin/peer``)."""
        return str(PurePosixPath(self.path)).lstrip("/")

    def content(self) -> bytes:
        """The bytes of a ``file`` entry (reads ``source``)."""
        if self.data is not None:
            return self.data
        assert self.source is not None
        return self.source.read_bytes()


def file_from(host_path: Path, image_path: str, *, mode: int | None = None) -> Entry:
    """A file entry copied from ``host_path`` (mode taken from the host file unless given;
    symlinks on the host are followed)."""
    host_mode = stat.S_IMODE(host_path.stat().st_mode)
    return Entry(path=image_path, source=host_path, mode=host_mode if mode is None else mode)


def text_file(image_path: str, text: str, *, mode: int = 0o644) -> Entry:
    """A file entry with ``text`` (UTF-8) as content."""
    return Entry(path=image_path, data=text.encode(), mode=mode)


def directory(image_path: str, *, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Entry:
    """An (empty) directory entry."""
    return Entry(path=image_path, kind="dir", mode=mode, uid=uid, gid=gid)


def symlink(image_path: str, target: str) -> Entry:
    """A symlink entry ``image_path -> target``."""
    return Entry(path=image_path, kind="symlink", mode=0o777, target=target)


def tree_from(host_dir: Path, image_dir: str) -> list[Entry]:
    """Entries for every file, directory and symlink under ``host_dir``, placed at
    ``image_dir`` (modes kept, symlinks kept as symlinks)."""
    entries = [directory(image_dir, mode=stat.S_IMODE(host_dir.stat().st_mode))]
    for path in sorted(host_dir.rglob("*")):
        inside = str(PurePosixPath(image_dir) / path.relative_to(host_dir).as_posix())
        if path.is_symlink():
            entries.append(symlink(inside, os.readlink(path)))
        elif path.is_dir():
            entries.append(directory(inside, mode=stat.S_IMODE(path.stat().st_mode)))
        elif path.is_file():
            entries.append(file_from(path, inside))
    return entries


@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of the OCI image config (``config`` object of the spec)."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = (f"PATH={_DEFAULT_PATH}",)
    user: str = ""
    working_dir: str = ""
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    stop_signal: str = ""

    def to_json(self) -> dict[str, object]:
        """The ``config`` object, with only the fields that are set."""
        doc: dict[str, object] = {}
        if self.entrypoint:
            doc["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            doc["Cmd"] = list(self.cmd)
        if self.env:
            doc["Env"] = list(self.env)
        if self.user:
            doc["User"] = self.user
        if self.working_dir:
            doc["WorkingDir"] = self.working_dir
        if self.exposed_ports:
            doc["ExposedPorts"] = {port: {} for port in self.exposed_ports}
        if self.volumes:
            doc["Volumes"] = {volume: {} for volume in self.volumes}
        if self.labels:
            doc["Labels"] = dict(self.labels)
        if self.stop_signal:
            doc["StopSignal"] = self.stop_signal
        return doc


@dataclass(frozen=True)
class ImageSpec:
    """Everything an image is built from: its reference, root filesystem and config."""

    ref: str
    entries: tuple[Entry, ...]
    config: ImageConfig = field(default_factory=ImageConfig)
    architecture: str = "amd64"
    os: str = "linux"


@dataclass(frozen=True)
class BuiltImage:
    """An OCI archive on disk: ``ref`` (normalised, ``docker.io/library/busybox:1.35``),
    ``archive`` (the tar ``ctr images import`` reads), ``manifest_digest`` (``sha256:...``)."""

    ref: str
    archive: Path
    manifest_digest: str


# --------------------------------------------------------------------------- references


_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def normalize_ref(ref: str) -> str:
    """The fully qualified form of an image reference, as containerd/CRI store it:
    ``busybox:1.35`` -> ``docker.io/library/busybox:1.35``; ``hyperledger/fabric-peer:2.5.16``
    -> ``docker.io/hyperledger/fabric-peer:2.5.16``; a ref with a registry host (has a ``.`` or
    ``:`` or is ``localhost`` before the first ``/``) is kept. A tag is required (no
    ``latest`` default: kubelet would then always try to pull). :class:`ValueError` otherwise.
    """
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag or not _TAG.match(tag) or not _NAME.match(name):
        raise ValueError(f"image reference needs a name and an explicit tag: {ref!r}")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return f"{name}:{tag}"
    if not rest:
        return f"docker.io/library/{name}:{tag}"
    return f"docker.io/{name}:{tag}"


# --------------------------------------------------------------------------- building


def cache_root() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/baas/oci``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path("~/.cache").expanduser()
    return base / "baas" / "oci"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _entry_key(entry: Entry) -> dict[str, object]:
    doc: dict[str, object] = {
        "path": entry.name,
        "kind": entry.kind,
        "mode": entry.mode,
        "uid": entry.uid,
        "gid": entry.gid,
        "target": entry.target,
    }
    if entry.kind == "file":
        if entry.data is not None:
            doc["sha256"] = hashlib.sha256(entry.data).hexdigest()
        else:
            assert entry.source is not None
            doc["sha256"] = _file_digest(entry.source)
    return doc


def input_key(spec: ImageSpec) -> str:
    """A hash of everything the archive depends on (ref, platform, config, every entry with the
    hash of its content): equal keys mean byte-identical archives."""
    doc = {
        "format": FORMAT_VERSION,
        "ref": normalize_ref(spec.ref),
        "platform": [spec.os, spec.architecture],
        "config": spec.config.to_json(),
        "entries": sorted((_entry_key(e) for e in spec.entries), key=lambda d: str(d["path"])),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _with_parents(entries: Iterable[Entry]) -> list[Entry]:
    """``entries`` plus a 0755 directory for every missing parent, sorted by tar name, one entry
    per path (a later entry for the same path replaces an earlier one)."""
    by_name: dict[str, Entry] = {}
    for entry in entries:
        by_name[entry.name] = entry
    for name in list(by_name):
        parent = PurePosixPath(name).parent
        while str(parent) not in (".", ""):
            by_name.setdefault(str(parent), directory("/" + str(parent)))
            parent = parent.parent
    return [by_name[name] for name in sorted(by_name)]


def _tar_info(entry: Entry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.name)
    info.mode = entry.mode
    info.uid, info.gid = entry.uid, entry.gid
    info.uname = info.gname = ""
    info.mtime = LAYER_MTIME
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif entry.kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = entry.target
    return info


def layer_tar(entries: Iterable[Entry]) -> bytes:
    """The uncompressed, deterministic layer tar of ``entries`` (parents added)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in _with_parents(entries):
            info = _tar_info(entry)
            if entry.kind == "file":
                data = entry.content()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    # mtime=0 and no file name: the same input gives the same bytes. Level 1: layers are read
    # once by containerd; speed matters more than size here.
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=1, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def _blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def _json_bytes(doc: object) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = LAYER_MTIME
    tar.addfile(info, io.BytesIO(data))


def _write_archive(spec: ImageSpec, dest: Path) -> str:
    """Write the OCI archive of ``spec`` to ``dest``; return the manifest digest."""
    ref = normalize_ref(spec.ref)
    raw_layer = layer_tar(spec.entries)
    layer_digest, layer = _blob(_gzip(raw_layer))
    config_doc = {
        "architecture": spec.architecture,
        "os": spec.os,
        "config": spec.config.to_json(),
        "rootfs": {
            "type": "layers",
            "diff_ids": ["sha256:" + hashlib.sha256(raw_layer).hexdigest()],
        },
        "history": [{"created_by": "tests/support/oci.py", "comment": ref}],
    }
    config_digest, config = _blob(_json_bytes(config_doc))
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest, "size": len(layer)}],
    }
    manifest_digest, manifest = _blob(_json_bytes(manifest_doc))
    index_doc = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [
            {
                "mediaType": MEDIA_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest),
                "platform": {"architecture": spec.architecture, "os": spec.os},
                "annotations": {
                    ANNOTATION_CONTAINERD_NAME: ref,
                    ANNOTATION_REF_NAME: ref.rsplit(":", 1)[1],
                },
            }
        ],
    }
    with tarfile.open(dest, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "oci-layout", _json_bytes({"imageLayoutVersion": "1.0.0"}))
        _add_bytes(tar, "index.json", _json_bytes(index_doc))
        for digest, data in (
            (config_digest, config),
            (layer_digest, layer),
            (manifest_digest, manifest),
        ):
            _add_bytes(tar, "blobs/sha256/" + digest.removeprefix("sha256:"), data)
    return manifest_digest


def build_image(spec: ImageSpec, *, cache: Path | None = None) -> BuiltImage:
    """The OCI archive of ``spec``, built into ``cache`` (default :func:`cache_root`) or reused
    when an archive with the same :func:`input_key` is already there. Safe against concurrent
    builders (written under a temporary name, then renamed)."""
    root = cache if cache is not None else cache_root()
    key = input_key(spec)
    folder = root / key[:32]
    archive, digest_file = folder / "image.tar", folder / "manifest-digest"
    if archive.is_file() and digest_file.is_file():
        return BuiltImage(normalize_ref(spec.ref), archive, digest_file.read_text().strip())
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".image.", suffix=".tar")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        digest = _write_archive(spec, tmp)
        tmp.replace(archive)
    finally:
        tmp.unlink(missing_ok=True)
    digest_file.write_text(digest + "\n")
    (folder / "ref").write_text(normalize_ref(spec.ref) + "\n")
    return BuiltImage(normalize_ref(spec.ref), archive, digest)


# --------------------------------------------------------------------------- importing


def import_image(image: BuiltImage, *, ctr: Path, address: Path, namespace: str = "k8s.io") -> None:
    """``ctr --address ADDRESS -n NAMESPACE images import`` the archive; afterwards the image
    is in that containerd under ``image.ref`` (unpacked for the default snapshotter, so the CRI
    can run it at once). :class:`ImageError` with ctr's output when the import fails or the ref
    is not there afterwards."""
    base = [str(ctr), "--address", str(address), "--namespace", namespace]
    proc = subprocess.run(
        [*base, "images", "import", "--digests", str(image.archive)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ImageError(f"ctr images import {image.archive} failed: {proc.stderr.strip()}")
    listed = subprocess.run(
        [*base, "images", "list", "--quiet", f"name=={image.ref}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if image.ref not in listed.stdout.split():
        raise ImageError(
            f"{image.ref} is not in containerd after importing {image.archive}:"
            f" {proc.stdout.strip()} {listed.stderr.strip()}"
        )


# --------------------------------------------------------------------------- rootfs helpers


def _ldd_paths(binary: Path) -> list[Path]:
    proc = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    if "not a dynamic executable" in out or "statically linked" in out:
        return []
    if proc.returncode != 0:
        raise ImageError(f"ldd {binary} failed: {out.strip()}")
    paths: list[Path] = []
    for line in out.splitlines():
        if "=> not found" in line:
            raise ImageError(f"{binary}: shared library not found: {line.strip()}")
        for token in line.split():
            if token.startswith("/"):
                paths.append(Path(token))
    return paths


def ldd_closure(binaries: Sequence[Path]) -> list[Entry]:
    """File entries for every shared library (and the dynamic loader) the ``binaries`` need,
    at the same absolute paths as on this host (both the resolved file and, when the host path
    is a symlink, the symlink), so the binaries run inside the image. Empty for static
    binaries. :class:`ImageError` when a library is missing."""
    entries: dict[str, Entry] = {}
    for binary in binaries:
        for lib in _ldd_paths(binary):
            real = lib.resolve()
            entries.setdefault(str(real), file_from(real, str(real)))
            if lib.is_symlink() or str(lib) != str(real):
                entries.setdefault(str(lib), symlink(str(lib), str(real)))
    return list(entries.values())


def base_entries() -> list[Entry]:
    """What every image here gets: /etc/passwd and /etc/group (root, nobody), nsswitch.conf
    (files then dns), /tmp (1777), /root, /usr/bin + /bin."""
    return [
        text_file(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        ),
        text_file("/etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        text_file("/etc/nsswitch.conf", "hosts: files dns\nnetworks: files\n"),
        directory("/tmp", mode=0o1777),
        directory("/root", mode=0o700),
        directory("/bin"),
        directory("/usr/bin"),
    ]


#: glibc's NSS modules: a *static* glibc program (Debian's busybox-static) dlopen()s them for
#: every host-name lookup, so without them ``nc some-service 80`` cannot resolve DNS names.
NSS_MODULES = ("libnss_files.so.2", "libnss_dns.so.2")
_LIB_DIRS = (Path("/usr/lib/x86_64-linux-gnu"), Path("/lib/x86_64-linux-gnu"), Path("/usr/lib64"))


def nss_entries() -> list[Entry]:
    """The host's glibc NSS modules (files, dns) and their ldd closure, at their host paths;
    empty when this host has none (then static programs resolve only via /etc/hosts)."""
    modules = []
    for name in NSS_MODULES:
        found = next((d / name for d in _LIB_DIRS if (d / name).exists()), None)
        if found is not None:
            modules.append(found)
    entries = [file_from(m.resolve(), str(m.resolve())) for m in modules]
    entries += [symlink(str(m), str(m.resolve())) for m in modules if m != m.resolve()]
    return entries + ldd_closure(modules)


def busybox_entries(busybox: Path) -> list[Entry]:
    """A static busybox at /bin/busybox with a /bin symlink for each applet (``sh``, ``nc``,
    ``httpd``, ``nslookup``, ...) plus :func:`nss_entries`, so name lookups work (Debian's
    static ``wget`` applet segfaults, even on the host: use ``nc``). :class:`ImageError` when
    ``busybox`` is dynamically linked."""
    if _ldd_paths(busybox):
        raise ImageError(f"{busybox} is dynamically linked; use Debian's busybox-static")
    applets = subprocess.run(
        [str(busybox), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    entries = [file_from(busybox, "/bin/busybox", mode=0o755)]
    entries += [symlink(f"/bin/{name}", "busybox") for name in applets if name != "busybox"]
    return entries + nss_entries()


# --------------------------------------------------------------------------- ready-made images

PAUSE_REF = "registry.k8s.io/pause:3.10"
BUSYBOX_REF = "docker.io/library/busybox:1.35"


def pause_spec(pause: Path, *, ref: str = PAUSE_REF) -> ImageSpec:
    """The pod sandbox image: the static ``pause`` program as Entrypoint, user 65535."""
    return ImageSpec(
        ref=ref,
        entries=(file_from(pause, "/pause", mode=0o755),),
        config=ImageConfig(entrypoint=("/pause",), env=(), user="65535:65535"),
    )


def busybox_spec(busybox: Path, *, ref: str = BUSYBOX_REF) -> ImageSpec:
    """A busybox image (like docker.io/library/busybox): static busybox + applet symlinks, Cmd
    ``sh``."""
    return ImageSpec(
        ref=ref,
        entries=(*base_entries(), *busybox_entries(busybox)),
        config=ImageConfig(cmd=("sh",)),
    )


def pause_image(pause: Path, *, ref: str = PAUSE_REF) -> BuiltImage:
    """Build (or reuse) :func:`pause_spec`."""
    return build_image(pause_spec(pause, ref=ref))


def busybox_image(busybox: Path, *, ref: str = BUSYBOX_REF) -> BuiltImage:
    """Build (or reuse) :func:`busybox_spec`."""
    return build_image(busybox_spec(busybox, ref=ref))


#: Where Fabric's official images put things.
FABRIC_CFG_PATH = "/etc/hyperledger/fabric"
FABRIC_CCAAS_BUILDER = "/opt/hyperledger/ccaas_builder"
FABRIC_DATA = "/var/hyperledger/production"


@dataclass(frozen=True)
class FabricRoles:
    """Per-image differences of the Fabric peer and orderer images."""

    binary: str
    config_files: tuple[str, ...]
    port: str
    cmd: tuple[str, ...]


FABRIC_ROLES: dict[str, FabricRoles] = {
    "peer": FabricRoles("peer", ("core.yaml",), "7051/tcp", ("peer", "node", "start")),
    "orderer": FabricRoles("orderer", ("orderer.yaml", "configtx.yaml"), "7050/tcp", ("orderer",)),
}


def fabric_spec(
    role: str,
    *,
    release: str,
    bin_dir: Path,
    config_dir: Path,
    builders_dir: Path,
    busybox: Path | None = None,
) -> ImageSpec:
    """``hyperledger/fabric-<role>:<release>`` (role ``peer`` or ``orderer``) laid out like the
    official image: the binary in /usr/local/bin, its sample config in /etc/hyperledger/fabric
    (``FABRIC_CFG_PATH``), for the peer the ccaas builder in
    /opt/hyperledger/ccaas_builder/bin, /var/hyperledger/production as data dir, run as root.
    The binary's ldd closure (glibc) is included; with ``busybox`` also /bin/sh and the
    applets (handy for exec-based probes and debugging)."""
    spec = FABRIC_ROLES[role]
    binary = bin_dir / spec.binary
    entries: list[Entry] = [*base_entries(), file_from(binary, f"/usr/local/bin/{spec.binary}")]
    entries += ldd_closure([binary])
    entries += [
        file_from(config_dir / name, f"{FABRIC_CFG_PATH}/{name}")
        for name in spec.config_files
        if (config_dir / name).is_file()
    ]
    entries.append(directory(FABRIC_DATA))
    if role == "peer":
        entries += tree_from(builders_dir / "bin", f"{FABRIC_CCAAS_BUILDER}/bin")
    if busybox is not None:
        entries += busybox_entries(busybox)
    config = ImageConfig(
        cmd=spec.cmd,
        env=(
            f"PATH={_DEFAULT_PATH}",
            f"FABRIC_CFG_PATH={FABRIC_CFG_PATH}",
            f"FABRIC_VER={release}",
        ),
        working_dir="/root",
        exposed_ports=(spec.port,),
        volumes=(FABRIC_CFG_PATH, "/var/hyperledger"),
    )
    return ImageSpec(
        ref=f"hyperledger/fabric-{role}:{release}", entries=tuple(entries), config=config
    )


def fabric_images(version: str, *, busybox: Path | None = None) -> list[BuiltImage]:
    """Build (or reuse) ``hyperledger/fabric-peer:<release>`` and
    ``hyperledger/fabric-orderer:<release>`` from the Fabric binaries of ``version`` (a line
    such as ``2.5`` or a pinned release) that ``baas.fabric.binaries.find`` locates.

    Raises ``baas.errors.OperationError`` (from ``find``) when the binaries are absent: the
    caller decides whether that skips or fails. Returns the two images, peer first.
    """
    from baas.fabric import binaries

    release = binaries.resolve_release(version)
    install = binaries.find(release)
    return [
        build_image(
            fabric_spec(
                role,
                release=release,
                bin_dir=install.bin_dir,
                config_dir=install.config_dir,
                builders_dir=install.builders_dir,
                busybox=busybox,
            )
        )
        for role in ("peer", "orderer")
    ]


def with_entries(spec: ImageSpec, *extra: Entry, ref: str | None = None) -> ImageSpec:
    """``spec`` with ``extra`` entries added (later entries win on equal paths) and optionally
    another ref: derive e.g. a chaincode image from a base."""
    return dataclasses.replace(spec, entries=(*spec.entries, *extra), ref=ref or spec.ref)
