"""Topologies and environments shared by the tests that drive a real cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.kubeapi import KubeCluster
from tests.support.openbao import OpenBao

TWO_ORGS = Path(__file__).resolve().parents[2] / "examples" / "two-orgs.yaml"


def two_orgs_copy(directory: Path, name: str, *, grow: bool = False) -> Path:
    """examples/two-orgs.yaml renamed to ``name`` (so test modules never share namespaces),
    without chaincodes; ``grow`` gives org1 a third peer and a second user."""
    data = yaml.safe_load(TWO_ORGS.read_text())
    data["metadata"]["name"] = name
    data["spec"].pop("chaincodes")
    if grow:
        org1 = next(o for o in data["spec"]["organizations"] if o["name"] == "org1")
        org1["peers"].append({"name": "peer2"})
        org1["users"].append("carol")
    path = directory / (f"{name}-grown.yaml" if grow else f"{name}.yaml")
    path.write_text(yaml.safe_dump(data))
    return path


def kube_args(cluster: KubeCluster) -> list[str]:
    """CLI arguments selecting the test API server."""
    return ["--target", "kubernetes", "--kubeconfig", str(cluster.kubeconfig_path)]


@contextlib.contextmanager
def vault_env(bao: OpenBao) -> Iterator[None]:
    """VAULT_ADDR / VAULT_TOKEN of the test OpenBao server, for the duration of the block."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VAULT_ADDR", bao.addr)
        mp.setenv("VAULT_TOKEN", bao.root_token)
        yield


NOT_STARTED = "after the nodes start"
"""Why ``baas plan`` cannot read the channels of a cluster whose pods do not run."""


def channel_lines(plan: Any, why: str = NOT_STARTED) -> set[tuple[str, ...]]:
    """What :func:`pending_changes` holds for each channel of ``plan`` (a
    :class:`baas.plan.Plan`) that ``up`` has still to create and join, and ``why`` plan says
    so (nodes not started, no crypto tree, no Fabric binaries)."""
    return {("channel", f"channel {c.name}: create and join ({why})") for c in plan.channels}


def pending_changes(changes: dict[str, Any]) -> set[tuple[str, ...]]:
    """``(kind, namespace/name, action, fields or reasons...)`` of everything a
    ``baas plan --target kubernetes -o json`` change list would change; each channel line as
    ``("channel", line)``."""
    found: set[tuple[str, ...]] = {
        (o["kind"], f"{o['namespace'] or ''}/{o['name']}", o["action"], *o["fields"])
        for o in changes["objects"]
        if o["action"] != "unchanged"
    }
    found |= {("channel", line) for line in changes["channels"]}
    found |= {
        ("release", f"{r['namespace']}/{r['name']}", r["action"], *r["reasons"])
        for r in changes["releases"]
        if r["action"] != "unchanged"
    }
    found |= {
        ("vault", f"{v['org']}/{v['name']}", v["action"])
        for v in changes["vault"]
        if v["action"] != "unchanged"
    }
    return found
