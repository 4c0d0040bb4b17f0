"""``baas pki`` end to end on examples/two-orgs.yaml, and the no-secret-in-output guarantee."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from baas.cli.app import main
from pki.checks import check_msp

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TWO_ORGS = EXAMPLES / "two-orgs.yaml"
ALICE = "alice@org1.example.com"


def run(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capfd.readouterr()
    return code, captured.out, captured.err


def test_generate_status_renew_revoke(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "crypto")
    code, _, err = run(capfd, "pki", "generate", str(TWO_ORGS), "--crypto", out)
    assert code == 0, err
    assert err.rstrip().endswith(
        f"crypto material in {out}: 30 certificates: 30 created, 0 kept; 3 MSP folder updates"
    )
    assert "missing" not in err  # no detail column that only repeats "created"
    peer = tmp_path / "crypto/peerOrganizations/org1.example.com/peers/peer0.org1.example.com"
    assert check_msp(peer / "msp") == []
    san = (peer / "tls/server.crt").read_bytes()
    assert san  # SANs come from baas.plan (service names, localhost)

    code, data, _ = run(capfd, "pki", "generate", str(TWO_ORGS), "--crypto", out, "-o", "json")
    generated = json.loads(data)
    assert code == 0 and generated["kind"] == "PKIGenerateResult"
    assert generated["summary"] == {"kept": 30}
    assert (generated["certificates"]["kept"], generated["certificates"]["created"]) == (30, 0)
    code, _, err = run(capfd, "pki", "generate", str(TWO_ORGS), "--crypto", out)
    assert err.strip() == f"crypto material in {out}: 30 certificates: 0 created, 30 kept"

    code, data, _ = run(capfd, "pki", "status", str(TWO_ORGS), "--crypto", out, "-o", "json")
    status = json.loads(data)
    rows = status["certificates"]
    assert code == 0 and status["kind"] == "PKIStatus" and status["total"] == 30
    assert len(rows) == 30 and {r["state"] for r in rows} == {"ok"}
    assert {"subject", "serial", "notAfter", "daysLeft"} <= set(rows[0])

    code, _, err = run(capfd, "pki", "status", str(TWO_ORGS), "--crypto", out)
    assert code == 0 and "all 30 certificates ok" in err

    code, data, _ = run(
        capfd, "pki", "renew", str(TWO_ORGS), "--crypto", out, "--identity", ALICE, "-o", "json"
    )
    assert code == 0
    assert [c["detail"] for c in json.loads(data)["changes"]] == ["same key", "same key"]

    code, _, err = run(capfd, "pki", "revoke", str(TWO_ORGS), ALICE, "--crypto", out)
    assert code == 0 and "revoked" in err
    org1 = tmp_path / "crypto/peerOrganizations/org1.example.com"
    assert (org1 / "msp/crls/ca.org1.example.com-crl.pem").is_file()


def test_default_out_is_under_baas_home(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    code, _, err = run(capfd, "pki", "generate", str(TWO_ORGS))
    assert code == 0, err
    crypto = tmp_path / "home/networks/supplychain/crypto"
    assert (crypto / "ordererOrganizations/ordererorg.example.com/msp/config.yaml").is_file()


def test_usage_errors(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "crypto")
    code, _, err = run(capfd, "pki", "status", str(TWO_ORGS), "--crypto", out)
    assert code == 2 and "pki generate" in err
    code, _, err = run(capfd, "pki", "renew", str(TWO_ORGS), "--crypto", out)
    assert code == 2 and "exactly one" in err
    run(capfd, "pki", "generate", str(TWO_ORGS), "--crypto", out)
    code, _, err = run(capfd, "pki", "revoke", str(TWO_ORGS), "nobody", "--crypto", out)
    assert code == 2 and "no identity named" in err


def test_ed25519_network(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    doc = yaml.safe_load(TWO_ORGS.read_text())
    doc["spec"]["fabric"]["version"] = "3.1"
    doc["spec"]["pki"] = {"keyAlgorithm": "Ed25519"}
    topo = tmp_path / "ed.yaml"
    topo.write_text(yaml.safe_dump(doc))
    (tmp_path / "chaincode").symlink_to(EXAMPLES / "chaincode")
    out = tmp_path / "crypto"
    code, _, err = run(capfd, "pki", "generate", str(topo), "--crypto", str(out))
    assert code == 0, err
    org1 = out / "peerOrganizations/org1.example.com"
    peer_key = load_pem_private_key(
        (org1 / "peers/peer0.org1.example.com/msp/keystore/priv_sk").read_bytes(), None
    )
    admin_key = load_pem_private_key(
        (org1 / "users/Admin@org1.example.com/msp/keystore/priv_sk").read_bytes(), None
    )
    assert isinstance(peer_key, ed25519.Ed25519PrivateKey)
    assert isinstance(admin_key, ec.EllipticCurvePrivateKey)


def _secret_fragments(root: Path) -> list[str]:
    """Fragments that would betray key material: 16-char slices of every key's base64 body,
    and the hex of every EC private scalar."""
    fragments: list[str] = []
    for path in root.rglob("*"):
        if path.name not in ("priv_sk", "server.key", "client.key"):
            continue
        pem = path.read_text()
        body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
        fragments.extend(body[i : i + 16] for i in range(0, len(body) - 16, 8))
        der = base64.b64decode(body)
        fragments.append(der.hex()[-40:])
        key = load_pem_private_key(pem.encode(), None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            fragments.append(f"{key.private_numbers().private_value:x}"[:24])
    return fragments


def test_no_key_material_in_any_output(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BAAS_DEBUG", raising=False)
    out = str(tmp_path / "crypto")
    transcript = ""
    for argv in (
        ("pki", "generate", str(TWO_ORGS), "--crypto", out),
        ("pki", "generate", str(TWO_ORGS), "--crypto", out, "-o", "json"),
        ("pki", "status", str(TWO_ORGS), "--crypto", out),
        ("pki", "status", str(TWO_ORGS), "--crypto", out, "-o", "json"),
        ("pki", "renew", str(TWO_ORGS), "--crypto", out, "--expiring-within", "400"),
        ("pki", "renew", str(TWO_ORGS), "--crypto", out, "--identity", ALICE, "--new-key"),
        ("pki", "renew", str(TWO_ORGS), "--crypto", out, "--identity", ALICE, "-o", "json"),
        ("pki", "revoke", str(TWO_ORGS), ALICE, "--crypto", out),
    ):
        code, stdout, stderr = run(capfd, *argv)
        assert code == 0, stderr
        transcript += stdout + stderr
    fragments = _secret_fragments(tmp_path / "crypto")
    # a damaged key makes generate fail: the error names the file, never its content
    org1 = tmp_path / "crypto/peerOrganizations/org1.example.com"
    bogus_body = base64.b64encode(b"not-a-key-but-secret-looking-0123456789" * 2).decode()
    (org1 / "ca/priv_sk").write_text(
        f"-----BEGIN PRIVATE KEY-----\n{bogus_body}\n-----END PRIVATE KEY-----\n"
    )
    code, stdout, stderr = run(capfd, "pki", "generate", str(TWO_ORGS), "--crypto", out)
    assert code == 2 and "priv_sk" in stderr
    assert bogus_body[:16] not in stdout + stderr
    transcript += stdout + stderr

    assert transcript
    assert "PRIVATE KEY" not in transcript
    flat = re.sub(r"\s+", "", transcript)
    assert len(fragments) > 300
    leaks = [f for f in fragments if f in flat]
    assert leaks == []
