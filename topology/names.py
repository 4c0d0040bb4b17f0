"""Derived names. Every other part of baas takes node, namespace and identity names from here."""

from __future__ import annotations

from topology.model import Network


def org_domain(network: Network, org: str) -> str:
    """``<org>.<domain>``, e.g. ``org1.example.com``."""
    return f"{org}.{network.spec.domain}"


def node_name(network: Network, org: str, node: str) -> str:
    """``<node>.<org>.<domain>``, e.g. ``peer0.org1.example.com``."""
    return f"{node}.{org_domain(network, org)}"


def namespace_of(network_name: str, org: str) -> str:
    """``<network>-<org>`` from plain names (for callers that hold names, not the model)."""
    return f"{network_name}-{org}"


def namespace(network: Network, org: str) -> str:
    """Kubernetes namespace of an organisation: ``<network>-<org>``."""
    return namespace_of(network.metadata.name, org)


def toolbox_namespace(network: Network) -> str:
    """``<network>-toolbox``: baas's own namespace (no organisation's; hosts its Vault reviewer)."""
    return namespace_of(network.metadata.name, "toolbox")


def admin_identity(network: Network, org: str) -> str:
    """``Admin@<org>.<domain>``: the organisation's admin, always issued."""
    return f"Admin@{org_domain(network, org)}"


def user_identity(network: Network, org: str, user: str) -> str:
    """``<user>@<org>.<domain>``: a client identity."""
    return f"{user}@{org_domain(network, org)}"


def service_names(namespace_name: str, service: str) -> tuple[str, ...]:
    """Every name a Kubernetes Service is reached at from inside the cluster."""
    return (
        service,
        f"{service}.{namespace_name}",
        f"{service}.{namespace_name}.svc",
        f"{service}.{namespace_name}.svc.cluster.local",
    )


PROBE_CHAINCODE = "baas-probe"
"""The chaincode ``baas smoke`` deploys on every channel (its own state only); topologies
cannot use the name."""
