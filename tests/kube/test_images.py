"""Every image a baas network pulls on Kubernetes is one that exists.

The chart is rendered (real helm, as baas renders it) with the values baas emits
(:func:`baas.runtimes.kubernetes.values.org_values`) for examples/two-orgs.yaml (Fabric 2.5)
and examples/bft.yaml (Fabric 3.1), in both secrets modes and with chaincode server images in
the topology; EVERY ``image`` field of the rendered manifests and ``helm test`` pods
(containers, init containers, anything) must be a Fabric image the Fabric project publishes for
that release line, or a chaincode image the topology names. baas ships no image of its own.

Fabric 3.0 stopped publishing ``hyperledger/fabric-tools``; nothing in ``baas/`` or
``charts/`` may mention it any more.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import topology
from baas import plan as planning
from baas.runtimes.kubernetes import rendering
from baas.runtimes.kubernetes import values as chart_values

ROOT = Path(__file__).resolve().parents[2]
KUBE_VERSION = "1.34.0"

# Images the Fabric project publishes on Docker Hub per release line (hyperledger/<name>).
PUBLISHED: dict[str, frozenset[str]] = {
    "2.5": frozenset(
        {"fabric-peer", "fabric-orderer", "fabric-tools", "fabric-ccenv", "fabric-baseos"}
    ),
    "3.1": frozenset({"fabric-peer", "fabric-orderer", "fabric-ccenv", "fabric-baseos"}),
}
# Of those, the ones a baas network runs: the nodes' (the peer image also runs `helm test`).
USED = frozenset({"fabric-peer", "fabric-orderer"})

CASES = (("two-orgs.yaml", "2.5"), ("bft.yaml", "3.1"))
MODES = ("kubernetes", "vault")

pytestmark = pytest.mark.usefixtures("helm_binary")


@cache
def _plan(example: str, with_chaincode_images: bool) -> planning.Plan:
    network = topology.load(ROOT / "examples" / example).network
    if with_chaincode_images:
        chaincodes = [
            cc.model_copy(update={"image": f"registry.example.com/{cc.name}-ccaas:{cc.version}"})
            for cc in network.spec.chaincodes
        ]
        network = network.model_copy(
            update={"spec": network.spec.model_copy(update={"chaincodes": chaincodes})}
        )
    return planning.build(network)


def _cases() -> Iterator[Any]:
    for example, line in CASES:
        for mode in MODES:
            for cc in (False, True):
                yield pytest.param(
                    example,
                    line,
                    mode,
                    cc,
                    id=f"{Path(example).stem}-{mode}{'-ccimages' if cc else ''}",
                )


def _images(node: Any) -> Iterator[str]:
    """Every value of an ``image`` key anywhere in ``node`` (a parsed manifest)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image":
                assert isinstance(value, str), value
                yield value
            else:
                yield from _images(value)
    elif isinstance(node, list):
        for item in node:
            yield from _images(item)


def _rendered_images(plan: planning.Plan, mode: str) -> tuple[set[str], int]:
    """(distinct images, number of image fields) over every org's manifests and test pods."""
    options = chart_values.ValuesOptions(secrets_mode="vault" if mode == "vault" else "kubernetes")
    images: set[str] = set()
    count = 0
    for r in rendering.render_orgs(plan, options=options, kube_version=KUBE_VERSION):
        for doc in yaml.safe_load_all(r.manifests + "\n---\n" + r.tests):
            if doc:
                images.update(_images(doc))
                count += sum(1 for _ in _images(doc))
    return images, count


@pytest.mark.parametrize(("example", "line", "mode", "cc_images"), list(_cases()))
def test_every_rendered_image_is_published_or_the_users(
    example: str, line: str, mode: str, cc_images: bool
) -> None:
    plan = _plan(example, cc_images)
    assert plan.fabric_release.startswith(f"{line}.")
    images, count = _rendered_images(plan, mode)
    assert count > 0
    user = {cc.image for cc in plan.chaincodes if cc.image}
    assert bool(user) == cc_images
    fabric = images - user
    for image in fabric:
        repository, _, tag = image.rpartition(":")
        owner, _, name = repository.partition("/")
        assert owner == "hyperledger", image
        assert name in PUBLISHED[line], f"{image}: not published by Fabric for {line}"
        assert name in USED, f"{image}: published, but not an image a baas network runs"
        assert tag == plan.fabric_release, image
    assert fabric == {f"hyperledger/{n}:{plan.fabric_release}" for n in USED}
    assert user <= images  # every chaincode image is run (by its serving orgs)


@pytest.mark.parametrize(("example", "line"), CASES)
def test_values_baas_emits_name_only_node_images(example: str, line: str) -> None:
    """org_values leaves images to the chart defaults; the chart's defaults are the nodes'."""
    plan = _plan(example, False)
    for org in plan.orgs:
        values = chart_values.org_values(plan, org, options=chart_values.ValuesOptions())
        assert "tools" not in values.get("images", {})
    defaults = yaml.safe_load((ROOT / "charts" / "fabric" / "values.yaml").read_text())
    assert set(defaults["images"]) == {"peer", "orderer"}
    assert {v["repository"] for v in defaults["images"].values()} == {
        f"hyperledger/{n}" for n in USED
    }
    assert PUBLISHED[line] >= USED


def test_fabric_tools_is_mentioned_nowhere() -> None:
    found = []
    for top in ("baas", "charts"):
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            found += [
                f"{path.relative_to(ROOT)}:{n}"
                for n, line in enumerate(text.splitlines(), 1)
                if "fabric-tools" in line
            ]
    assert not found, "\n".join(found)
