"""Run IBM's network-config-analyzer (``nca``, np-guard) and read its pod-to-pod connectivity map.

``nca`` lives in its own virtualenv (``scripts/install-netpol-tools.sh``; it pins its dependencies
exactly). :func:`find_nca` honours ``BAAS_NCA`` (a path to the executable) and otherwise runs the
install script, which is a no-op when the pinned version is already cached.

:func:`connectivity` writes the policies and the resources (namespaces, pods) to files, runs
``nca --connectivity <policies> --resource_list <resources> -o txt_no_fw_rules`` and parses the
explicit map, one line per connected pair::

    ns-a/pod-1[Pod] => ns-b/pod-2[Pod] : {protocols:TCP,dst_ports:7050,7053}

Pairs not listed have no connection at all; a pod to itself is never listed (and always allowed).
The connection text is nca's ``ConnectivityProperties`` rendering: ``All connections``,
``No connections``, ``{key:value,...}`` cubes joined by ``,``, or ``All but <cubes>``. Anything
else (a dimension this helper does not model, e.g. ``src_ports``) raises :class:`NcaError`
rather than being guessed at.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "scripts" / "install-netpol-tools.sh"
ENV_NCA = "BAAS_NCA"


class NcaError(Exception):
    """nca could not be installed or run, or printed something this helper cannot read."""


def find_nca() -> Path:
    """The ``nca`` executable: ``$BAAS_NCA`` when set, else what the install script reports
    (installing it on first use). Raises :class:`NcaError` when neither works."""
    if os.environ.get(ENV_NCA):
        path = Path(os.environ[ENV_NCA])
        if not os.access(path, os.X_OK):
            raise NcaError(f"{ENV_NCA}={path} is not an executable")
        return path
    proc = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, check=False, timeout=900
    )
    if proc.returncode != 0:
        raise NcaError(f"{INSTALL_SCRIPT.name} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    for line in proc.stdout.splitlines():
        if line.startswith("NCA="):
            return Path(line.removeprefix("NCA="))
    raise NcaError(f"{INSTALL_SCRIPT.name} printed no NCA= line: {proc.stdout[-500:]!r}")


# ---------------------------------------------------------------------------------------------
# Connection sets


def _ranges(text: str) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for item in text.split(","):
        m = re.fullmatch(r"\s*(\d+)(?:-(\d+))?\s*", item)
        if not m:
            raise NcaError(f"cannot read port range {item!r} in {text!r}")
        out.append((int(m[1]), int(m[2] or m[1])))
    return tuple(out)


@dataclass(frozen=True)
class Cube:
    """Protocols x destination ports. ``protocols`` ``None`` means every protocol;
    ``protocols_negated`` flips the set (nca's ``all but TCP``); ``ports`` ``None`` means every
    port."""

    protocols: frozenset[str] | None
    protocols_negated: bool
    ports: tuple[tuple[int, int], ...] | None

    def allows(self, port: int, protocol: str) -> bool:
        if self.protocols is not None and (protocol.upper() in self.protocols) == (
            self.protocols_negated
        ):
            return False
        return self.ports is None or any(lo <= port <= hi for lo, hi in self.ports)


_KEY = re.compile(r"(?:^|,)([a-z_]+):")


def _cube(body: str) -> Cube:
    keys = list(_KEY.finditer(body))
    if body and (not keys or keys[0].start() != 0):
        raise NcaError(f"cannot read connection cube {{{body}}}")
    protocols: frozenset[str] | None = None
    negated = False
    ports: tuple[tuple[int, int], ...] | None = None
    for i, key in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(body)
        value = body[key.end() : end].strip()
        if key[1] == "protocols":
            if value == "*":
                continue
            negated = value.startswith("all but ")
            names = value.removeprefix("all but ")
            protocols = frozenset(p.strip().upper() for p in names.split(","))
        elif key[1] == "dst_ports":
            ports = _ranges(value)
        else:
            raise NcaError(f"connection dimension {key[1]!r} is not modelled: {{{body}}}")
    return Cube(protocols, negated, ports)


@dataclass(frozen=True)
class Connections:
    """What one pod may open to another: everything, nothing, or a union of cubes (negated as a
    whole for nca's ``All but ...``)."""

    everything: bool
    cubes: tuple[Cube, ...] = ()
    negated: bool = False

    def allows(self, port: int, protocol: str = "TCP") -> bool:
        if self.everything:
            return True
        return any(c.allows(port, protocol) for c in self.cubes) != self.negated


NOTHING = Connections(everything=False)


def parse_connections(text: str) -> Connections:
    """Read nca's rendering of a connection set (see the module docstring)."""
    text = text.strip()
    if text == "All connections":
        return Connections(everything=True)
    if text == "No connections":
        return NOTHING
    negated = text.startswith("All but ")
    body = text.removeprefix("All but ").strip()
    if not re.fullmatch(r"\{[^{}]*\}(?:,\{[^{}]*\})*", body):
        raise NcaError(f"cannot read connection set {text!r}")
    cubes = tuple(_cube(m) for m in re.findall(r"\{([^{}]*)\}", body))
    return Connections(everything=False, cubes=cubes, negated=negated)


# ---------------------------------------------------------------------------------------------
# Connectivity maps

_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)$")
_KIND_SUFFIX = re.compile(r"\[[A-Za-z]+\]$")


def _endpoint(text: str) -> str:
    """``ns/pod[Pod]`` -> ``ns/pod``; IP ranges (``0.0.0.0-255.255.255.255``) unchanged."""
    return _KIND_SUFFIX.sub("", text)


@dataclass(frozen=True)
class ConnectivityMap:
    """Pod-to-pod connectivity: ``edges[("ns/a", "ns/b")]``; absent pairs have no connection."""

    edges: dict[tuple[str, str], Connections]

    def connections(self, src: str, dst: str) -> Connections:
        return self.edges.get((src, dst), NOTHING)

    def allows(self, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
        """Whether ``src`` (``ns/pod``) may open ``port``/``protocol`` on ``dst``. A pod may
        always reach itself."""
        return src == dst or self.connections(src, dst).allows(port, protocol)


def parse_connectivity(text: str) -> ConnectivityMap:
    """Read ``-o txt_no_fw_rules`` output: connection lines; blank lines and nca's chatter
    (lines without `` => ``) are skipped. A pair listed twice raises :class:`NcaError`."""
    edges: dict[tuple[str, str], Connections] = {}
    for line in text.splitlines():
        if " => " not in line:
            continue
        m = _LINE.match(line.strip())
        if not m:
            raise NcaError(f"cannot read connectivity line {line!r}")
        key = (_endpoint(m["src"]), _endpoint(m["dst"]))
        if key in edges:
            raise NcaError(f"pair {key} listed twice")
        edges[key] = parse_connections(m["conn"])
    return ConnectivityMap(edges)


def _dump(path: Path, docs: Iterable[dict[str, Any]]) -> None:
    path.write_text(yaml.safe_dump_all(list(docs), sort_keys=True), encoding="utf-8")


def connectivity(
    nca: Path,
    *,
    policies: Sequence[dict[str, Any]],
    resources: Sequence[dict[str, Any]],
    workdir: Path,
) -> ConnectivityMap:
    """Run nca's connectivity-map query on ``policies`` (NetworkPolicy dicts) over ``resources``
    (Namespace and Pod dicts) and parse the result. Files go to ``workdir``. Raises
    :class:`NcaError` when nca fails or prints nothing readable."""
    workdir.mkdir(parents=True, exist_ok=True)
    np_file, res_file, out_file = (
        workdir / "policies.yaml",
        workdir / "resources.yaml",
        workdir / "connectivity.txt",
    )
    _dump(np_file, policies)
    _dump(res_file, resources)
    out_file.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            str(nca),
            "--connectivity",
            str(np_file),
            "--resource_list",
            str(res_file),
            "--output_format",
            "txt_no_fw_rules",
            "--file_out",
            str(out_file),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0 or not out_file.exists():
        raise NcaError(f"nca exited {proc.returncode}: {(proc.stdout + proc.stderr)[-3000:]}")
    result = parse_connectivity(out_file.read_text(encoding="utf-8"))
    if not result.edges:
        raise NcaError(f"nca reported no connection at all (DNS is always allowed): {proc.stdout}")
    return result
