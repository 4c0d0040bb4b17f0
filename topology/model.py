"""The topology format ``apiVersion: baas/v1alpha1, kind: Network`` as pydantic v2 models.

Field names (``metadata.name``, ``spec.organizations[].mspId`` ...) are a public contract: new
optional fields may be added, existing ones are never renamed. Unknown keys are errors. The models
check each field on its own; rules that relate fields to each other live in
:mod:`topology.validation`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
)

from topology import rules

API_VERSION = "baas/v1alpha1"
KIND = "Network"

FABRIC_VERSIONS: dict[str, str] = {"2.5": "2.5.16", "3.1": "3.1.5"}


def _label(max_len: int) -> Any:
    def check(value: str) -> str:
        problem = rules.dns_label_problem(value, max_len=max_len)
        if problem:
            raise ValueError(f"{problem} (try {rules.suggest_label(value)!r})")
        return value

    return AfterValidator(check)


def _matching(pattern: Any, what: str, *, max_len: int | None = None) -> Any:
    def check(value: str) -> str:
        if max_len is not None and len(value) > max_len:
            raise ValueError(f"{what} {value!r} is longer than {max_len} characters")
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not a valid {what} (must match {pattern.pattern})")
        return value

    return AfterValidator(check)


def _version_text(value: Any) -> Any:
    """Accept ``1`` as ``"1"``; refuse ``1.10`` (YAML reads it as the float 1.1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise ValueError(f'version {value!r} was read as a number; quote it, e.g. "{value}"')
    return value


def _fabric_version(value: Any) -> Any:
    if isinstance(value, float) and str(value) in FABRIC_VERSIONS:
        return str(value)
    return value


DnsLabel = Annotated[str, _label(63)]
NetworkName = Annotated[str, _label(rules.NETWORK_NAME_MAX)]
DnsName = Annotated[str, _matching(rules.DNS_NAME, "DNS name (lower case)", max_len=200)]
MspId = Annotated[str, _matching(rules.MSP_ID, "MSP ID")]
ChannelName = Annotated[
    str, _matching(rules.CHANNEL_NAME, "channel name", max_len=rules.CHANNEL_NAME_MAX)
]
ChaincodeName = Annotated[str, _matching(rules.CHAINCODE_NAME, "chaincode name", max_len=128)]
ChaincodeVersion = Annotated[
    str,
    BeforeValidator(_version_text),
    _matching(rules.CHAINCODE_VERSION, "chaincode version", max_len=64),
]
UserName = Annotated[str, _matching(rules.USER_NAME, "user name", max_len=64)]
INIT_FUNCTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")
"""A transaction function name, optionally ``<contract>:<function>`` (contract APIs)."""
InitFunction = Annotated[str, _matching(INIT_FUNCTION, "function name", max_len=128)]
CollectionName = Annotated[
    str, _matching(rules.COLLECTION_NAME, "collection name", max_len=rules.COLLECTION_NAME_MAX)
]
INT32_MAX = 2**31 - 1
UINT64_MAX = 2**64 - 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Metadata(_Strict):
    name: NetworkName = Field(description="Network name: a DNS-1123 label, at most 40 characters.")
    description: str | None = Field(default=None, description="Free text shown in the UI.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels copied to resources.")


class FabricSpec(_Strict):
    version: Annotated[Literal["2.5", "3.1"], BeforeValidator(_fabric_version)] = Field(
        default="2.5", description='Fabric line: "2.5" (2.5.16) or "3.1" (3.1.5).'
    )

    @property
    def pinned(self) -> str:
        """The exact Fabric release this line is pinned to."""
        return FABRIC_VERSIONS[self.version]


class Peer(_Strict):
    name: DnsLabel = Field(description="Short node name, e.g. peer0.")
    anchor: bool = Field(default=False, description="Announced as the org's anchor peer.")


class Orderer(_Strict):
    name: DnsLabel = Field(description="Short node name, e.g. orderer0.")


class Organization(_Strict):
    name: DnsLabel = Field(description="Organisation name: a DNS-1123 label.")
    msp_id: MspId = Field(alias="mspId", description="Fabric MSP ID, e.g. Org1MSP.")
    peers: list[Peer] = Field(default_factory=list)
    orderers: list[Orderer] = Field(default_factory=list)
    users: list[UserName] = Field(
        default_factory=list, description="Client identities; an admin is always issued."
    )


class Channel(_Strict):
    name: ChannelName
    organizations: list[DnsLabel] = Field(description="Member (peer) organisations.")
    orderers: list[DnsLabel] | None = Field(
        default=None,
        description="Orderer organisations; default: every organisation that runs orderers.",
    )


class CollectionEndorsement(_Strict):
    """A collection's own endorsement policy (Fabric's ``endorsementPolicy`` object): exactly
    one of a signature policy or the path of a channel policy."""

    signature_policy: str | None = Field(
        default=None,
        alias="signaturePolicy",
        min_length=1,
        description="Signature policy, e.g. OR('Org1MSP.peer').",
    )
    channel_config_policy: str | None = Field(
        default=None,
        alias="channelConfigPolicy",
        min_length=1,
        description="A channel policy, e.g. /Channel/Application/Endorsement.",
    )


class Collection(_Strict):
    """One private data collection, in the shape of Fabric's ``collections_config.json``
    (the same keys and defaults as ``peer lifecycle chaincode approveformyorg
    --collections-config``: requiredPeerCount 0, maxPeerCount 1)."""

    name: CollectionName = Field(description="Collection name, e.g. org1Private.")
    policy: str = Field(
        min_length=1,
        description="Which organisations hold the data: an OR of members, e.g. "
        "OR('Org1MSP.member','Org2MSP.member').",
    )
    required_peer_count: int = Field(
        default=0,
        ge=0,
        le=INT32_MAX,
        alias="requiredPeerCount",
        description="Peers the endorsing peer must hand the data to before it endorses.",
    )
    max_peer_count: int = Field(
        default=1,
        ge=0,
        le=INT32_MAX,
        alias="maxPeerCount",
        description="Peers the endorsing peer tries to hand the data to (redundancy).",
    )
    block_to_live: int = Field(
        default=0,
        ge=0,
        le=UINT64_MAX,
        alias="blockToLive",
        description="Blocks after which the data is purged; 0: kept for ever. Cannot change "
        "once committed.",
    )
    member_only_read: bool = Field(
        default=False,
        alias="memberOnlyRead",
        description="Only clients of member organisations may read the data.",
    )
    member_only_write: bool = Field(
        default=False,
        alias="memberOnlyWrite",
        description="Only clients of member organisations may write the data.",
    )
    endorsement_policy: CollectionEndorsement | None = Field(
        default=None,
        alias="endorsementPolicy",
        description="Endorsement of writes to this collection, instead of the chaincode's.",
    )


def _collections_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "file"
    if isinstance(value, list | tuple):
        return "inline"
    return None


Collections = Annotated[
    Annotated[list[Collection], Tag("inline")]
    | Annotated[Annotated[str, Field(min_length=1)], Tag("file")],
    Discriminator(
        _collections_kind,
        custom_error_type="collections_type",
        custom_error_message="expected a list of collections or the path of a "
        "collections_config.json file",
    ),
]
"""Inline collections, or the path of a ``collections_config.json`` (relative to the
topology file; under the API, to the source folder, confined like chaincode paths)."""
COLLECTION_TAGS = ("inline", "file")
"""The tags pydantic puts in the location of an error inside :data:`Collections`."""


class Chaincode(_Strict):
    name: ChaincodeName
    channel: ChannelName
    version: ChaincodeVersion = "1.0"
    path: str = Field(min_length=1, description="Source folder, relative to the topology file.")
    endorsement: str | None = Field(
        default=None,
        description="Signature policy, e.g. AND('Org1MSP.peer','Org2MSP.peer'); "
        "default: the channel's MAJORITY Endorsement.",
    )
    init_required: bool = Field(
        default=False,
        alias="initRequired",
        description="Call Init once per version, after its commit.",
    )
    init_function: InitFunction | None = Field(
        default=None,
        alias="initFunction",
        description="Function the Init transaction calls when initRequired, e.g. InitLedger "
        "(the Fabric samples' name); default: Init with empty arguments, which "
        "fabric-contract-api-go answers with success without calling any function.",
    )
    image: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Container image of the chaincode-as-a-service server (Kubernetes target); "
        "each organisation serving the chaincode runs it.",
    )
    collections: Collections | None = Field(
        default=None,
        description="Private data collections: a list in collections_config.json's shape "
        "(name, policy, requiredPeerCount, maxPeerCount, blockToLive, memberOnlyRead, "
        "memberOnlyWrite, endorsementPolicy), or the path of such a JSON file, relative to "
        "the topology file. Once loaded, a path is replaced by the list it holds.",
    )
    approval: Literal["auto", "manual"] = Field(
        default="auto",
        description="auto: baas approves each new definition for every member organisation "
        "whose admin it may sign as. manual: only for the organisations that ask "
        "(`baas chaincode approve --as ORG`, or an organisation's token over the API); the "
        "commit follows once a majority of the channel's organisations (its "
        "LifecycleEndorsement) have approved, and the previous version serves until then.",
    )


