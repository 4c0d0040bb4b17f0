"""Where the toolbox pod finds things: mount points, the crypto tree, in-cluster addresses.

The toolbox Job (:mod:`baas.kubernetes.bootstrap`) mounts one Secret at :data:`CRYPTO_DIR` and
one ConfigMap at :data:`INPUT_DIR`. Inside the crypto tree, per organisation ``<org>`` (its
topology name, a DNS-1123 label)::

    <org>/msp/{cacerts,tlscacerts,crls,config.yaml}      verifying MSP (configtx MSPDir)
    <org>/admin/msp/{signcerts/cert.pem,keystore/priv_sk,cacerts,tlscacerts,config.yaml}
    <org>/admin/tls/{client.crt,client.key,ca.crt}        ca.crt = the organisation's TLS CA
    <org>/orderers/<node>/tls/server.crt                  consenter TLS certificate
    <org>/orderers/<node>/msp/signcerts/cert.pem          consenter identity (BFT)

Secret keys cannot contain ``/``: :func:`secret_key` flattens a relative path with ``__`` and the
Job's volume ``items`` map each key back to its path. Pure functions only.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from baas.plan import NodePlan

CRYPTO_DIR = PurePosixPath("/etc/baas/crypto")
"""Mount point of the toolbox Secret (certificates and the admins' keys)."""
INPUT_DIR = PurePosixPath("/etc/baas/bootstrap")
"""Mount point of the toolbox ConfigMap (configtx.yaml, steps, script, chaincode packages)."""
WORK_DIR = PurePosixPath("/tmp/baas")
"""Scratch space of the Job (an emptyDir): genesis blocks."""

DEFAULT_CLUSTER_DOMAIN = "cluster.local"

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


def package_key(org: str, channel: str, chaincode: str) -> str:
    """ConfigMap key (and file name under :data:`INPUT_DIR`) of ``org``'s package of
    ``chaincode`` on ``channel``: ``<org>_<channel>_<chaincode>.tar.gz``. Unique because neither
    organisation names (DNS labels) nor channel names contain ``_``."""
    return f"{org}_{channel}_{chaincode}.tar.gz"


def service_host(node: NodePlan, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN) -> str:
    """In-cluster DNS name of a node's Service: ``<service>.<namespace>.svc.<cluster domain>``
    (one of the names its TLS certificate covers)."""
    return f"{node.service}.{node.namespace}.svc.{cluster_domain}"


def address(host: str, port: int) -> str:
    return f"{host}:{port}"
