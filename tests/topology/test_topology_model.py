"""Per-field rules of the model: apiVersion/kind, names (DNS-1123, Fabric channel and chaincode
rules, MSP IDs), types, unknown keys with a "did you mean" hint, defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import topology
from topology.errors import Diagnostic

Doc = dict[str, Any]
Errors = Callable[[object], list[Diagnostic]]
Load = Callable[[object], topology.LoadedTopology]


def _one(diags: list[Diagnostic], path: str) -> Diagnostic:
    found = [d for d in diags if d.path == path]
    assert found, f"no error at {path}: {[d.render() for d in diags]}"
    return found[0]


def test_two_orgs_example_loads(load: Load, doc: Doc) -> None:
    loaded = load(doc)
    net = loaded.network
    assert loaded.warnings == []
    assert net.api_version == topology.API_VERSION == "baas/v1alpha1"
    assert net.kind == topology.KIND == "Network"
    assert net.metadata.name == "supplychain"
    assert net.spec.fabric.version == "2.5"
    assert net.spec.fabric.pinned == topology.FABRIC_VERSIONS["2.5"] == "2.5.16"
    assert net.spec.consensus == "etcdraft"
    assert [o.name for o in net.spec.organizations] == ["ordererorg", "org1", "org2"]
    assert net.spec.organizations[1].msp_id == "Org1MSP"
    assert [p.name for p in net.spec.organizations[1].peers] == ["peer0", "peer1"]
    assert net.spec.organizations[1].peers[0].anchor is True
    assert net.spec.organizations[1].peers[1].anchor is False
    assert net.spec.organizations[1].users == ["alice"]
    assert net.spec.channels[0].orderers == ["ordererorg"]
    assert net.spec.chaincodes[0].endorsement == "AND('Org1MSP.peer','Org2MSP.peer')"
    assert loaded.resolve("chaincode/asset-transfer").is_dir()


def test_defaults(load: Load, doc: Doc) -> None:
    del doc["spec"]["fabric"], doc["spec"]["consensus"]
    del doc["spec"]["chaincodes"][0]["version"], doc["spec"]["chaincodes"][0]["endorsement"]
    del doc["spec"]["channels"][0]["orderers"]
    net = load(doc).network
    assert net.spec.fabric.version == "2.5"
    assert net.spec.consensus == "etcdraft"
    assert net.spec.chaincodes[0].version == "1.0"
    assert net.spec.chaincodes[0].endorsement is None
    assert net.spec.chaincodes[0].init_required is False
    assert net.spec.pki.key_algorithm == "P-256"
    assert (net.spec.pki.ca_validity_days, net.spec.pki.leaf_validity_days) == (3650, 365)
    assert net.channel_orderer_orgs(net.spec.channels[0]) == ["ordererorg"]
    assert net.organization("org2") is not None and net.organization("org9") is None


def test_model_is_frozen(load: Load, doc: Doc) -> None:
    net = load(doc).network
    with pytest.raises(ValueError, match="frozen"):
        net.metadata.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("value", ["baas/v1", "v1", "baas/v1alpha2", ""])
def test_wrong_api_version(errors: Errors, doc: Doc, value: str) -> None:
    doc["apiVersion"] = value
    diag = _one(errors(doc), "apiVersion")
    assert "baas/v1alpha1" in diag.hint
    assert diag.line == 1


@pytest.mark.parametrize("value", ["Cluster", "network", "NetWork"])
def test_wrong_kind(errors: Errors, doc: Doc, value: str) -> None:
    doc["kind"] = value
    diag = _one(errors(doc), "kind")
    assert "Network" in diag.hint


@pytest.mark.parametrize("field", ["apiVersion", "kind", "metadata", "spec"])
def test_missing_top_level_field(errors: Errors, doc: Doc, field: str) -> None:
    del doc[field]
    assert f"required field {field!r} is missing" in _one(errors(doc), field).message


BAD_LABELS = [
    "Org1",
    "org_1",
    "-org",
    "org-",
    "org.1",
    "org 1",
    "ørg",
    "",
    "a" * 64,
]


@pytest.mark.parametrize("name", BAD_LABELS)
def test_org_name_must_be_dns_label(errors: Errors, doc: Doc, name: str) -> None:
    doc["spec"]["organizations"][1]["name"] = name
    diag = _one(errors(doc), "spec.organizations[1].name")
    assert "DNS-1123" in diag.message or "characters long" in diag.message
    assert diag.line is not None


@pytest.mark.parametrize("name", ["a", "org1", "0rg", "my-org-2", "a" * 61])
def test_org_name_accepts_dns_labels(load: Load, doc: Doc, name: str) -> None:
    doc["spec"]["organizations"][1]["name"] = name
    doc["spec"]["channels"][0]["organizations"][0] = name
    doc["metadata"]["name"] = "n"  # keeps the namespace "n-<org>" within 63 characters
    assert load(doc).network.spec.organizations[1].name == name


def test_long_org_name_overflowing_the_namespace(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][1]["name"] = "a" * 63
    doc["spec"]["channels"][0]["organizations"][0] = "a" * 63
    diag = _one(errors(doc), "spec.organizations[1].name")
    assert "namespace" in diag.message


def test_label_error_suggests_a_fix(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][1]["name"] = "Org_One"
    assert "(try 'org-one')" in _one(errors(doc), "spec.organizations[1].name").message


@pytest.mark.parametrize("name", ["Supply_Chain", "supplychain.", "a" * 41])
def test_network_name(errors: Errors, doc: Doc, name: str) -> None:
    doc["metadata"]["name"] = name
    _one(errors(doc), "metadata.name")


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (("peers", 0), "spec.organizations[1].peers[0].name"),
        (("orderers", 0), "spec.organizations[0].orderers[0].name"),
    ],
)
def test_node_names_must_be_dns_labels(
    errors: Errors, doc: Doc, where: tuple[str, int], path: str
) -> None:
    org = 1 if where[0] == "peers" else 0
    doc["spec"]["organizations"][org][where[0]][where[1]]["name"] = "Peer_0"
    _one(errors(doc), path)


@pytest.mark.parametrize("domain", ["Example.com", "example..com", "-x.com", "exa_mple.com"])
def test_domain(errors: Errors, doc: Doc, domain: str) -> None:
    doc["spec"]["domain"] = domain
    _one(errors(doc), "spec.domain")


@pytest.mark.parametrize("msp", ["1MSP", "Org 1", "Org1MSP!", "", "M" * 65])
def test_msp_id(errors: Errors, doc: Doc, msp: str) -> None:
    doc["spec"]["organizations"][1]["mspId"] = msp
    _one(errors(doc), "spec.organizations[1].mspId")


# Fabric's channel rule: ^[a-z][a-z0-9.-]*$ and fewer than 250 characters.
@pytest.mark.parametrize(
    "name", ["MyChannel", "1channel", "my_channel", "my channel", "-ch", ".ch", "ch!", "a" * 250]
)
def test_channel_name_breaking_fabric_rule(errors: Errors, doc: Doc, name: str) -> None:
    doc["spec"]["channels"][0]["name"] = name
    doc["spec"]["chaincodes"][0]["channel"] = "mychannel"
    _one(errors(doc), "spec.channels[0].name")


@pytest.mark.parametrize("name", ["a", "my.channel-2", "c" + "0" * 248])
def test_channel_name_following_fabric_rule(load: Load, doc: Doc, name: str) -> None:
    assert len(name) < 250
    doc["spec"]["channels"][0]["name"] = name
    doc["spec"]["chaincodes"][0]["channel"] = name
    assert load(doc).network.spec.channels[0].name == name


# Fabric's chaincode rule: ^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$
@pytest.mark.parametrize(
    "name", ["basic cc", "_basic", "basic_", "basic--cc", "basic.cc", "bäsic", "-basic", ""]
)
def test_chaincode_name_breaking_fabric_rule(errors: Errors, doc: Doc, name: str) -> None:
    doc["spec"]["chaincodes"][0]["name"] = name
    _one(errors(doc), "spec.chaincodes[0].name")


@pytest.mark.parametrize("name", ["basic", "Basic_CC", "asset-transfer-2", "x"])
def test_chaincode_name_following_fabric_rule(load: Load, doc: Doc, name: str) -> None:
    doc["spec"]["chaincodes"][0]["name"] = name
    assert load(doc).network.spec.chaincodes[0].name == name


def test_chaincode_version_read_as_float_is_refused(errors: Errors, doc: Doc) -> None:
    text = _dump(doc).replace("version: '1.0'", "version: 1.10")
    diag = _one(errors(text), "spec.chaincodes[0].version")
    assert "quote it" in diag.message


def test_chaincode_version_integer_is_accepted(load: Load, doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["version"] = 2
    assert load(doc).network.spec.chaincodes[0].version == "2"


def test_chaincode_version_with_spaces_is_refused(errors: Errors, doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["version"] = "1 0"
    _one(errors(doc), "spec.chaincodes[0].version")


@pytest.mark.parametrize(("raw", "line"), [("2.5", "2.5"), ("3.1", "3.1"), ('"3.1"', "3.1")])
def test_fabric_version_unquoted_is_accepted(load: Load, doc: Doc, raw: str, line: str) -> None:
    text = _dump(doc).replace("version: '2.5'", f"version: {raw}")
    assert load(text).network.spec.fabric.version == line


@pytest.mark.parametrize("value", ["2.4", "3.0", "2.5.16", "latest"])
def test_fabric_version_outside_supported_lines(errors: Errors, doc: Doc, value: str) -> None:
    doc["spec"]["fabric"]["version"] = value
    diag = _one(errors(doc), "spec.fabric.version")
    assert "'2.5'" in diag.hint and "'3.1'" in diag.hint


def test_consensus_must_be_known(errors: Errors, doc: Doc) -> None:
    doc["spec"]["consensus"] = "solo"
    _one(errors(doc), "spec.consensus")


@pytest.mark.parametrize(
    ("mutate", "path", "suggestion"),
    [
        (
            lambda d: d["spec"].update(organisations=d["spec"].pop("organizations")),
            "spec.organisations",
            "organizations",
        ),
        (
            lambda d: d["spec"]["organizations"][1].update(peerz=[]),
            "spec.organizations[1].peerz",
            "peers",
        ),
        (
            lambda d: d["spec"]["organizations"][1].update(mspID="X"),
            "spec.organizations[1].mspID",
            "mspId",
        ),
        (
            lambda d: d["spec"]["organizations"][1]["peers"][0].update(anchr=True),
            "spec.organizations[1].peers[0].anchr",
            "anchor",
        ),
        (
            lambda d: d["spec"]["chaincodes"][0].update(endorsment="x"),
            "spec.chaincodes[0].endorsment",
            "endorsement",
        ),
        (lambda d: d["metadata"].update(nmae="x"), "metadata.nmae", "name"),
        (lambda d: d.update(specs={}), "specs", "spec"),
    ],
)
def test_unknown_key_with_did_you_mean(
    errors: Errors, doc: Doc, mutate: Callable[[Doc], None], path: str, suggestion: str
) -> None:
    mutate(doc)
    diag = _one(errors(doc), path)
    assert f"(did you mean {suggestion!r}?)" in diag.message
    assert "allowed here:" in diag.hint and suggestion in diag.hint
    assert diag.line is not None


def test_unknown_key_without_close_match(errors: Errors, doc: Doc) -> None:
    doc["spec"]["zzzzzz"] = 1
    diag = _one(errors(doc), "spec.zzzzzz")
    assert "did you mean" not in diag.message


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda d: d.update(metadata="x"), "metadata", "expected a mapping"),
        (
            lambda d: d["spec"]["organizations"][1].update(peers="peer0"),
            "spec.organizations[1].peers",
            "expected a list",
        ),
        (
            lambda d: d["spec"]["organizations"][1]["peers"][0].update(anchor="maybe"),
            "spec.organizations[1].peers[0].anchor",
            "expected true or false",
        ),
        (lambda d: d["metadata"].update(name=123), "metadata.name", "expected a string"),
        (lambda d: d["spec"].update(organizations=[]), "spec.organizations", "the list is empty"),
        (
            lambda d: d["spec"]["organizations"][1].pop("mspId"),
            "spec.organizations[1].mspId",
            "required field 'mspId'",
        ),
        (lambda d: d["spec"].update(pki={"caValidityDays": 0}), "spec.pki.caValidityDays", ""),
        (lambda d: d["spec"].update(pki={"keyAlgorithm": "RSA"}), "spec.pki.keyAlgorithm", ""),
        (lambda d: d["spec"]["chaincodes"][0].update(path=""), "spec.chaincodes[0].path", ""),
    ],
)
def test_wrong_types_and_values(
    errors: Errors, doc: Doc, mutate: Callable[[Doc], None], path: str, fragment: str
) -> None:
    mutate(doc)
    assert fragment in _one(errors(doc), path).message


def test_every_model_error_is_reported_at_once(errors: Errors, doc: Doc) -> None:
    doc["metadata"]["name"] = "Bad_Name"
    doc["spec"]["organizations"][1]["mspId"] = "1bad"
    doc["spec"]["channels"][0]["name"] = "Bad"
    found = {d.path for d in errors(doc)}
    assert {"metadata.name", "spec.organizations[1].mspId", "spec.channels[0].name"} <= found


def test_error_lines_point_into_the_file(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][2]["mspId"] = "1bad"
    text = _dump(doc)
    diag = _one(errors(text), "spec.organizations[2].mspId")
    assert diag.line is not None and diag.column is not None
    assert text.splitlines()[diag.line - 1][diag.column - 1 :].startswith("mspId")


def _dump(doc: Doc) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False)


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


@pytest.mark.parametrize(
    ("mutate", "path", "meant"),
    [
        (
            lambda d: _rename(d["spec"]["organizations"][1], "mspId", "mspid"),
            "spec.organizations[1].mspid",
            "mspId",
        ),
        (lambda d: _rename(d, "metadata", "metdata"), "metdata", "metadata"),
        (lambda d: _rename(d["metadata"], "name", "nmae"), "metadata.nmae", "name"),
        (
            lambda d: _rename(d["spec"]["chaincodes"][0], "channel", "chanel"),
            "spec.chaincodes[0].chanel",
            "channel",
        ),
    ],
)
def test_a_misspelt_required_key_is_one_error(
    errors: Errors, doc: Doc, mutate: Callable[[Doc], None], path: str, meant: str
) -> None:
    """Not "unknown field" plus "required field ... is missing": one error, at the typo."""
    mutate(doc)
    (diag,) = errors(doc)
    assert diag.path == path and diag.line is not None
    assert f"(did you mean {meant!r}?)" in diag.message
    assert diag.hint.startswith(f"rename it to {meant!r}, a required field; allowed here:")


def test_an_unknown_key_unlike_the_missing_one_leaves_both(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][1].pop("mspId")
    doc["spec"]["organizations"][1]["zzzzzz"] = "Org1MSP"
    found = {d.path: d for d in errors(doc)}
    assert set(found) == {"spec.organizations[1].mspId", "spec.organizations[1].zzzzzz"}
    assert found["spec.organizations[1].zzzzzz"].hint.startswith("remove it or fix its spelling")


def test_errors_are_sorted_by_line(errors: Errors, doc: Doc) -> None:
    """The rules run chaincodes before consensus; the errors still read top to bottom."""
    doc["spec"]["chaincodes"][0]["channel"] = "other"
    doc["spec"]["consensus"] = "BFT"
    found = errors(doc)
    assert {"spec.consensus", "spec.chaincodes[0].channel"} <= {d.path for d in found}
    lines = [d.line or 0 for d in found]
    assert lines == sorted(lines)


def test_model_errors_are_sorted_by_line(errors: Errors, doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["name"] = "bad.name"
    doc["metadata"]["name"] = "Bad_Name"
    doc["spec"]["organizations"][2]["mspId"] = "1bad"
    lines = [d.line or 0 for d in errors(doc)]
    assert len(lines) == 3 and lines == sorted(lines)
