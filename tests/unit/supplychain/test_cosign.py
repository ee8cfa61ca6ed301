"""cosign-format signatures and DSSE attestations: round trips, what cosign 2.5 made, and each
field altered, copied or malformed refused with one line."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.model import ContainmentError, Finding, Inventory, Package, ScanReport
from containment.supplychain import cosign as c
from containment.supplychain import keys
from containment.supplychain.cosign import SignatureError
from tests.unit.supplychain.test_keys import COSIGN_PUB

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
REPO = "registry.example:5000/team/app"

# `cosign sign-blob` / `cosign attest-blob --type vuln` (2.5.0, --tlog-upload=false) over the blob
# b"hello\n" with the test key in test_keys (COSIGN_KEY, password "pw").
BLOB_DIGEST = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
COSIGN_BLOB_SIG = (
    "MEQCICyQgn+qBis0km8YeNjIBFHX2NIwXtXggTIq0Fz1OkGbAiBmLbxTyMob7qP07kBfikhobD8i0fu4W/h8iBCB+wIilw=="
)
COSIGN_ATT = (
    b'{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1l'
    b"bnQvdjAuMSIsInByZWRpY2F0ZVR5cGUiOiJodHRwczovL2Nvc2lnbi5zaWdzdG9yZS5kZXYvYXR0ZXN0YXRpb24vdnVsbi92MSIsInN1Ymp"
    b"lY3QiOlt7Im5hbWUiOiJibG9iIiwiZGlnZXN0Ijp7InNoYTI1NiI6IjU4OTFiNWI1MjJkNWRmMDg2ZDBmZjBiMTEwZmJkOWQyMWJiNGZjNz"
    b"E2M2FmMzRkMDgyODZhMmU4NDZmNmJlMDMifX1dLCJwcmVkaWNhdGUiOnsiaW52b2NhdGlvbiI6eyJwYXJhbWV0ZXJzIjpudWxsLCJ1cmkiO"
    b"iIiLCJldmVudF9pZCI6IiIsImJ1aWxkZXIuaWQiOiIifSwic2Nhbm5lciI6eyJ1cmkiOiJ4IiwidmVyc2lvbiI6IjEiLCJkYiI6eyJ1cmki"
    b"OiIiLCJ2ZXJzaW9uIjoiIn0sInJlc3VsdCI6eyJhIjoxfX0sIm1ldGFkYXRhIjp7InNjYW5TdGFydGVkT24iOiIyMDI1LTAxLTAxVDAwOjA"
    b'wOjAwWiIsInNjYW5GaW5pc2hlZE9uIjoiMjAyNS0wMS0wMVQwMDowMDowMFoifX19","signatures":[{"keyid":"","sig":"MEUCIQ'
    b'DgDvmwFYwGbFduN3rGQveZjlSEcPRu0rzu2H1SyLz7TgIgJJe5BtMUBsZUqIoH0ePeLfOtPtfGHiW2sWftRy9Qx08="}]}'
)


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def other() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _signed(key: ec.EllipticCurvePrivateKey, doc: object) -> tuple[bytes, str]:
    payload = json.dumps(doc).encode()
    return payload, c.sign(key, payload)


def _envelope(
    key: ec.EllipticCurvePrivateKey, statement: object, payload_type: str = c.INTOTO_PAYLOAD_TYPE
) -> bytes:
    body = json.dumps(statement).encode()
    sig = c.sign(key, c.pae(payload_type, body))
    return json.dumps(
        {
            "payloadType": payload_type,
            "payload": base64.b64encode(body).decode(),
            "signatures": [{"keyid": "", "sig": sig}],
        }
    ).encode()


# ---------------------------------------------------------------------- constants and tags


def test_oci_constants_and_tags() -> None:
    assert c.SIMPLESIGNING_MEDIA_TYPE == "application/vnd.dev.cosign.simplesigning.v1+json"
    assert c.SIGNATURE_ANNOTATION == "dev.cosignproject.cosign/signature"
    assert c.DSSE_MEDIA_TYPE == "application/vnd.dsse.envelope.v1+json"
    assert c.PREDICATE_ANNOTATION == "predicateType"
    assert c.sig_tag(D1) == "sha256-" + "1" * 64 + ".sig"
    assert c.att_tag(D1) == "sha256-" + "1" * 64 + ".att"
    assert c.predicate_type_uri("vuln") == "https://cosign.sigstore.dev/attestation/vuln/v1"
    assert c.predicate_type_uri("gate") == "https://containment.dev/attestation/gate/v1"
    with pytest.raises(ContainmentError, match="unknown predicate type 'slsa'"):
        c.predicate_type_uri("slsa")
    for bad in ("sha256:xyz", "md5:" + "1" * 32, "sha256:" + "A" * 64, ""):
        with pytest.raises(ContainmentError, match="is not a sha256 digest"):
            c.sig_tag(bad)


# ---------------------------------------------------------------------- simple signing


def test_payload_is_cosigns_simple_signing_document() -> None:
    doc = json.loads(c.simple_signing_payload(REPO, D1))
    assert doc == {
        "critical": {
            "identity": {"docker-reference": REPO},
            "image": {"docker-manifest-digest": D1},
            "type": "cosign container image signature",
        },
        "optional": None,  # cosign writes null without annotations; containers/image expects it
    }
    with_notes = json.loads(c.simple_signing_payload(REPO, D1, {"stage": "prod"}))
    assert with_notes["optional"] == {"stage": "prod"}
    with pytest.raises(ContainmentError, match="annotations must be plain JSON values"):
        c.simple_signing_payload(REPO, D1, {"when": datetime.now(UTC)})
    with pytest.raises(ContainmentError, match="not a docker reference"):
        c.simple_signing_payload("", D1)
    with pytest.raises(ContainmentError, match="not a sha256 digest"):
        c.simple_signing_payload(REPO, "latest")


def test_sign_is_der_ecdsa_sha256_and_verifies(
    key: ec.EllipticCurvePrivateKey, other: ec.EllipticCurvePrivateKey
) -> None:
    payload = c.simple_signing_payload(REPO, D1)
    sig = c.sign(key, payload)
    raw = base64.b64decode(sig, validate=True)
    assert raw[0] == 0x30 and 68 <= len(raw) <= 72  # an ASN.1 SEQUENCE of two P-256 integers
    assert c.verify_signature(key.public_key(), payload, sig)
    assert not c.verify_signature(other.public_key(), payload, sig)
    assert not c.verify_signature(key.public_key(), payload + b" ", sig)
    assert not c.verify_signature(key.public_key(), payload, "not base64!")
    assert not c.verify_signature(key.public_key(), payload, base64.b64encode(b"\x30\x00").decode())
    assert not c.verify_signature(key.public_key(), payload, "A" * 5000)


def test_cosigns_blob_signature_verifies_with_ours() -> None:
    pub = keys.parse_public(COSIGN_PUB)
    assert c.verify_signature(pub, b"hello\n", COSIGN_BLOB_SIG)
    assert not c.verify_signature(pub, b"hello!\n", COSIGN_BLOB_SIG)


def test_verify_simple_signing_accepts_the_right_image(key: ec.EllipticCurvePrivateKey) -> None:
    payload = c.simple_signing_payload(REPO, D1, {"creator": "containment", "timestamp": 1700000000})
    c.verify_simple_signing(key.public_key(), payload, c.sign(key, payload), D1)
    c.verify_simple_signing(key.public_key(), payload, c.sign(key, payload), D1, REPO)
    c.verify_simple_signing(key.public_key(), payload, c.sign(key, payload), "1" * 64)  # bare hex


def test_signed_by_another_key_is_refused(
    key: ec.EllipticCurvePrivateKey, other: ec.EllipticCurvePrivateKey
) -> None:
    payload = c.simple_signing_payload(REPO, D1)
    with pytest.raises(SignatureError, match="does not verify with this key"):
        c.verify_simple_signing(key.public_key(), payload, c.sign(other, payload), D1)


def test_altered_payload_or_signature_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    payload = c.simple_signing_payload(REPO, D1)
    sig = c.sign(key, payload)
    swapped = payload.replace(D1.encode(), D2.encode())  # the digest changed, the signature kept
    with pytest.raises(SignatureError, match="does not verify"):
        c.verify_simple_signing(key.public_key(), swapped, sig, D2)
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 1
    with pytest.raises(SignatureError, match="does not verify"):
        c.verify_simple_signing(key.public_key(), payload, base64.b64encode(bytes(raw)).decode(), D1)


def test_signature_copied_from_another_digest_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    payload = c.simple_signing_payload(REPO, D1)
    with pytest.raises(SignatureError) as e:
        c.verify_simple_signing(key.public_key(), payload, c.sign(key, payload), D2)
    assert str(e.value) == f"signature is for {D1}, not {D2}: a signature copied from another image (refused)"


def test_other_repository_is_refused_when_asked(key: ec.EllipticCurvePrivateKey) -> None:
    payload = c.simple_signing_payload(REPO, D1)
    with pytest.raises(
        SignatureError, match="for repository 'registry.example:5000/team/app', not 'other/app'"
    ):
        c.verify_simple_signing(key.public_key(), payload, c.sign(key, payload), D1, "other/app")


def _critical(t: str = c.SIGNATURE_TYPE, digest: object = D1) -> dict:
    return {"identity": {"docker-reference": REPO}, "image": {"docker-manifest-digest": digest}, "type": t}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"critical": _critical("atomic container signature"), "optional": None},
            "payload type is 'atomic container",
        ),
        ({"critical": _critical(), "optional": None, "extra": 1}, "unexpected fields (unknown ['extra'])"),
        ({"critical": _critical()}, "unexpected fields (missing ['optional'])"),
        ({"critical": {**_critical(), "more": 1}, "optional": None}, "critical has unexpected fields"),
        ({"critical": _critical(digest=123), "optional": None}, "docker-manifest-digest is not a string"),
        ({"critical": _critical(), "optional": []}, "optional is neither an object nor null"),
        ([1, 2], "signature payload is not a JSON object"),
        ("text", "signature payload is not a JSON object"),
    ],
)
def test_malformed_signed_payload_is_refused(
    key: ec.EllipticCurvePrivateKey, doc: object, message: str
) -> None:
    payload, sig = _signed(key, doc)
    with pytest.raises(SignatureError) as e:
        c.verify_simple_signing(key.public_key(), payload, sig, D1)
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff\xfe not utf-8", "not UTF-8 JSON"),
        (b"{not json", "is not valid JSON"),
        (b'{"critical": 1, "critical": 2, "optional": null}', "duplicate key 'critical'"),
        (b'{"critical": NaN, "optional": null}', "NaN is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
    ],
)
def test_unparseable_signed_payload_is_refused(
    key: ec.EllipticCurvePrivateKey, payload: bytes, message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        c.verify_simple_signing(key.public_key(), payload, c.sign(key, payload), D1)


def test_huge_payload_is_refused_without_reading_it(key: ec.EllipticCurvePrivateKey) -> None:
    big = b" " * (c.MAX_PAYLOAD + 1)
    with pytest.raises(SignatureError, match="does not verify"):
        c.verify_simple_signing(key.public_key(), big, c.sign(key, big), D1)
    with pytest.raises(SignatureError, match="over the 4 MiB limit"):
        c.parse_simple_signing(big)


# ---------------------------------------------------------------------- DSSE attestations


def test_pae_matches_the_dsse_spec_example() -> None:
    assert c.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_statement_shape() -> None:
    s = c.statement(REPO, D1, c.VULN_PREDICATE_TYPE, {"a": 1})
    assert s == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": REPO, "digest": {"sha256": "1" * 64}}],
        "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
        "predicate": {"a": 1},
    }


def test_envelope_round_trip(key: ec.EllipticCurvePrivateKey) -> None:
    st_ = c.statement(REPO, D1, c.GATE_PREDICATE_TYPE, {"decision": "pass", "stage": "prod"})
    env = c.dsse_envelope(key, st_)
    doc = json.loads(env)
    assert set(doc) == {"payloadType", "payload", "signatures"}
    assert doc["payloadType"] == "application/vnd.in-toto+json"
    assert doc["signatures"][0]["keyid"] == ""
    assert json.loads(base64.b64decode(doc["payload"])) == st_
    assert c.verify_dsse(key.public_key(), env, D1, "gate") == st_
    assert c.verify_dsse(key.public_key(), env, D1, c.GATE_PREDICATE_TYPE) == st_
    assert c.verify_dsse(key.public_key(), env, D1) == st_


def test_cosigns_attestation_verifies_with_ours() -> None:
    st_ = c.verify_dsse(keys.parse_public(COSIGN_PUB), COSIGN_ATT, BLOB_DIGEST, "vuln")
    assert st_["_type"] == c.STATEMENT_V01  # cosign 2.5 still writes Statement v0.1
    assert st_["predicate"]["scanner"]["result"] == {"a": 1}


def test_attestation_by_another_key_is_refused(
    key: ec.EllipticCurvePrivateKey, other: ec.EllipticCurvePrivateKey
) -> None:
    env = c.dsse_envelope(other, c.statement(REPO, D1, c.VULN_PREDICATE_TYPE, {}))
    with pytest.raises(SignatureError, match="attestation signature does not verify with this key"):
        c.verify_dsse(key.public_key(), env, D1)


def test_tampered_predicate_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    env = json.loads(c.dsse_envelope(key, c.statement(REPO, D1, c.VULN_PREDICATE_TYPE, {"score": 71})))
    st_ = json.loads(base64.b64decode(env["payload"]))
    st_["predicate"]["score"] = 3  # a better score, the signature kept
    env["payload"] = base64.b64encode(json.dumps(st_).encode()).decode()
    with pytest.raises(SignatureError, match="does not verify"):
        c.verify_dsse(key.public_key(), json.dumps(env).encode(), D1)


def test_tampered_payload_type_or_signature_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    env = json.loads(c.dsse_envelope(key, c.statement(REPO, D1, c.VULN_PREDICATE_TYPE, {})))
    with pytest.raises(SignatureError, match="payloadType is 'application/json'"):
        c.verify_dsse(key.public_key(), json.dumps({**env, "payloadType": "application/json"}).encode(), D1)
    for sigs, message in (
        ([], "needs 1 to 16 signatures"),
        ([{"keyid": "", "sig": env["signatures"][0]["sig"][:-8] + "AAAAAAA="}], "does not verify"),
        ([{"keyid": ""}], "does not verify"),
        ("sig", "needs 1 to 16 signatures"),
        ([{"sig": env["signatures"][0]["sig"]}] * 17, "needs 1 to 16 signatures"),
    ):
        with pytest.raises(SignatureError, match=message):
            c.verify_dsse(key.public_key(), json.dumps({**env, "signatures": sigs}).encode(), D1)


def test_one_good_signature_among_others_is_enough(
    key: ec.EllipticCurvePrivateKey, other: ec.EllipticCurvePrivateKey
) -> None:
    st_ = c.statement(REPO, D1, c.VULN_PREDICATE_TYPE, {})
    mine, theirs = json.loads(c.dsse_envelope(key, st_)), json.loads(c.dsse_envelope(other, st_))
    both = {**mine, "signatures": [theirs["signatures"][0], "junk", mine["signatures"][0]]}
    assert c.verify_dsse(key.public_key(), json.dumps(both).encode(), D1) == st_


def test_attestation_for_another_digest_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    env = c.dsse_envelope(key, c.statement(REPO, D1, c.VULN_PREDICATE_TYPE, {}))
    with pytest.raises(SignatureError) as e:
        c.verify_dsse(key.public_key(), env, D2)
    assert (
        str(e.value)
        == f"attestation is for {D1}, not {D2}: an attestation copied from another image (refused)"
    )


def test_wrong_predicate_type_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    env = c.dsse_envelope(key, c.statement(REPO, D1, c.GATE_PREDICATE_TYPE, {}))
    with pytest.raises(
        SignatureError, match="predicate type is 'https://containment.dev/attestation/gate/v1', not"
    ):
        c.verify_dsse(key.public_key(), env, D1, "vuln")


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"_type": "https://example.com/Other", "subject": [], "predicate": {}}, "not an in-toto Statement"),
        (
            {"_type": c.STATEMENT_V1, "subject": [{"name": "x", "digest": {"sha256": "1" * 64}}]},
            "has no predicate",
        ),
        ({"_type": c.STATEMENT_V1, "subject": [], "predicate": {}}, "has no subject"),
        ({"_type": c.STATEMENT_V1, "subject": "x", "predicate": {}}, "has no subject"),
        (
            {"_type": c.STATEMENT_V1, "subject": [{"digest": "x"}, 5], "predicate": {}},
            "is for no sha256 digest",
        ),
        (
            {"_type": c.STATEMENT_V1, "subject": [{"digest": {"sha512": "1"}}], "predicate": {}},
            "is for no sha256",
        ),
        ([1], "statement is not a JSON object"),
    ],
)
def test_malformed_signed_statement_is_refused(
    key: ec.EllipticCurvePrivateKey, statement: object, message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        c.verify_dsse(key.public_key(), _envelope(key, statement), D1)


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        (b"", "is not valid JSON"),
        (b"[]", "envelope is not a JSON object"),
        (b'{"payloadType": "x"}', "has no 'payload'"),
        (
            b'{"payloadType": "application/vnd.in-toto+json", "payload": "%%", "signatures": []}',
            "not valid base64",
        ),
        (
            b'{"payloadType": "application/vnd.in-toto+json", "payload": 7, "signatures": []}',
            "not a base64 string",
        ),
        (b'{"payloadType": 1, "payloadType": 2}', "duplicate key 'payloadType'"),
    ],
)
def test_malformed_envelope_is_refused(
    key: ec.EllipticCurvePrivateKey, envelope: bytes, message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        c.verify_dsse(key.public_key(), envelope, D1)


# ---------------------------------------------------------------------- the vuln predicate


def _report() -> ScanReport:
    pkg = Package(
        "openssl", "3.0.11-1", "deb", "pkg:deb/debian/openssl@3.0.11-1", "var/lib/dpkg/status", "dpkg-status"
    )
    finding = Finding(
        "CVE-2024-0001", (), pkg, "Debian:12", "3.0.11-1", ("3.0.13-1",), "fixed", "HIGH", "debian"
    )
    low = Finding("CVE-2024-0002", (), pkg, "Debian:12", "3.0.11-1", (), "affected", "LOW", "debian")
    inv = Inventory("oci:./img", "image", None, (pkg,), image_digest=D1)
    return ScanReport(
        inv, (finding, low), db={"updated_at": "2025-05-01T00:00:00Z"}, scanners=("vuln", "secret")
    )


def test_vuln_predicate_has_cosigns_shape_and_our_result() -> None:
    t0, t1 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC), datetime(2025, 5, 1, 12, 0, 3, tzinfo=UTC)
    p = c.vuln_predicate(_report(), {"score": 42, "breakdown": []}, t0, t1)
    assert set(p) == {"invocation", "scanner", "metadata"}
    assert set(p["invocation"]) == {"parameters", "uri", "event_id", "builder.id"}
    assert set(p["scanner"]) == {"uri", "version", "db", "result"}
    assert set(p["scanner"]["db"]) == {"uri", "version"}
    assert p["scanner"]["db"]["version"] == "2025-05-01T00:00:00Z"
    assert p["scanner"]["uri"].startswith("pkg:pypi/containment@")
    assert p["metadata"] == {
        "scanStartedOn": "2025-05-01T12:00:00Z",
        "scanFinishedOn": "2025-05-01T12:00:03Z",
    }
    r = p["scanner"]["result"]
    assert r["score"] == {"score": 42, "breakdown": []}
    assert r["summary"]["vulnerabilities"]["HIGH"] == 1 and r["summary"]["vulnerabilities"]["LOW"] == 1
    assert r["summary"]["secrets"]["CRITICAL"] == 0 and "misconfigurations" not in r["summary"]
    assert r["vulnerabilities"][0] == {
        "id": "CVE-2024-0001",
        "package": "pkg:deb/debian/openssl@3.0.11-1",
        "installed": "3.0.11-1",
        "severity": "HIGH",
        "fixed": ["3.0.13-1"],
    }
    assert r["image_digest"] == D1
    json.dumps(p, allow_nan=False)  # JSON as it stands


def test_vuln_predicate_in_an_envelope_round_trips(key: ec.EllipticCurvePrivateKey) -> None:
    p = c.vuln_predicate(_report(), None)
    datetime.fromisoformat(p["metadata"]["scanStartedOn"])
    st_ = c.verify_dsse(
        key.public_key(), c.dsse_envelope(key, c.statement(REPO, D1, c.VULN_PREDICATE_TYPE, p)), D1, "vuln"
    )
    assert st_["predicate"] == p


# ---------------------------------------------------------------------- fuzz: SignatureError or a result, nothing else

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), sig=st.text(max_size=200))
def test_fuzz_verify_simple_signing_bytes(key: ec.EllipticCurvePrivateKey, data: bytes, sig: str) -> None:
    with pytest.raises(SignatureError):
        c.verify_simple_signing(key.public_key(), data, sig, D1)


@settings(max_examples=200, deadline=None)
@given(doc=_json)
def test_fuzz_signed_payload_documents(key: ec.EllipticCurvePrivateKey, doc: object) -> None:
    payload, sig = _signed(key, doc)
    with pytest.raises(SignatureError) as e:
        c.verify_simple_signing(key.public_key(), payload, sig, D1)
    assert "\n" not in str(e.value)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000) | _json.map(lambda d: json.dumps(d).encode()))
def test_fuzz_envelope_bytes(key: ec.EllipticCurvePrivateKey, data: bytes) -> None:
    with pytest.raises(SignatureError):
        c.verify_dsse(key.public_key(), data, D1)


@settings(max_examples=200, deadline=None)
@given(
    statement=_json
    | st.fixed_dictionaries({"_type": st.just(c.STATEMENT_V1), "subject": _json, "predicate": _json})
)
def test_fuzz_signed_statements(key: ec.EllipticCurvePrivateKey, statement: object) -> None:
    try:
        got = c.verify_dsse(key.public_key(), _envelope(key, statement), D1)
    except SignatureError as e:
        assert "\n" not in str(e)
    else:
        assert got == statement
