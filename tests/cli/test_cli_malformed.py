"""A table of malformed topologies, each run through ``baas validate``: exit status 2, the file
name and the field path of the error in the output (text and ``-o json``), no traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

Doc = dict[str, Any]

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


@dataclass(frozen=True)
class Case:
    """``make`` turns the two-orgs document into the bad one (a dict, or raw YAML text);
    ``path`` is the field path the error must name ("" for whole-document problems, then
    ``where`` is a fragment of the location or message that must appear instead)."""

    id: str
    make: Callable[[Doc], Doc | str]
    path: str
    where: str = ""


def _set(path: str, value: Any) -> Callable[[Doc], Doc]:
    """A mutation setting ``a.b[1].c`` to ``value``."""

    def mutate(doc: Doc) -> Doc:
        parts = path.replace("[", ".").replace("]", "").split(".")
        target: Any = doc
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
        return doc

    return mutate


def _do(action: Callable[[Doc], object]) -> Callable[[Doc], Doc]:
    def mutate(doc: Doc) -> Doc:
        action(doc)
        return doc

    return mutate


def _text(make: Callable[[str], str]) -> Callable[[Doc], str]:
    return lambda doc: make(yaml.safe_dump(doc, sort_keys=False))


ORGS = "spec.organizations"
CASES = [
    Case("api-version", _set("apiVersion", "baas/v1"), "apiVersion"),
    Case("kind", _set("kind", "Cluster"), "kind"),
    Case("no-metadata", _do(lambda d: d.pop("metadata")), "metadata"),
    Case("network-name-underscore", _set("metadata.name", "supply_chain"), "metadata.name"),
    Case("network-name-too-long", _set("metadata.name", "n" * 41), "metadata.name"),
    Case("org-name-upper", _set(f"{ORGS}[1].name", "Org1"), f"{ORGS}[1].name"),
    Case("peer-name-dot", _set(f"{ORGS}[1].peers[1].name", "peer.1"), f"{ORGS}[1].peers[1].name"),
    Case("duplicate-org", _set(f"{ORGS}[2].name", "org1"), f"{ORGS}[2].name"),
    Case("duplicate-msp", _set(f"{ORGS}[2].mspId", "Org1MSP"), f"{ORGS}[2].mspId"),
    Case("bad-msp", _set(f"{ORGS}[1].mspId", "1MSP"), f"{ORGS}[1].mspId"),
    Case(
        "missing-msp", _do(lambda d: d["spec"]["organizations"][1].pop("mspId")), f"{ORGS}[1].mspId"
    ),
    Case("duplicate-node", _set(f"{ORGS}[1].peers[1].name", "peer0"), f"{ORGS}[1].peers[1].name"),
    Case(
        "duplicate-orderer",
        _set(f"{ORGS}[0].orderers[1].name", "orderer0"),
        f"{ORGS}[0].orderers[1].name",
    ),
    Case("admin-user", _set(f"{ORGS}[1].users", ["admin"]), f"{ORGS}[1].users[0]"),
    Case(
        "org-without-nodes",
        _do(lambda d: d["spec"]["organizations"].append({"name": "org3", "mspId": "Org3MSP"})),
        f"{ORGS}[3]",
    ),
    Case("domain-upper", _set("spec.domain", "Example.COM"), "spec.domain"),
    Case("no-domain", _do(lambda d: d["spec"].pop("domain")), "spec.domain"),
    Case("no-organizations", _set("spec.organizations", []), "spec.organizations"),
    Case("peers-not-list", _set(f"{ORGS}[1].peers", "peer0"), f"{ORGS}[1].peers"),
    Case("fabric-2.4", _set("spec.fabric.version", "2.4"), "spec.fabric.version"),
    Case("channel-upper", _set("spec.channels[0].name", "MyChannel"), "spec.channels[0].name"),
    Case("channel-250", _set("spec.channels[0].name", "c" * 250), "spec.channels[0].name"),
    Case(
        "channel-unknown-org",
        _set("spec.channels[0].organizations", ["org1", "org9"]),
        "spec.channels[0].organizations[1]",
    ),
    Case(
        "channel-org-no-peers",
        _set("spec.channels[0].organizations", ["org1", "ordererorg"]),
        "spec.channels[0].organizations[1]",
    ),
    Case(
        "orderer-org-no-orderers",
        _set("spec.channels[0].orderers", ["org1"]),
        "spec.channels[0].orderers[0]",
    ),
    Case("no-consenters", _set("spec.channels[0].orderers", []), "spec.channels[0].orderers"),
    Case(
        "duplicate-channel",
        _do(lambda d: d["spec"]["channels"].append(dict(d["spec"]["channels"][0]))),
        "spec.channels[1].name",
    ),
    Case(
        "bft-on-2.5",
        _do(
            lambda d: (
                d["spec"].update(consensus="BFT"),
                d["spec"]["organizations"][0]["orderers"].append({"name": "orderer3"}),
            )
        ),
        "spec.consensus",
    ),
    Case(
        "bft-3-consenters",
        _do(lambda d: d["spec"].update(consensus="BFT", fabric={"version": "3.1"})),
        "spec.channels[0]",
    ),
    Case(
        "cc-unknown-channel",
        _set("spec.chaincodes[0].channel", "other"),
        "spec.chaincodes[0].channel",
    ),
    Case("cc-name", _set("spec.chaincodes[0].name", "basic.cc"), "spec.chaincodes[0].name"),
    Case(
        "cc-version-float",
        _text(lambda t: t.replace("version: '1.0'", "version: 1.10")),
        "spec.chaincodes[0].version",
    ),
    Case(
        "cc-missing-path",
        _set("spec.chaincodes[0].path", "chaincode/absent"),
        "spec.chaincodes[0].path",
    ),
    Case(
        "policy-syntax",
        _set("spec.chaincodes[0].endorsement", "AND('Org1MSP.peer'"),
        "spec.chaincodes[0].endorsement",
    ),
    Case(
        "policy-outsider",
        _set("spec.chaincodes[0].endorsement", "OR('OrdererMSP.peer')"),
        "spec.chaincodes[0].endorsement",
    ),
    Case("ed25519-on-2.5", _set("spec.pki", {"keyAlgorithm": "Ed25519"}), "spec.pki.keyAlgorithm"),
    Case(
        "bft-with-ed25519",
        _do(
            lambda d: (
                d["spec"].update(
                    consensus="BFT", fabric={"version": "3.1"}, pki={"keyAlgorithm": "Ed25519"}
                ),
                d["spec"]["organizations"][0]["orderers"].append({"name": "orderer3"}),
            )
        ),
        "spec.pki.keyAlgorithm",
        "spec.consensus BFT cannot run with spec.pki.keyAlgorithm Ed25519",
    ),
    Case(
        "unknown-key",
        _do(lambda d: d["spec"]["organizations"][1].update(peerz=[])),
        f"{ORGS}[1].peerz",
        "did you mean 'peers'?",
    ),
    Case("unknown-top-key", _do(lambda d: d.update(specs={})), "specs", "did you mean 'spec'?"),
    Case(
        "duplicate-yaml-key",
        _text(
            lambda t: t.replace(
                "  domain: example.com\n", "  domain: example.com\n  domain: example.org\n"
            )
        ),
        "spec.domain",
        "duplicate key",
    ),
    # Whole-document problems: no field path, the location/message must show instead.
    Case("yaml-syntax", lambda d: "apiVersion: baas/v1alpha1\nkind: [Network\n", "", ":3:1: error"),
    Case("empty", lambda d: "", "", "the file is empty"),
    Case("a-list", lambda d: "- apiVersion\n", "", ":1:1: error: the document is a list"),
    Case("two-documents", lambda d: "a: 1\n---\nb: 2\n", "", "more than one YAML document"),
    Case("billion-laughs", lambda d: BILLION_LAUGHS, "", "alias bomb"),
    Case("over-1-MiB", lambda d: "#" * (1024 * 1024 + 1), "", "at most 1048576"),
]

assert len([c for c in CASES if c.path]) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_topology(
    case: Case,
    cli: Callable[..., Any],
    doc: Doc,
    write: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = f"{case.id}.yaml"
    path = write(case.make(doc), name)
    monkeypatch.chdir(path.parent)

    text = cli("validate", name)
    assert text.code == 2, text.text
    assert "Traceback" not in text.text
    assert f"{name}:" in text.err
    if case.path:
        assert f": error: {case.path}: " in text.err, text.err
    assert case.where in text.err

    as_json = cli("validate", "-o", "json", name)
    assert as_json.code == 2
    assert "Traceback" not in as_json.text
    report = json.loads(as_json.out)
    assert (report["kind"], report["valid"]) == ("ValidationReport", False)
    (result,) = report["files"]
    assert result["file"] == name and result["valid"] is False
    errors = [d for d in result["diagnostics"] if d["severity"] == "error"]
    assert errors and all(d["file"] == name for d in errors)
    assert case.path in [d["path"] for d in errors]
