"""Helpers for the PKI tests: hand-made OrgSpecs, a tree snapshot, openssl wrappers."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from pki.spec import NodeSpec, OrgSpec

Snapshot = dict[str, tuple[bytes, int, int]]


def peer(org: str, n: int, *sans: str) -> NodeSpec:
    return NodeSpec(f"peer{n}.{org}.example.com", f"peer{n}", "peer", sans)


def orderer(n: int, domain: str = "example.com") -> NodeSpec:
    return NodeSpec(f"orderer{n}.{domain}", f"orderer{n}", "orderer", ("localhost", "127.0.0.1"))


def sample_orgs() -> list[OrgSpec]:
    """An orderer-only org, a peer org with users and IP/DNS SANs, and a mixed org."""
    return [
        OrgSpec("ordererorg", "OrdererMSP", "example.com", (orderer(0), orderer(1))),
        OrgSpec(
            "org1",
            "Org1MSP",
            "org1.example.com",
            (
                peer("org1", 0, "peer0.net-org1.svc", "localhost", "127.0.0.1", "::1"),
                peer("org1", 1),
            ),
            ("alice", "bob"),
        ),
        OrgSpec(
            "org2",
            "Org2MSP",
            "org2.example.com",
            (peer("org2", 0), orderer(0, "org2.example.com")),
            ("carol",),
        ),
    ]


def snapshot(root: Path) -> Snapshot:
    """Every file under ``root``: relative path → (bytes, mtime_ns, mode)."""
    result: Snapshot = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            st = path.stat()
            result[str(path.relative_to(root))] = (
                path.read_bytes(),
                st.st_mtime_ns,
                stat.S_IMODE(st.st_mode),
            )
    return result


OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl binary not installed")


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run(
        [OPENSSL, *map(str, args)], capture_output=True, text=True, check=False, timeout=60
    )


def verify(ca: Path, cert: Path, *extra: str) -> None:
    """``openssl verify -x509_strict`` must accept ``cert`` under ``ca``."""
    proc = openssl("verify", "-x509_strict", *extra, "-CAfile", ca, cert)
    assert proc.returncode == 0 and proc.stdout.strip().endswith(": OK"), (
        f"openssl verify {cert}: {proc.stdout}{proc.stderr}"
    )
