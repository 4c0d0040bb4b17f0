"""Channel configuration updates: decode a channel's config, compute the minimal
``ConfigUpdate`` from it to a desired config, describe it field by field, sign and wrap it.

:func:`compute_update` is the algorithm of Fabric's ``configtxlator compute_update``
(``internal/configtxlator/update/update.go``), written over the protos: elements equal in
both configs are left out, a changed element gets the original's version + 1 in the write set,
a group whose *membership* changes (an element added or removed) is written whole at version +
1 with its unchanged members at their versions, and everything read is in the read set. Two
values are equal when their bytes are, or — for the value types whose Go encoding may order
map entries differently — when they decode to equal messages.

Pure except for signing (the identities hold the keys).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fabric_protos.common import common_pb2, configtx_pb2, configuration_pb2, policies_pb2
from fabric_protos.msp import identities_pb2, msp_config_pb2, msp_principal_pb2
from fabric_protos.orderer import configuration_pb2 as orderer_configuration_pb2
from fabric_protos.orderer.etcdraft import configuration_pb2 as etcdraft_pb2
from fabric_protos.peer import configuration_pb2 as peer_configuration_pb2

from baas.fabric import proposals
from baas.fabric.identity import SigningIdentity

_TYPES = {
    "Capabilities": configuration_pb2.Capabilities,
    "MSP": msp_config_pb2.MSPConfig,
    "AnchorPeers": peer_configuration_pb2.AnchorPeers,
    "ACLs": peer_configuration_pb2.ACLs,
    "ConsensusType": orderer_configuration_pb2.ConsensusType,
    "Orderers": configuration_pb2.Orderers,
}


Config = configtx_pb2.Config
ConfigUpdate = configtx_pb2.ConfigUpdate


def config_of_bytes(block: bytes) -> configtx_pb2.Config:
    """:func:`config_of` a serialised block."""
    return config_of(common_pb2.Block.FromString(block))


def config_of(block: common_pb2.Block) -> configtx_pb2.Config:
    """The ``Config`` carried by a config block (its first and only envelope)."""
    envelope = common_pb2.Envelope.FromString(block.data.data[0])
    payload = common_pb2.Payload.FromString(envelope.payload)
    return configtx_pb2.ConfigEnvelope.FromString(payload.data).config


def _same_value(key: str, a: configtx_pb2.ConfigValue, b: configtx_pb2.ConfigValue) -> bool:
    if a.mod_policy != b.mod_policy:
        return False
    if a.value == b.value:
        return True
    kind = _TYPES.get(key)
    if kind is None:
        return False
    try:
        return bool(kind.FromString(a.value) == kind.FromString(b.value))
    except Exception:  # undecodable bytes: they differ
        return False


def _same_policy(a: configtx_pb2.ConfigPolicy, b: configtx_pb2.ConfigPolicy) -> bool:
    return bool(a.mod_policy == b.mod_policy and a.policy == b.policy)


@dataclass
class _MapUpdate:
    read: dict[str, object]
    write: dict[str, object]
    same: dict[str, object]
    members_changed: bool


def _members(
    original: object,
    updated: object,
    *,
    same: Callable[[str, Any, Any], bool],
    make: Callable[..., Any],
    payload: str,
) -> _MapUpdate:
    """The update of one map of values or policies: unchanged members go to ``same`` (at their
    version), changed ones to the write set at version + 1, new ones at version 0; a missing
    or new member marks the membership as changed. ``payload`` names the field carrying the
    content (``value`` or ``policy``)."""
    read: dict[str, object] = {}
    write: dict[str, object] = {}
    unchanged: dict[str, object] = {}
    changed = False
    for name, old in original.items():  # type: ignore[attr-defined]
        new = updated.get(name)  # type: ignore[attr-defined]
        if new is None:
            changed = True
        elif same(name, old, new):
            unchanged[name] = make(version=old.version)
        else:
            write[name] = make(
                version=old.version + 1,
                mod_policy=new.mod_policy,
                **{payload: getattr(new, payload)},
            )
    for name, new in updated.items():  # type: ignore[attr-defined]
        if name not in original:  # type: ignore[operator]
            changed = True
            write[name] = make(
                version=0, mod_policy=new.mod_policy, **{payload: getattr(new, payload)}
            )
    return _MapUpdate(read, write, unchanged, changed)


def _values(original: object, updated: object) -> _MapUpdate:
    return _members(
        original, updated, same=_same_value, make=configtx_pb2.ConfigValue, payload="value"
    )


def _policies(original: object, updated: object) -> _MapUpdate:
    return _members(
        original,
        updated,
        same=lambda _, a, b: _same_policy(a, b),
        make=configtx_pb2.ConfigPolicy,
        payload="policy",
    )


def _groups(original: object, updated: object) -> _MapUpdate:
    read: dict[str, object] = {}
    write: dict[str, object] = {}
    same: dict[str, object] = {}
    changed = False
    for name, old in original.items():  # type: ignore[attr-defined]
        new = updated.get(name)  # type: ignore[attr-defined]
        if new is None:
            changed = True
            continue
        group_read, group_write, group_changed = _group(old, new)
        if not group_changed:
            same[name] = group_read
        else:
            read[name] = group_read
            write[name] = group_write
    for name, new in updated.items():  # type: ignore[attr-defined]
        if name in original:  # type: ignore[operator]
            continue
        changed = True
        _, group_write, _ = _group(configtx_pb2.ConfigGroup(), new)
        fresh = configtx_pb2.ConfigGroup(version=0, mod_policy=new.mod_policy)
        _fill(fresh, group_write.policies, group_write.values, group_write.groups)
        write[name] = fresh
    return _MapUpdate(read, write, same, changed)


def _fill(
    group: configtx_pb2.ConfigGroup, policies: object, values: object, groups: object
) -> None:
    for name, policy in dict(policies).items():  # type: ignore[call-overload]
        group.policies[name].CopyFrom(policy)
    for name, value in dict(values).items():  # type: ignore[call-overload]
        group.values[name].CopyFrom(value)
    for name, sub in dict(groups).items():  # type: ignore[call-overload]
        group.groups[name].CopyFrom(sub)


def _group(
    original: configtx_pb2.ConfigGroup, updated: configtx_pb2.ConfigGroup
) -> tuple[configtx_pb2.ConfigGroup, configtx_pb2.ConfigGroup, bool]:
    policies = _policies(original.policies, updated.policies)
    values = _values(original.values, updated.values)
    groups = _groups(original.groups, updated.groups)
    members_changed = (
        policies.members_changed
        or values.members_changed
        or groups.members_changed
        or original.mod_policy != updated.mod_policy
    )
    if not members_changed:
        if not any(
            (policies.read, policies.write, values.read, values.write, groups.read, groups.write)
        ):
            return (
                configtx_pb2.ConfigGroup(version=original.version),
                configtx_pb2.ConfigGroup(version=original.version),
                False,
            )
        read = configtx_pb2.ConfigGroup(version=original.version)
        write = configtx_pb2.ConfigGroup(version=original.version)
        _fill(read, policies.read, values.read, groups.read)
        _fill(write, policies.write, values.write, groups.write)
        return read, write, True
    for update in (policies, values, groups):
        update.read.update(update.same)
        update.write.update(update.same)
    read = configtx_pb2.ConfigGroup(version=original.version)
    write = configtx_pb2.ConfigGroup(version=original.version + 1, mod_policy=updated.mod_policy)
    _fill(read, policies.read, values.read, groups.read)
    _fill(write, policies.write, values.write, groups.write)
    return read, write, True


def compute_update(
    channel: str, original: configtx_pb2.Config, updated: configtx_pb2.Config
) -> configtx_pb2.ConfigUpdate | None:
    """The minimal update from ``original`` to ``updated`` (``None`` when they agree)."""
    read, write, changed = _group(original.channel_group, updated.channel_group)
    if not changed:
        return None
    return configtx_pb2.ConfigUpdate(channel_id=channel, read_set=read, write_set=write)


# ------------------------------------------------------------------------------ consenters


def _orderer_group(config: configtx_pb2.Config) -> configtx_pb2.ConfigGroup:
    return config.channel_group.groups["Orderer"]


def consenter_certs(config: configtx_pb2.Config) -> dict[str, bytes]:
    """``host:port`` → the consenter's TLS certificates (server + client PEM), for etcdraft
    (ConsensusType metadata) and BFT (the Orderers value)."""
    group = _orderer_group(config)
    found: dict[str, bytes] = {}
    consensus = orderer_configuration_pb2.ConsensusType.FromString(
        group.values["ConsensusType"].value
    )
    if consensus.type == "etcdraft":
        meta = etcdraft_pb2.ConfigMetadata.FromString(consensus.metadata)
        for c in meta.consenters:
            found[f"{c.host}:{c.port}"] = c.server_tls_cert + c.client_tls_cert
    if "Orderers" in group.values:
        mapping = configuration_pb2.Orderers.FromString(group.values["Orderers"].value)
        for c in mapping.consenter_mapping:
            found[f"{c.host}:{c.port}"] = c.server_tls_cert + c.client_tls_cert
    return found


def bft_block_validation(mapping: configuration_pb2.Orderers) -> policies_pb2.Policy:
    """The BlockValidation policy a BFT ordering service requires for its consenters
    (Fabric's ``EncodeBFTBlockVerificationPolicy``): a quorum of ``ceil((n + f + 1) / 2)`` with
    ``f = (n - 1) // 3`` signatures out of the consenters' identities, in mapping order."""
    consenters = list(mapping.consenter_mapping)
    n = len(consenters)
    f = (n - 1) // 3
    quorum = math.ceil((n + f + 1) / 2)
    identities = [
        msp_principal_pb2.MSPPrincipal(
            principal_classification=msp_principal_pb2.MSPPrincipal.Classification.IDENTITY,
            principal=identities_pb2.SerializedIdentity(
                mspid=c.msp_id, id_bytes=c.identity
            ).SerializeToString(),
        )
        for c in consenters
    ]
    envelope = policies_pb2.SignaturePolicyEnvelope(
        version=0,
        rule=policies_pb2.SignaturePolicy(
            n_out_of=policies_pb2.SignaturePolicy.NOutOf(
                n=quorum,
                rules=[policies_pb2.SignaturePolicy(signed_by=i) for i in range(n)],
            )
        ),
        identities=identities,
    )
    return policies_pb2.Policy(
        type=policies_pb2.Policy.PolicyType.SIGNATURE, value=envelope.SerializeToString()
    )


def with_consenter_of(
    current: configtx_pb2.Config, desired: configtx_pb2.Config, endpoint: str
) -> configtx_pb2.Config:
    """``current`` with only the consenter at ``endpoint`` (``host:port``) taken from
    ``desired`` (its TLS certificates and, under BFT, its identity)."""
    result = configtx_pb2.Config()
    result.CopyFrom(current)
    group = _orderer_group(result)
    wanted_group = _orderer_group(desired)
    consensus = orderer_configuration_pb2.ConsensusType.FromString(
        group.values["ConsensusType"].value
    )
    if consensus.type == "etcdraft":
        meta = etcdraft_pb2.ConfigMetadata.FromString(consensus.metadata)
        wanted_consensus = orderer_configuration_pb2.ConsensusType.FromString(
            wanted_group.values["ConsensusType"].value
        )
        wanted = {
            f"{c.host}:{c.port}": c
            for c in etcdraft_pb2.ConfigMetadata.FromString(wanted_consensus.metadata).consenters
        }
        for c in meta.consenters:
            if f"{c.host}:{c.port}" == endpoint:
                c.CopyFrom(wanted[endpoint])
        consensus.metadata = meta.SerializeToString()
        group.values["ConsensusType"].value = consensus.SerializeToString()
    if "Orderers" in group.values:
        mapping = configuration_pb2.Orderers.FromString(group.values["Orderers"].value)
        wanted_map = {
            f"{c.host}:{c.port}": c
            for c in configuration_pb2.Orderers.FromString(
                wanted_group.values["Orderers"].value
            ).consenter_mapping
        }
        for c in mapping.consenter_mapping:
            if f"{c.host}:{c.port}" == endpoint:
                c.CopyFrom(wanted_map[endpoint])
        group.values["Orderers"].value = mapping.SerializeToString()
        # BFT checks that BlockValidation is exactly the policy its consenters imply
        group.policies["BlockValidation"].policy.CopyFrom(bft_block_validation(mapping))
    return result


# ------------------------------------------------------------------------------ describing


@dataclass(frozen=True)
class FieldChange:
    """One element the update writes: ``path`` (``/Channel/Application/Org1MSP/MSP``), its
    ``kind`` (group, value, policy), ``action`` (add or modify), the ``mod_policy`` that must be
    satisfied, and a human ``detail``."""

    path: str
    kind: str
    action: str
    mod_policy: str
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.action} {self.kind} {self.path}"
        return text + (f": {self.detail}" if self.detail else "")

    def to_dict(self) -> dict[str, str]:
        return {
            "path": self.path,
            "kind": self.kind,
            "action": self.action,
            "modPolicy": self.mod_policy,
            "detail": self.detail,
        }