class PKISettings(_Strict):
    key_algorithm: Literal["P-256", "P-384", "Ed25519"] = Field(
        default="P-256", alias="keyAlgorithm"
    )
    ca_validity_days: int = Field(default=3650, ge=1, le=36500, alias="caValidityDays")
    leaf_validity_days: int = Field(default=365, ge=1, le=36500, alias="leafValidityDays")


class NetworkSpec(_Strict):
    fabric: FabricSpec = Field(default_factory=FabricSpec)
    consensus: Literal["etcdraft", "BFT"] = "etcdraft"
    domain: DnsName = Field(description="DNS suffix of every node name.")
    organizations: list[Organization] = Field(min_length=1)
    channels: list[Channel] = Field(default_factory=list)
    chaincodes: list[Chaincode] = Field(default_factory=list)
    pki: PKISettings = Field(default_factory=PKISettings)


class Network(_Strict):
    """A whole Fabric network: the root of a topology file."""

    api_version: Literal["baas/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["Network"]
    metadata: Metadata
    spec: NetworkSpec

    def organization(self, name: str) -> Organization | None:
        """The organisation called ``name``, or ``None``."""
        return next((o for o in self.spec.organizations if o.name == name), None)

    def channel_orderer_orgs(self, channel: Channel) -> list[str]:
        """Orderer organisations serving ``channel``: its explicit list, else every org with
        orderers."""
        if channel.orderers is not None:
            return list(channel.orderers)
        return [o.name for o in self.spec.organizations if o.orderers]

    def dump(self) -> dict[str, Any]:
        """The document as plain data with the public (camelCase) field names."""
        return self.model_dump(by_alias=True, mode="json", exclude_defaults=False)


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the topology format, for editors and the web UI."""
    schema = Network.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://baas.dev/schema/baas-v1alpha1-network.json"
    schema["title"] = "baas Network (baas/v1alpha1)"
    return schema
