"""Where a node's files are inside its pod: the :class:`~baas.nodeconfig.NodeFiles` of the chart.

These are the paths ``charts/fabric`` mounts (``templates/_helpers.tpl`` ``fabric.cryptoDir``,
the volume mounts of ``templates/_node.tpl``) and the folders the Fabric images ship; the chart
and this module must agree, and ``tests/kube/test_chart_render.py`` checks that they do:

* identities at :data:`CRYPTO_DIR` (``msp/`` and ``tls/{server.crt,server.key,ca.crt}``, the
  same layout in both secrets modes);
* the ``data`` PersistentVolumeClaim at :data:`DATA_DIR`: a peer's ledger is that folder, an
  orderer's is :data:`ORDERER_DATA_DIR` below it (so its Raft WAL and snapshots sit at
  ``.../orderer/etcdraft/{wal,snapshot}``);
* a peer's ``FABRIC_CFG_PATH`` is :data:`PEER_CONFIG_DIR`, the emptyDir its ``core-config``
  init container fills with the image's core.yaml minus ``vm.endpoint``; an orderer reads the
  image's own :data:`IMAGE_CONFIG_DIR`;
* the ccaas external builder at :data:`CCAAS_BUILDER_DIR`, where the Fabric peer images ship it.
"""

from __future__ import annotations

from typing import Literal

from baas.nodeconfig import NodeFiles

CRYPTO_DIR = "/etc/hyperledger/crypto"
DATA_DIR = "/var/hyperledger/production"
ORDERER_DATA_DIR = f"{DATA_DIR}/orderer"
PEER_CONFIG_DIR = "/etc/hyperledger/fabric-config"
IMAGE_CONFIG_DIR = "/etc/hyperledger/fabric"
CCAAS_BUILDER_DIR = "/opt/hyperledger/ccaas_builder"


def pod_files(role: Literal["peer", "orderer"]) -> NodeFiles:
    """The :class:`~baas.nodeconfig.NodeFiles` of a ``role`` node's container. Pure.

    Every node of a role sees the same paths (each pod mounts its own identity and volume
    there). Orderers get no builder folder (``builders_dir`` is ``""``, which
    :func:`~baas.nodeconfig.orderer_env` ignores).
    """
    peer = role == "peer"
    return NodeFiles(
        msp_dir=f"{CRYPTO_DIR}/msp",
        tls_cert=f"{CRYPTO_DIR}/tls/server.crt",
        tls_key=f"{CRYPTO_DIR}/tls/server.key",
        tls_ca=f"{CRYPTO_DIR}/tls/ca.crt",
        data_dir=DATA_DIR if peer else ORDERER_DATA_DIR,
        config_dir=PEER_CONFIG_DIR if peer else IMAGE_CONFIG_DIR,
        builders_dir=CCAAS_BUILDER_DIR if peer else "",
    )