def _msp_detail(old: bytes | None, new: bytes) -> str:
    fabric = msp_config_pb2.FabricMSPConfig.FromString(
        msp_config_pb2.MSPConfig.FromString(new).config
    )
    if old is None:
        return f"MSP {fabric.name}"
    before = msp_config_pb2.FabricMSPConfig.FromString(
        msp_config_pb2.MSPConfig.FromString(old).config
    )
    parts = []
    for label, a, b in (
        ("CRLs", before.revocation_list, fabric.revocation_list),
        ("root CAs", before.root_certs, fabric.root_certs),
        ("TLS root CAs", before.tls_root_certs, fabric.tls_root_certs),
        ("intermediate CAs", before.intermediate_certs, fabric.intermediate_certs),
    ):
        if list(a) != list(b):
            parts.append(
                f"{label} {len(a)} → {len(b)}" if len(a) != len(b) else f"{label} replaced"
            )
    return ", ".join(parts) or "MSP settings"


def _consenters(value: bytes) -> dict[str, bytes]:
    consensus = orderer_configuration_pb2.ConsensusType.FromString(value)
    if consensus.type != "etcdraft":
        return {}
    meta = etcdraft_pb2.ConfigMetadata.FromString(consensus.metadata)
    return {f"{c.host}:{c.port}": c.server_tls_cert + c.client_tls_cert for c in meta.consenters}


