"""Benchmark ``baas up --target kubernetes`` to green ``baas smoke`` on a real single-node cluster.

Starts the suite's cluster (tests/support/cluster.py: etcd, kube-apiserver, controller-manager,
scheduler, kubelet on containerd/runc, kube-proxy, CoreDNS, the NetworkPolicy controller),
imports the Fabric peer/orderer images assembled from the pinned binaries and the smoke probe's
image, then times, from a fresh ``BAAS_HOME``: PKI, each step of ``up`` (objects, secrets,
releases, pods ready, channel, chaincode), ``smoke`` (probe deployment and every check), and a
second, no-op ``up``. Needs root and the pinned Fabric binaries; prints a table and, with
``--json``, the figures.

    .venv/bin/python bench/kube_bench.py [--example examples/two-orgs.yaml] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import topology  # noqa: E402
from baas import services  # noqa: E402
from baas.runtimes.kubernetes.cluster import ClusterTarget  # noqa: E402
from baas.runtimes.kubernetes.runtime import KubeOptions  # noqa: E402
from baas.smoke.probe import DEFAULT_IMAGE  # noqa: E402
from tests.support import kube_images, oci  # noqa: E402
from tests.support.cluster import ensure_cluster_binaries, running_cluster  # noqa: E402


def _timed(what: str, figures: dict[str, float], call):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    value = call()
    figures[what] = time.monotonic() - start
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", type=Path, default=ROOT / "examples" / "two-orgs.yaml")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    loaded = topology.load(args.example)
    release = loaded.network.spec.fabric.pinned
    figures: dict[str, float] = {}
    binaries = _timed("cluster binaries (cached)", figures, ensure_cluster_binaries)
    with tempfile.TemporaryDirectory(prefix="baas-kube-bench-") as tmp:
        os.environ["BAAS_HOME"] = str(Path(tmp) / "home")
        start = time.monotonic()
        with running_cluster(binaries, Path(tmp) / "cluster") as cluster:
            figures["cluster start"] = time.monotonic() - start

            def images() -> None:
                for image in oci.fabric_images(release, busybox=binaries.busybox):
                    cluster.import_image(image)
                probe = kube_images.probe_image(busybox=binaries.busybox, ref=DEFAULT_IMAGE)
                cluster.import_image(probe)

            _timed("images (assemble + import)", figures, images)
            kube = KubeOptions(target=ClusterTarget(kubeconfig=cluster.kubeconfig_path))
            first = time.monotonic()
            _timed("pki", figures, lambda: services.ensure_pki(loaded))
            result = _timed(
                "up (total)",
                figures,
                lambda: services.up(loaded, target="kubernetes", kube=kube).value,
            )
            for name, seconds in result.phases.items():
                figures[f"  up: {name}"] = seconds
            report = _timed(
                "smoke (probe + checks)",
                figures,
                lambda: services.smoke(loaded, target="kubernetes", kube=kube).value,
            )
            for check in report.checks:
                figures[f"  smoke: {check.name}"] = check.seconds
            figures["up to green smoke"] = time.monotonic() - first
            again = _timed(
                "second up (no-op)",
                figures,
                lambda: services.up(loaded, target="kubernetes", kube=kube).value,
            )
            _timed(
                "down --purge",
                figures,
                lambda: services.down(loaded, target="kubernetes", kube=kube, purge=True),
            )
    if not report.passed or again.changed:
        failed = [f"{c.name}: {c.message}" for c in report.checks if c.status == "failed"]
        print(f"smoke passed={report.passed}, second up changed={again.changed}: {failed}")
        return 1
    if args.json:
        print(json.dumps({k.strip(): round(v, 2) for k, v in figures.items()}, indent=2))
    else:
        width = max(len(k) for k in figures)
        for name, seconds in figures.items():
            print(f"{name:<{width}}  {seconds:7.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
