"""Rules that relate fields to each other (the per-field rules live on the models).

:func:`check` returns every finding, errors and warnings, each with a field path and a fix.
It never raises and does no I/O except checking that chaincode folders exist.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from topology import collections, names, policy
from topology.errors import Severity
from topology.model import Collection, Network
from topology.sources import SourceOutside, SourceRoot

MAX_NAMESPACE = 63


@dataclass(frozen=True)
class Finding:
    """A problem before it is placed in a file: severity, path, message and fix."""

    severity: Severity
    path: str
    message: str
    hint: str = ""


def _error(path: str, message: str, hint: str = "") -> Finding:
    return Finding("error", path, message, hint)


def _warning(path: str, message: str, hint: str = "") -> Finding:
    return Finding("warning", path, message, hint)


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check(
    network: Network,
    *,
    base_dir: Path | None = None,
    confined: bool = False,
    store: Path | None = None,
    collection_files: Mapping[int, str] | None = None,
) -> list[Finding]:
    """Every cross-field finding for ``network``. ``base_dir`` is the folder chaincode paths are
    relative to; ``None`` skips the chaincode-path check. ``confined``: paths must stay inside
    ``base_dir`` (the API's rule, :class:`topology.sources.SourceRoot`); ``store``: where
    ``sha256:`` paths (uploaded sources) point. ``collection_files``: chaincode index → the
    collections file its (now inline) collections were read from
    (:func:`inline_collections`), so that their findings name the file."""
    findings: list[Finding] = []
    for rule in (_organizations, _channels, _consensus, _pki):
        findings.extend(rule(network))
    findings.extend(_chaincodes(network, collection_files or {}))
    if base_dir is not None:
        root = SourceRoot(base_dir, confined=confined, store=store)
        findings.extend(_chaincode_paths(network, root))
    return findings


def _duplicates(values: list[str]) -> set[str]:
    return {v for v, n in Counter(values).items() if n > 1}


def _organizations(net: Network) -> Iterator[Finding]:
    orgs = net.spec.organizations
    seen_names: set[str] = set()
    seen_msp: dict[str, str] = {}
    for i, org in enumerate(orgs):
        path = f"spec.organizations[{i}]"
        if org.name in seen_names:
            yield _error(
                f"{path}.name",
                f"organisation {org.name!r} is declared twice",
                "give every organisation a unique name",
            )
        seen_names.add(org.name)
        if org.msp_id in seen_msp:
            yield _error(
                f"{path}.mspId",
                f"MSP ID {org.msp_id!r} is already used by organisation {seen_msp[org.msp_id]!r}",
                "give every organisation its own MSP ID",
            )
        seen_msp.setdefault(org.msp_id, org.name)
        if not org.peers and not org.orderers:
            yield _error(
                path,
                f"organisation {org.name!r} runs neither peers nor orderers",
                "add a 'peers' or an 'orderers' list",
            )
        ns = names.namespace(net, org.name)
        if ns == names.toolbox_namespace(net):
            yield _error(
                f"{path}.name",
                f"organisation name {org.name!r} is reserved: its namespace {ns!r} is the one "
                "baas keeps for itself",
                "rename the organisation",
            )
        if len(ns) > MAX_NAMESPACE:
            yield _error(
                f"{path}.name",
                f"the namespace {ns!r} would be longer than {MAX_NAMESPACE} characters",
                "shorten the network or organisation name",
            )
        yield from _org_nodes(net, i)
    return


def _org_nodes(net: Network, i: int) -> Iterator[Finding]:
    org = net.spec.organizations[i]
    path = f"spec.organizations[{i}]"
    node_names = [p.name for p in org.peers] + [o.name for o in org.orderers]
    for dup in sorted(_duplicates(node_names)):
        where = "peers" if dup in [p.name for p in org.peers] else "orderers"
        index = max(j for j, n in enumerate(getattr(org, where)) if n.name == dup)
        yield _error(
            f"{path}.{where}[{index}].name",
            f"node name {dup!r} is used twice in organisation {org.name!r}",
            "give every peer and orderer of an organisation a unique name",
        )
    for j, user in enumerate(org.users):
        if user.lower() == "admin":
            yield _error(
                f"{path}.users[{j}]",
                "'admin' is reserved: an admin identity is always issued",
                "remove it, or pick another user name",
            )
    for dup in sorted(_duplicates([u.lower() for u in org.users])):
        yield _error(
            f"{path}.users",
            f"user {dup!r} is listed twice (user names ignore case)",
            "list each user once",
        )
    lowered_nodes = {n.lower() for n in node_names}
    for j, user in enumerate(org.users):
        if user.lower() in lowered_nodes:
            yield _error(
                f"{path}.users[{j}]",
                f"user {user!r} has the name of a node of "
                f"organisation {org.name!r}; their secrets would collide",
                "rename the user",
            )
    for j, node in enumerate(node_names):
        fqdn = names.node_name(net, org.name, node)
        if len(fqdn) > 253:
            yield _error(
                f"{path}",
                f"node name {fqdn!r} (node {j}) is longer than 253 characters",
                "shorten the domain or the names",
            )
    anchors = [p.name for p in org.peers if p.anchor]
    if org.peers and not anchors:
        yield _warning(
            f"{path}.peers",
            f"organisation {org.name!r} has no anchor peer; {org.peers[0].name!r} will be used",
            "set 'anchor: true' on one of its peers",
        )


def _channels(net: Network) -> Iterator[Finding]:
    org_names = [o.name for o in net.spec.organizations]
    seen: set[str] = set()
    for i, channel in enumerate(net.spec.channels):
        path = f"spec.channels[{i}]"
        if channel.name in seen:
            yield _error(
                f"{path}.name",
                f"channel {channel.name!r} is declared twice",
                "remove the duplicate",
            )
        seen.add(channel.name)
        if not channel.organizations:
            yield _error(
                f"{path}.organizations",
                "a channel needs at least one member organisation",
                "list the organisations whose peers join it",
            )
        for dup in sorted(_duplicates(list(channel.organizations))):
            yield _error(
                f"{path}.organizations", f"organisation {dup!r} is listed twice", "list it once"
            )
        for j, member in enumerate(channel.organizations):
            org = net.organization(member)
            if org is None:
                yield _error(
                    f"{path}.organizations[{j}]",
                    f"unknown organisation {member!r}{did_you_mean(member, org_names)}",
                    f"use one of: {', '.join(org_names)}",
                )
            elif not org.peers:
                yield _error(
                    f"{path}.organizations[{j}]",
                    f"organisation {member!r} runs no peers, so it cannot be a channel member",
                    "add peers to it, or remove it from the channel",
                )
        yield from _channel_orderers(net, i)


def _channel_orderers(net: Network, i: int) -> Iterator[Finding]:
    channel = net.spec.channels[i]
    path = f"spec.channels[{i}]"
    org_names = [o.name for o in net.spec.organizations]
    for j, name in enumerate(channel.orderers or []):
        org = net.organization(name)
        if org is None:
            yield _error(
                f"{path}.orderers[{j}]",
                f"unknown organisation {name!r}{did_you_mean(name, org_names)}",
                f"use one of: {', '.join(org_names)}",
            )
        elif not org.orderers:
            yield _error(
                f"{path}.orderers[{j}]",
                f"organisation {name!r} runs no orderers",
                "add orderers to it, or name an organisation that runs orderers",
            )
    consenters = consenter_count(net, i)
    if consenters == 0:
        yield _error(
            f"{path}.orderers" if channel.orderers is not None else path,
            f"channel {channel.name!r} has no consenters (no orderer runs in its orderer "
            "organisations)",
            "add 'orderers' to an organisation and list it under the channel's 'orderers'",
        )
    elif net.spec.consensus == "BFT" and consenters < 4:
        yield _error(
            f"{path}",
            f"BFT needs at least 4 consenters (3f+1 with f>=1); channel "
            f"{channel.name!r} has {consenters}",
            "run at least 4 orderers for this channel",
        )
    elif net.spec.consensus == "etcdraft":
        if consenters < 3:
            yield _warning(
                path,
                f"channel {channel.name!r} has {consenters} etcdraft consenter(s): "
                "losing one stops the channel",
                "run 3 or 5 orderers for fault tolerance",
            )
        elif consenters % 2 == 0:
            yield _warning(
                path,
                f"channel {channel.name!r} has an even number of consenters "
                f"({consenters}): it tolerates no more failures than {consenters - 1}",
                "use an odd number of orderers",
            )


def consenter_count(net: Network, channel_index: int) -> int:
    """Orderer nodes serving the channel (unknown organisations count zero)."""
    channel = net.spec.channels[channel_index]
    total = 0
    for name in net.channel_orderer_orgs(channel):
        org = net.organization(name)
        total += len(org.orderers) if org else 0
    return total


def inline_collections(
    network: Network, root: SourceRoot
) -> tuple[Network, dict[int, str], list[Finding]]:
    """``network`` with every ``collections: FILE`` replaced by the collections that file
    holds (read once, :func:`topology.collections.read`), the chaincode index → file of those
    read, and a finding for each file that could not be used (its entry stays a path)."""
    chaincodes = list(network.spec.chaincodes)
    files: dict[int, str] = {}
    findings: list[Finding] = []
    for i, cc in enumerate(chaincodes):
        if not isinstance(cc.collections, str):
            continue
        try:
            found = collections.read(root, cc.collections)
        except collections.CollectionsFileProblem as exc:
            findings.append(_error(f"spec.chaincodes[{i}].collections", exc.message, exc.hint))
            continue
        files[i] = cc.collections
        chaincodes[i] = cc.model_copy(update={"collections": found})
    if not files:
        return network, files, findings
    spec = network.spec.model_copy(update={"chaincodes": chaincodes})
    return network.model_copy(update={"spec": spec}), files, findings


def _chaincodes(net: Network, collection_files: Mapping[int, str]) -> Iterator[Finding]:
    channels = {c.name: c for c in net.spec.channels}
    seen: set[tuple[str, str]] = set()
    for i, cc in enumerate(net.spec.chaincodes):
        path = f"spec.chaincodes[{i}]"
        if (cc.channel, cc.name) in seen:
            yield _error(
                f"{path}.name",
                f"chaincode {cc.name!r} is declared twice on channel {cc.channel!r}",
                "remove the duplicate, or deploy it on another channel",
            )
        seen.add((cc.channel, cc.name))
        if cc.name == names.PROBE_CHAINCODE:
            yield _error(
                f"{path}.name",
                f"the chaincode name {cc.name!r} is reserved for baas smoke's probe",
                "choose another name",
            )
        channel = channels.get(cc.channel)
        if channel is None:
            yield _error(
                f"{path}.channel",
                f"unknown channel {cc.channel!r}{did_you_mean(cc.channel, channels)}",
                f"use one of: {', '.join(channels) or '(no channels declared)'}",
            )
            continue
        if cc.init_function is not None and not cc.init_required:
            yield _error(
                f"{path}.initFunction",
                "initFunction is set but initRequired is false, so Init would never be called",
                "set 'initRequired: true', or remove initFunction",
            )
        if cc.endorsement is not None:
            yield from _endorsement(
                net, f"{path}.endorsement", cc.endorsement, channel.organizations
            )
        if isinstance(cc.collections, list):
            yield from _collections(
                net, path, cc.collections, channel.organizations, collection_files.get(i)
            )


def _collections(
    net: Network,
    path: str,
    found: list[Collection],
    members: list[str],
    file: str | None,
) -> Iterator[Finding]:
    """Fabric's rules for a definition's collections (``_lifecycle``'s
    ``validateCollectionConfigs``) checked before anything is sent: unique names, member
    policies that are ORs of channel members, ``maxPeerCount >= requiredPeerCount``,
    enough member peers to disseminate to, and endorsement policies naming channel members.
    ``file``: where the collections were read from (findings then name it and the entry)."""

    def at(j: int, field: str) -> tuple[str, str]:
        if file is None:
            return f"{path}.collections[{j}].{field}", ""
        return f"{path}.collections", f"in {file} at [{j}].{field}: "

    seen: set[str] = set()
    member_msps = {org.msp_id for name in members if (org := net.organization(name)) is not None}
    for j, coll in enumerate(found):
        where, prefix = at(j, "name")
        if coll.name in seen:
            yield _error(
                where,
                f"{prefix}collection {coll.name!r} is declared twice",
                "give every collection of a chaincode its own name",
            )
        seen.add(coll.name)
        where, prefix = at(j, "policy")
        yield from _member_policy(net, where, prefix, coll, member_msps)
        yield from _dissemination(net, at(j, "requiredPeerCount"), coll)
        if coll.max_peer_count < coll.required_peer_count:
            where, prefix = at(j, "maxPeerCount")
            yield _error(
                where,
                f"{prefix}maxPeerCount ({coll.max_peer_count}) is less than requiredPeerCount "
                f"({coll.required_peer_count}); Fabric refuses such a collection",
                f"set maxPeerCount to at least {coll.required_peer_count}",
            )
        if coll.endorsement_policy is not None:
            where, prefix = at(j, "endorsementPolicy")
            yield from _collection_endorsement(net, where, prefix, coll, members)


def _member_policy(
    net: Network, where: str, prefix: str, coll: Collection, member_msps: set[str]
) -> Iterator[Finding]:
    try:
        gate = policy.parse(coll.policy)
    except policy.PolicySyntaxError as exc:
        yield _error(
            where,
            f"{prefix}the collection policy does not parse: {exc}",
            "write it like OR('Org1MSP.member','Org2MSP.member')",
        )
        return
    if not _only_or(gate):
        yield _error(
            where,
            f"{prefix}the collection policy {coll.policy!r} is not an OR of principals; it "
            "lists which organisations hold the data, so Fabric accepts only OR",
            "write it like OR('Org1MSP.member','Org2MSP.member')",
        )
    known = {org.msp_id for org in net.spec.organizations}
    for principal in gate.principals():
        if principal.msp_id not in member_msps:
            where_else = (
                "a member of the channel" if principal.msp_id in known else "in the network"
            )
            yield _error(
                where,
                f"{prefix}the collection policy names {principal.msp_id!r}, which is not "
                f"{where_else}{did_you_mean(principal.msp_id, member_msps)}",
                f"use the MSP IDs of the channel members: {', '.join(sorted(member_msps))}",
            )


def _dissemination(net: Network, at: tuple[str, str], coll: Collection) -> Iterator[Finding]:
    """requiredPeerCount within reach: the endorsing peer must hand the data to that many other
    peers of the collection's organisations before it endorses."""
    if coll.required_peer_count == 0:
        return
    try:
        holders = {p.msp_id for p in policy.parse(coll.policy).principals()}
    except policy.PolicySyntaxError:
        return
    peers = sum(len(o.peers) for o in net.spec.organizations if o.msp_id in holders)
    where, prefix = at
    if coll.required_peer_count > peers:
        yield _error(
            where,
            f"{prefix}requiredPeerCount is {coll.required_peer_count}, but the organisations "
            f"of collection {coll.name!r} run {peers} peer(s) in all, so every endorsement "
            "would fail",
            f"lower requiredPeerCount to at most {peers} or add peers",
        )
    elif coll.required_peer_count > peers - 1:
        yield _warning(
            where,
            f"{prefix}requiredPeerCount is {coll.required_peer_count}: a peer of the "
            f"organisations of collection {coll.name!r} ({peers} peer(s)) cannot hand its data "
            "to that many others, so only other organisations' peers can endorse its writes",
            f"lower requiredPeerCount to {max(peers - 1, 0)} or add peers",
        )


def _only_or(gate: policy.Gate) -> bool:
    """Whether every gate of the policy is a 1-of (Fabric's ``validateSpOrConcat``)."""
    return gate.n == 1 and all(
        _only_or(rule) for rule in gate.rules if isinstance(rule, policy.Gate)
    )


def _collection_endorsement(
    net: Network, where: str, prefix: str, coll: Collection, members: list[str]
) -> Iterator[Finding]:
    given = coll.endorsement_policy
    assert given is not None
    if (given.signature_policy is None) == (given.channel_config_policy is None):
        yield _error(
            where,
            f"{prefix}endorsementPolicy needs exactly one of signaturePolicy and "
            "channelConfigPolicy",
            "e.g. endorsementPolicy: {signaturePolicy: \"OR('Org1MSP.peer')\"}",
        )
        return
    if given.signature_policy is None:
        return
    for finding in _endorsement(net, where, given.signature_policy, members):
        yield Finding(finding.severity, where, prefix + finding.message, finding.hint)


def _endorsement(net: Network, field: str, text: str, members: list[str]) -> Iterator[Finding]:
    """Findings for the endorsement policy ``text`` of the field at ``field``."""
    try:
        gate = policy.parse(text)
    except policy.PolicySyntaxError as exc:
        yield _error(
            field,
            f"the endorsement policy does not parse: {exc}",
            "write it like AND('Org1MSP.peer','Org2MSP.peer') or "
            "OutOf(2, 'A.peer', 'B.peer', 'C.peer')",
        )
        return
    member_msps = {org.msp_id for name in members if (org := net.organization(name)) is not None}
    for principal in gate.principals():
        if principal.msp_id not in member_msps:
            yield _error(
                field,
                f"the policy names {principal.msp_id!r}, which is not "
                f"a member of the channel{did_you_mean(principal.msp_id, member_msps)}",
                f"use the MSP IDs of the channel members: {', '.join(sorted(member_msps))}",
            )


def _consensus(net: Network) -> Iterator[Finding]:
    if net.spec.consensus == "BFT" and net.spec.fabric.version == "2.5":
        yield _error(
            "spec.consensus",
            "BFT ordering needs Fabric 3.x; this network uses Fabric 2.5",
            'set spec.fabric.version: "3.1", or use consensus: etcdraft',
        )


def _pki(net: Network) -> Iterator[Finding]:
    if net.spec.pki.key_algorithm != "Ed25519":
        return
    if net.spec.fabric.version == "2.5":
        yield _error(
            "spec.pki.keyAlgorithm",
            "Ed25519 identities need Fabric 3.1 (channel capability V3_0)",
            'use P-256 or P-384, or set spec.fabric.version: "3.1"',
        )
    if net.spec.consensus == "BFT":
        # Fabric 3.1.5's BFT consenters verify each other's signatures as ECDSA: osnadmin's
        # channel join answers HTTP 400 "failed unmarshaling ECDSA signature".
        yield _error(
            "spec.pki.keyAlgorithm",
            f"spec.consensus BFT cannot run with spec.pki.keyAlgorithm Ed25519: Fabric "
            f"{net.spec.fabric.pinned} refuses BFT consenters with Ed25519 certificates "
            '(the orderers\' channel join fails with "failed unmarshaling ECDSA signature")',
            "set spec.pki.keyAlgorithm to P-256 or P-384 for BFT, or keep Ed25519 with "
            "spec.consensus: etcdraft",
        )


def _is_dir(folder: Path) -> bool:
    """Whether ``folder`` is a folder; False for a name the file system cannot even look up
    (longer than it allows: ENAMETOOLONG, which ``Path.is_dir`` raises)."""
    try:
        return folder.is_dir()
    except OSError:
        return False


def _chaincode_paths(net: Network, sources: SourceRoot) -> Iterator[Finding]:
    """Each chaincode folder exists (and, when confined, lies inside the source folder; the
    refusal then does not say whether the folder exists)."""
    relative_to = "the source folder" if sources.confined else "the topology file"
    for i, cc in enumerate(net.spec.chaincodes):
        try:
            folder = sources.resolve(cc.path)
        except SourceOutside as exc:
            yield _error(f"spec.chaincodes[{i}].path", exc.message, exc.hint)
            continue
        if not _is_dir(folder):
            yield _error(
                f"spec.chaincodes[{i}].path",
                f"chaincode folder {cc.path!r} does not exist (looked in {sources.shown(folder)})",
                f"the path is relative to {relative_to}; fix it or create the folder",
            )