def _consensus_detail(old: bytes | None, new: bytes) -> str:
    if old is None:
        return "consensus"
    before, after = _consenters(old), _consenters(new)
    parts = [f"consenter {k} added" for k in after if k not in before]
    parts += [f"consenter {k} removed" for k in before if k not in after]
    parts += [
        f"consenter {k} TLS certificate replaced"
        for k in after
        if k in before and before[k] != after[k]
    ]
    return ", ".join(parts) or "consensus settings"


def _detail(key: str, old: bytes | None, new: bytes) -> str:
    try:
        if key == "MSP":
            return _msp_detail(old, new)
        if key == "ConsensusType":
            return _consensus_detail(old, new)
        if key == "AnchorPeers":
            peers = peer_configuration_pb2.AnchorPeers.FromString(new).anchor_peers
            return "anchor peers " + ", ".join(f"{p.host}:{p.port}" for p in peers)
        if key == "Endpoints":
            return "endpoints " + ", ".join(
                configuration_pb2.OrdererAddresses.FromString(new).addresses
            )
    except Exception:
        return ""
    return ""


def describe(update: configtx_pb2.ConfigUpdate, original: configtx_pb2.Config) -> list[FieldChange]:
    """Every element ``update`` writes (added, modified or removed), walking its write set
    against the original config. Pure."""
    return list(_walk("/Channel", update.write_set, original.channel_group))


