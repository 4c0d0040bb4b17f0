"""Where the toolbox pod finds things: mount points, the crypto tree, Secret keys.

The toolbox Job (:mod:`baas.runtimes.kubernetes.bootstrap`) mounts one Secret at
:data:`CRYPTO_DIR` and one ConfigMap at :data:`INPUT_DIR`. Inside the crypto tree, per
organisation ``<org>`` (its topology name, a DNS-1123 label)::

    <org>/msp/{cacerts,tlscacerts,crls,config.yaml}      verifying MSP (configtx MSPDir)
    <org>/admin/msp/{signcerts/cert.pem,keystore/priv_sk,cacerts,tlscacerts,config.yaml}
    <org>/admin/tls/{client.crt,client.key,ca.crt}        ca.crt = the organisation's TLS CA
    <org>/orderers/<node>/tls/server.crt                  consenter TLS certificate
    <org>/orderers/<node>/msp/signcerts/cert.pem          consenter identity (BFT)

:class:`ToolboxFiles` gives configtx (:mod:`baas.network.configtx`) these paths as the toolbox
sees them. Secret keys cannot contain ``/``: :func:`secret_key` flattens a relative path with
``__`` and the Job's volume ``items`` map each key back to its path. Pure functions only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from baas.plan import NodePlan, OrgPlan

CRYPTO_DIR = PurePosixPath("/etc/baas/crypto")
"""Mount point of the toolbox Secret (certificates and the admins' keys)."""
INPUT_DIR = PurePosixPath("/etc/baas/bootstrap")
"""Mount point of the toolbox ConfigMap (configtx.yaml, steps, script, chaincode packages)."""
WORK_DIR = PurePosixPath("/tmp/baas")
"""Scratch space of the Job (an emptyDir): genesis blocks."""

_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_SEPARATOR = "__"


def org_msp(org: str) -> str:
    """Verifying MSP of ``org`` (what configtx ``MSPDir`` points at)."""
    return f"{org}/msp"


def admin_msp(org: str) -> str:
    """Local MSP of ``org``'s admin (``CORE_PEER_MSPCONFIGPATH`` of every admin command)."""
    return f"{org}/admin/msp"


def admin_tls(org: str) -> str:
    """Folder with the admin's TLS client pair (``client.crt``/``client.key``) and ``ca.crt``."""
    return f"{org}/admin/tls"


def orderer_tls_cert(org: str, node: str) -> str:
    """TLS server certificate of orderer ``node`` (configtx consenter ``Client/ServerTLSCert``)."""
    return f"{org}/orderers/{node}/tls/server.crt"


def orderer_sign_cert(org: str, node: str) -> str:
    """Signing certificate of orderer ``node`` (BFT ``ConsenterMapping[].Identity``)."""
    return f"{org}/orderers/{node}/msp/signcerts/cert.pem"


def in_crypto(relative: str) -> str:
    """Absolute path of ``relative`` inside the mounted crypto tree."""
    return str(CRYPTO_DIR / relative)


@dataclass(frozen=True)
class ToolboxFiles:
    """:class:`baas.network.configtx.ConfigtxFiles` inside the toolbox pod: absolute paths under
    ``crypto_dir`` (the mounted Secret, :data:`CRYPTO_DIR`), laid out as the module docstring
    shows."""

    crypto_dir: PurePosixPath = CRYPTO_DIR

    def org_msp_dir(self, org: OrgPlan) -> str:
        return str(self.crypto_dir / org_msp(org.name))

    def orderer_tls_cert(self, node: NodePlan) -> str:
        return str(self.crypto_dir / orderer_tls_cert(node.org, node.name))

    def orderer_sign_cert(self, node: NodePlan) -> str:
        return str(self.crypto_dir / orderer_sign_cert(node.org, node.name))


def secret_key(relative: str) -> str:
    """The Secret key carrying the file at ``relative`` (``/`` becomes ``__``).

    Raises ``ValueError`` when the path contains ``__`` or characters a Secret key cannot hold
    (a bug in the caller: every path component here is a DNS label, a fixed word or a file name
    written by baas's PKI).
    """
    if _SEPARATOR in relative or relative.startswith("/"):
        raise ValueError(f"cannot flatten {relative!r} into a Secret key")
    key = relative.replace("/", _SEPARATOR)
    if not _KEY.match(key) or len(key) > 253:
        raise ValueError(f"{relative!r} does not give a valid Secret key")
    return key
