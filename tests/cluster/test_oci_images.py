"""tests/support/oci.py: deterministic OCI archives, and images that really run on the cluster
(the busybox image's DNS through glibc's NSS modules, Fabric's peer with its ldd closure)."""

from __future__ import annotations

import json
import secrets
import tarfile
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import oci
from tests.support.cluster import NodeCluster, wait_for
from tests.support.fabric import fabric_install_or_skip

RELEASE = "2.5.16"


def _spec(tmp_path: Path, text: str) -> oci.ImageSpec:
    script = tmp_path / "hello.sh"
    script.write_text(f"#!/bin/sh\necho {text}\n")
    return oci.ImageSpec(
        ref="example.test/hello:1",
        entries=(oci.file_from(script, "/usr/local/bin/hello", mode=0o755),),
        config=oci.ImageConfig(entrypoint=("/usr/local/bin/hello",), user="1000"),
    )


def test_normalize_ref() -> None:
    assert oci.normalize_ref("busybox:1.35") == "docker.io/library/busybox:1.35"
    assert (
        oci.normalize_ref("hyperledger/fabric-peer:2.5.16")
        == "docker.io/hyperledger/fabric-peer:2.5.16"
    )
    assert oci.normalize_ref("localhost:5000/x/y:1") == "localhost:5000/x/y:1"
    with pytest.raises(ValueError):
        oci.normalize_ref("busybox")


def test_build_is_deterministic_and_cached(tmp_path: Path) -> None:
    first = oci.build_image(_spec(tmp_path, "a"), cache=tmp_path / "c1")
    again = oci.build_image(_spec(tmp_path, "a"), cache=tmp_path / "c2")
    assert first.manifest_digest == again.manifest_digest
    assert first.archive.read_bytes() == again.archive.read_bytes()
    mtime = first.archive.stat().st_mtime_ns
    assert (
        oci.build_image(_spec(tmp_path, "a"), cache=tmp_path / "c1").archive.stat().st_mtime_ns
        == mtime
    )
    other = oci.build_image(_spec(tmp_path, "b"), cache=tmp_path / "c1")
    assert other.manifest_digest != first.manifest_digest


def test_archive_layout(tmp_path: Path) -> None:
    built = oci.build_image(_spec(tmp_path, "a"), cache=tmp_path)
    with tarfile.open(built.archive) as tar:
        names = set(tar.getnames())
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
    assert {"oci-layout", "index.json"} <= names
    entry = index["manifests"][0]
    assert entry["digest"] == built.manifest_digest
    assert entry["annotations"][oci.ANNOTATION_CONTAINERD_NAME] == "example.test/hello:1"
    assert f"blobs/sha256/{built.manifest_digest.removeprefix('sha256:')}" in names


def _run_to_completion(cluster: NodeCluster, image: str, command: list[str]) -> str:
    """Run a one-shot pod in a fresh namespace; return its log once it Succeeded."""
    api = cluster.api_client()
    core = client.CoreV1Api(api)
    ns = f"img-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": ns}})
    try:
        core.create_namespaced_pod(
            ns,
            {
                "metadata": {"name": "once"},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": "main",
                            "image": image,
                            "imagePullPolicy": "Never",
                            "command": command,
                        }
                    ],
                },
            },
        )

        def done() -> bool:
            phase = core.read_namespaced_pod("once", ns).status.phase
            assert phase != "Failed", core.read_namespaced_pod_log("once", ns)
            return bool(phase == "Succeeded")

        wait_for(done, what=f"pod {ns}/once Succeeded")
        return str(core.read_namespaced_pod_log("once", ns))
    finally:
        core.delete_namespace(ns, grace_period_seconds=0)
        api.close()


def test_busybox_resolves_cluster_dns(kube_node_cluster: NodeCluster) -> None:
    out = _run_to_completion(
        kube_node_cluster,
        oci.BUSYBOX_REF,
        ["nslookup", "kubernetes.default.svc.cluster.local"],
    )
    assert "10.96.0.1" in out


@pytest.mark.fabric
def test_fabric_peer_image_runs(kube_node_cluster: NodeCluster) -> None:
    fabric_install_or_skip(RELEASE)
    peer, orderer = oci.fabric_images(RELEASE, busybox=kube_node_cluster.binaries.busybox)
    assert peer.ref == f"docker.io/hyperledger/fabric-peer:{RELEASE}"
    assert orderer.ref == f"docker.io/hyperledger/fabric-orderer:{RELEASE}"
    ref = kube_node_cluster.import_image(peer)
    out = _run_to_completion(
        kube_node_cluster,
        ref,
        [
            "sh",
            "-c",
            "peer version && ls /opt/hyperledger/ccaas_builder/bin && echo $FABRIC_CFG_PATH",
        ],
    )
    assert f"Version: {RELEASE}" in out
    assert "release" in out and "/etc/hyperledger/fabric" in out