def _walk(
    path: str, write: configtx_pb2.ConfigGroup, original: configtx_pb2.ConfigGroup | None
) -> Iterator[FieldChange]:
    if original is None:
        msp = write.values.get("MSP")
        detail = _detail("MSP", None, msp.value) if msp is not None else ""
        yield FieldChange(path, "group", "add", write.mod_policy, detail)
        return
    rewritten = write.version != original.version  # membership written whole
    for name, value in write.values.items():
        old = original.values.get(name)
        if old is None:
            yield FieldChange(
                f"{path}/{name}", "value", "add", value.mod_policy, _detail(name, None, value.value)
            )
        elif value.version != old.version:
            detail = _detail(name, old.value, value.value)
            yield FieldChange(f"{path}/{name}", "value", "modify", value.mod_policy, detail)
    for name, policy in write.policies.items():
        old_policy = original.policies.get(name)
        if old_policy is None:
            yield FieldChange(f"{path}/{name}", "policy", "add", policy.mod_policy)
        elif policy.version != old_policy.version:
            yield FieldChange(f"{path}/{name}", "policy", "modify", policy.mod_policy)
    for name, sub in write.groups.items():
        yield from _walk(f"{path}/{name}", sub, original.groups.get(name))
    if rewritten:
        for kind, members, written in (
            ("group", original.groups, write.groups),
            ("value", original.values, write.values),
            ("policy", original.policies, write.policies),
        ):
            for name in members:
                if name not in written:
                    yield FieldChange(f"{path}/{name}", kind, "remove", original.mod_policy)


# ------------------------------------------------------------------------------ signing


def signature(identity: SigningIdentity, update_bytes: bytes) -> configtx_pb2.ConfigSignature:
    """``identity``'s signature of a serialised ConfigUpdate (over header || update)."""
    header = proposals.signature_header(identity.serialize(), proposals.nonce())
    return configtx_pb2.ConfigSignature(
        signature_header=header, signature=identity.sign(header + update_bytes)
    )


def update_envelope(
    update: configtx_pb2.ConfigUpdate,
    *,
    signers: Sequence[SigningIdentity],
    submitter: SigningIdentity,
) -> common_pb2.Envelope:
    """The ``CONFIG_UPDATE`` transaction for the orderer: the update signed by every signer
    (their signatures must satisfy the modified elements' mod policies), the envelope by
    ``submitter``."""
    update_bytes = update.SerializeToString()
    wrapped = configtx_pb2.ConfigUpdateEnvelope(
        config_update=update_bytes, signatures=[signature(s, update_bytes) for s in signers]
    )
    header = proposals.header(
        submitter, header_type=common_pb2.HeaderType.CONFIG_UPDATE, channel=update.channel_id
    )
    return proposals.signed_envelope(submitter, header=header, data=wrapped.SerializeToString())
