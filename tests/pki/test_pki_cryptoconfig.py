"""The crypto-config.yaml equivalent (used by bench/pki_bench.py to run cryptogen)."""

from __future__ import annotations

import yaml

from pki.cryptoconfig import crypto_config
from pki.spec import OrgSpec, PKIOptions


def test_crypto_config_mirrors_the_specs(orgs: list[OrgSpec]) -> None:
    doc = yaml.safe_load(crypto_config(orgs))
    assert [o["Domain"] for o in doc["OrdererOrgs"]] == ["example.com", "org2.example.com"]
    assert [o["Domain"] for o in doc["PeerOrgs"]] == ["org1.example.com", "org2.example.com"]
    org1 = doc["PeerOrgs"][0]
    assert org1["EnableNodeOUs"] is True
    assert org1["Users"] == {"Count": 2}
    assert org1["Specs"][0] == {
        "Hostname": "peer0",
        "CommonName": "peer0.org1.example.com",
        "SANS": ["peer0.net-org1.svc", "localhost", "127.0.0.1", "::1"],
    }
    assert "PublicKeyAlgorithm" not in org1["Specs"][0]
    # users of a mixed org stay with its peer org
    assert "Users" not in doc["OrdererOrgs"][1]


def test_crypto_config_ed25519(orgs: list[OrgSpec]) -> None:
    doc = yaml.safe_load(crypto_config(orgs, PKIOptions(key_algorithm="Ed25519")))
    org1 = doc["PeerOrgs"][0]
    assert org1["CA"] == {"PublicKeyAlgorithm": "ed25519"}
    assert org1["Specs"][0]["PublicKeyAlgorithm"] == "ed25519"
