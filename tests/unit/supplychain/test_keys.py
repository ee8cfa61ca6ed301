"""Keys in cosign's format: round trips, a key cosign 2.5 made, every way a key file can be wrong."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.model import ContainmentError
from containment.supplychain import keys
from containment.supplychain.keys import KeyFileError

# Made by `COSIGN_PASSWORD=pw cosign generate-key-pair` (cosign 2.5.0, Debian trixie): a test key,
# password "pw". cosign 2.5 writes scrypt N=65536 (go-securesystemslib's "standard" set).
COSIGN_KEY = b"""\
-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6
OCwicCI6MX0sInNhbHQiOiJVWldVcm0zdkVxQS9NU3NJRHpQT3FOeU5hSkdtRlN3
L3NtN01qVVFLZXc4PSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJzQzRKQlcxekhwcWFlSVJhbmYwSzJPaW5sYW91eTZqZyJ9LCJj
aXBoZXJ0ZXh0IjoiL1BhNFk4WG9ROGxlcndoM3BFUjhXOHJEZ2ExQXU0WTQwN0RY
Smc4WjJZdkxSR0Z1T0tNdG5yNXF5SmpCMHpSU1hTQTV1WjlUVmVkazc3dFNoa3lh
bTR2ODJuQmI2cDI1WmpLTUpmeUVnQ2ROdlZUNEtCck1HcjB0UmhPTVJuWVZtR1FI
UHdmQ05uUStZU0krT0Z5MkpxZlN1RDl3ZFFjbmQxcE95QTN4ZXdwb3Z0Y3BENWk3
OURWRU53N2w3L2NvSGNqK29UWW90dFZ2OFE9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----
"""
COSIGN_PUB = b"""\
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuu7lwjy/m6DhSOKVnppeKVO+Fsei
yJNKOc0cU/xtYTe7qzuaYDxmclzz4/M6zUTo3K5SG+Q92kpixpoInCcyrg==
-----END PUBLIC KEY-----
"""

HINT = "wrong password for this key (CONTAINMENT_KEY_PASSWORD / COSIGN_PASSWORD)"


@pytest.fixture(scope="module")
def pair() -> tuple[bytes, bytes]:
    return keys.generate(b"s3cret")


def _body(pem: bytes) -> dict:
    label, der = keys._unpem(pem, "t")
    assert label == keys.PRIVATE_LABEL
    return json.loads(der)


def _wrap(doc: object, label: str = keys.PRIVATE_LABEL) -> bytes:
    return keys._pem(label, json.dumps(doc).encode())


def _pub_equal(a: ec.EllipticCurvePublicKey, b: ec.EllipticCurvePublicKey) -> bool:
    return a.public_numbers() == b.public_numbers()


# ---------------------------------------------------------------------- format


def test_generated_private_key_is_cosigns_format(pair: tuple[bytes, bytes]) -> None:
    priv, pub = pair
    text = priv.decode()
    assert text.startswith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    assert text.endswith("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    assert all(len(line) <= 64 for line in text.splitlines())  # Go's encoding/pem line length
    doc = _body(priv)
    assert set(doc) == {"kdf", "cipher", "ciphertext"}
    assert doc["kdf"]["name"] == "scrypt"
    assert doc["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}
    assert len(base64.b64decode(doc["kdf"]["salt"], validate=True)) == 32
    assert doc["cipher"]["name"] == "nacl/secretbox"
    assert len(base64.b64decode(doc["cipher"]["nonce"], validate=True)) == 24
    # the plaintext is the PKCS#8 DER of a P-256 key; the box adds a 16-byte poly1305 tag
    sealed = base64.b64decode(doc["ciphertext"], validate=True)
    key = keys.parse_private(priv, b"s3cret")
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert len(sealed) == len(der) + 16
    assert isinstance(key.curve, ec.SECP256R1)
    assert pub.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert _pub_equal(keys.parse_public(pub), key.public_key())


def test_each_key_gets_its_own_salt_and_nonce() -> None:
    a, b = _body(keys.generate(b"x")[0]), _body(keys.generate(b"x")[0])
    assert a["kdf"]["salt"] != b["kdf"]["salt"]
    assert a["cipher"]["nonce"] != b["cipher"]["nonce"]


def test_a_key_cosign_made_loads_and_matches_its_public_key() -> None:
    key = keys.parse_private(COSIGN_KEY, b"pw", "cosign.key")
    assert _pub_equal(key.public_key(), keys.parse_public(COSIGN_PUB))


def test_the_old_cosign_label_is_read() -> None:
    doc_pem = keys.private_pem(ec.generate_private_key(ec.SECP256R1()), b"p")
    _, body = keys._unpem(doc_pem, "t")
    old = keys._pem("ENCRYPTED COSIGN PRIVATE KEY", body)
    assert isinstance(keys.parse_private(old, b"p"), ec.EllipticCurvePrivateKey)


def test_key_id_is_the_sha256_of_the_subject_public_key_info() -> None:
    pub = keys.parse_public(COSIGN_PUB)
    der = base64.b64decode(b"".join(COSIGN_PUB.splitlines()[1:-1]))
    assert keys.key_id(pub) == hashlib.sha256(der).hexdigest()
    assert keys.key_id(pub) != keys.key_id(ec.generate_private_key(ec.SECP256R1()).public_key())


# ---------------------------------------------------------------------- wrong password and damage


def test_wrong_password_is_one_line_naming_the_file(tmp_path: Path, pair: tuple[bytes, bytes]) -> None:
    path = tmp_path / "cosign.key"
    path.write_bytes(pair[0])
    with pytest.raises(ContainmentError) as e:
        keys.load_private(str(path), b"not it")
    assert str(e.value) == f"{path}: {HINT}"
    with pytest.raises(KeyFileError, match="wrong password"):
        keys.parse_private(COSIGN_KEY, b"")


def test_altered_ciphertext_is_refused(pair: tuple[bytes, bytes]) -> None:
    doc = _body(pair[0])
    sealed = bytearray(base64.b64decode(doc["ciphertext"]))
    sealed[-1] ^= 1
    doc["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    with pytest.raises(KeyFileError, match="wrong password"):  # the box cannot tell the two apart
        keys.parse_private(_wrap(doc), b"s3cret")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["kdf"].update(name="argon2"), "key derivation 'argon2' is not supported"),
        (lambda d: d["cipher"].update(name="aes-gcm"), "cipher 'aes-gcm' is not supported"),
        (lambda d: d["kdf"]["params"].update(N=1 << 24), "scrypt parameters N=16777216 r=8 p=1"),
        (lambda d: d["kdf"]["params"].update(r=1), "scrypt parameters N=32768 r=1 p=1"),
        (lambda d: d["kdf"]["params"].update(N="32768"), "field 'N' is not a int"),
        (lambda d: d["kdf"]["params"].update(p=True), "field 'p' is not a int"),
        (
            lambda d: d["cipher"].update(nonce=base64.b64encode(b"short").decode()),
            "'nonce' is 5 bytes, not 24",
        ),
        (lambda d: d["kdf"].update(salt="***"), "'salt' is not base64"),
        (lambda d: d.pop("ciphertext"), "no 'ciphertext' field"),
        (lambda d: d.pop("kdf"), "no 'kdf' field"),
        (lambda d: d.update(cipher=[]), "field 'cipher' is not a dict"),
    ],
)
def test_damaged_encrypted_key_is_one_line(
    pair: tuple[bytes, bytes], change: Callable[[dict], object], message: str
) -> None:
    doc = _body(pair[0])
    change(doc)
    with pytest.raises(KeyFileError) as e:
        keys.parse_private(_wrap(doc), b"s3cret", "k.key")
    assert str(e.value).startswith("k.key: ")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no PEM block"),
        (b"\x00\xff\xfe binary", "binary data"),
        (b"hello world\n", "no PEM block"),
        (b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabcd\n", "has no -----END"),
        (
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n!!!\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            "not valid base64",
        ),
        (
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nProc-Type: 4\n\nabcd\n"
            b"-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            "has headers",
        ),
        (keys._pem(keys.PRIVATE_LABEL, b"not json"), "body is not JSON"),
        (keys._pem(keys.PRIVATE_LABEL, b"[1, 2]"), "no 'kdf' field"),
        (COSIGN_PUB, "not a cosign private key"),
    ],
)
def test_not_a_private_key_is_one_line(data: bytes, message: str) -> None:
    with pytest.raises(KeyFileError) as e:
        keys.parse_private(data, b"pw", "x.key")
    assert str(e.value).startswith("x.key: ") and message in str(e.value) and "\n" not in str(e.value)


def test_unencrypted_keys_are_refused_with_the_import_hint() -> None:
    k = ec.generate_private_key(ec.SECP256R1())
    plain = k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyFileError, match="'PRIVATE KEY', not a cosign private key.*cosign import-key-pair"):
        keys.parse_private(plain, b"")


def test_a_non_ecdsa_key_inside_the_box_is_refused() -> None:
    r = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    der = r.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem = keys._pem(keys.PRIVATE_LABEL, keys.encrypt(der, b"p"))
    with pytest.raises(KeyFileError, match="RSAPrivateKey keys are not supported; use an ECDSA key"):
        keys.parse_private(pem, b"p")
    pem = keys._pem(keys.PRIVATE_LABEL, keys.encrypt(b"not DER at all", b"p"))
    with pytest.raises(KeyFileError, match="decrypted key is not a PKCS#8 private key"):
        keys.parse_private(pem, b"p")


def test_public_key_errors(pair: tuple[bytes, bytes]) -> None:
    with pytest.raises(KeyFileError, match="not a PUBLIC KEY \\(give the .pub file"):
        keys.parse_public(pair[0], "k")
    with pytest.raises(KeyFileError, match="not a valid SubjectPublicKeyInfo"):
        keys.parse_public(keys._pem("PUBLIC KEY", b"\x30\x03\x02\x01\x01"), "k")
    r = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    rpem = r.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyFileError, match="RSAPublicKey keys are not supported"):
        keys.parse_public(rpem, "k")
    p192 = ec.generate_private_key(ec.SECP192R1()).public_key()
    with pytest.raises(KeyFileError, match="curve secp192r1 is not supported; use P-256"):
        keys.parse_public(
            p192.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pub"
    with pytest.raises(KeyFileError, match=f"^{missing}: no such key file$"):
        keys.load_public(str(missing))
    with pytest.raises(KeyFileError, match="is a directory"):
        keys.load_public(str(tmp_path))
    big = tmp_path / "big.key"
    big.write_bytes(b"A" * (keys.MAX_KEY_FILE + 1))
    with pytest.raises(KeyFileError, match="too large to be a key file"):
        keys.load_private(str(big), b"")
    with pytest.raises(KeyFileError, match="too large to be a key file"):
        keys.parse_public(b"A" * (keys.MAX_KEY_FILE + 1), "k")


# ---------------------------------------------------------------------- password and writing


def test_password_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTAINMENT_KEY_PASSWORD", raising=False)
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    assert keys.password_from_env() == b""
    monkeypatch.setenv("COSIGN_PASSWORD", "cos")
    assert keys.password_from_env() == b"cos"
    monkeypatch.setenv("CONTAINMENT_KEY_PASSWORD", "ours")
    assert keys.password_from_env() == b"ours"
    monkeypatch.setenv("CONTAINMENT_KEY_PASSWORD", "")  # set but empty still counts, as in cosign
    assert keys.password_from_env() == b""


def test_write_keypair_modes_and_refusal(tmp_path: Path) -> None:
    prefix = str(tmp_path / "cosign")
    key_path, pub_path = keys.write_keypair(prefix, b"pw")
    assert (key_path, pub_path) == (Path(prefix + ".key"), Path(prefix + ".pub"))
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(pub_path).st_mode) & 0o077 in (0o044, 0o004, 0o040, 0)  # umask may narrow
    k = keys.load_private(str(key_path), b"pw")
    assert _pub_equal(k.public_key(), keys.load_public(str(pub_path)))
    before = key_path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists; refusing to overwrite"):
        keys.write_keypair(prefix, b"pw")
    assert key_path.read_bytes() == before
    keys.write_keypair(prefix, b"pw", force=True)
    assert key_path.read_bytes() != before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
    with pytest.raises(KeyFileError, match="no such directory"):
        keys.write_keypair(str(tmp_path / "missing" / "k"), b"pw")


# ---------------------------------------------------------------------- fuzz: only KeyFileError, ever


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    for call in (lambda: keys.parse_private(data, b"pw"), lambda: keys.parse_public(data)):
        try:
            call()
        except KeyFileError as e:
            assert "\n" not in str(e)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_fuzz_json_in_a_private_pem(doc: object) -> None:
    with pytest.raises(KeyFileError):
        keys.parse_private(_wrap(doc), b"pw")


@settings(max_examples=200, deadline=None)
@given(
    kdf=st.dictionaries(st.sampled_from(["name", "params", "salt"]), _json, max_size=3),
    cipher=st.dictionaries(st.sampled_from(["name", "nonce"]), _json, max_size=2),
    ciphertext=_json,
)
def test_fuzz_near_cosign_structure(kdf: dict, cipher: dict, ciphertext: object) -> None:
    with pytest.raises(KeyFileError):
        keys.parse_private(_wrap({"kdf": kdf, "cipher": cipher, "ciphertext": ciphertext}), b"pw")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_fuzz_bit_flips_in_a_real_key(pos: int, bit: int) -> None:
    """Any one flipped bit of a real key file gives KeyFileError or (in ignored text) the same key."""
    data = bytearray(COSIGN_KEY)
    data[pos % len(data)] ^= 1 << bit
    try:
        k = keys.parse_private(bytes(data), b"pw")
    except KeyFileError as e:
        assert "\n" not in str(e)
    else:
        assert _pub_equal(k.public_key(), keys.parse_public(COSIGN_PUB))
