"""Name rules shared by the model and validation: one place, each with a human explanation."""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Fabric: internal/peer/channel + common/configtx/validator.go
CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9.-]*$")
CHANNEL_NAME_MAX = 249
# Fabric: core/scc/lscc ChaincodeNameRegExp and ChaincodeVersionRegExp
CHAINCODE_NAME = re.compile(r"^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$")
CHAINCODE_VERSION = re.compile(r"^[A-Za-z0-9_.+-]+$")
# Fabric: core/chaincode/lifecycle/scc.go collectionNameRegExp (no leading '_': reserved for
# the implicit per-organisation collections)
COLLECTION_NAME = re.compile(r"^[A-Za-z0-9-][A-Za-z0-9_-]*$")
COLLECTION_NAME_MAX = 128
MSP_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
USER_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$")

NETWORK_NAME_MAX = 40


def dns_label_problem(value: str, *, max_len: int = 63) -> str | None:
    """Why ``value`` is not a DNS-1123 label of at most ``max_len`` characters; ``None`` if it
    is."""
    if len(value) > max_len:
        return f"{value!r} is {len(value)} characters long; at most {max_len} are allowed"
    if not DNS_LABEL.match(value):
        return (
            f"{value!r} is not a DNS-1123 label: use lower-case letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return None


def suggest_label(value: str) -> str:
    """A DNS-1123 label close to ``value`` (for hints): lower-cased, invalid runs become '-'."""
    label = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")
    return label[:63] or "name"
