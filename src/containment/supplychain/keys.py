"""Signing keys in cosign's formats, so cosign loads our keys and we load cosign's.

A key pair is ECDSA P-256. The public key is a PEM `PUBLIC KEY` block (DER SubjectPublicKeyInfo),
as cosign's `cosign.pub`. The private key is cosign's `cosign.key`: a PEM block labelled
`ENCRYPTED SIGSTORE PRIVATE KEY` (cosign also reads `ENCRYPTED COSIGN PRIVATE KEY`, the label of
keys made before sigstore's rename) whose body is the JSON document of go-securesystemslib's
`encrypted` package (encrypted/encrypted.go), the one cosign's pkg/cosign/keys.go calls:

    {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": b64(32 bytes)},
     "cipher": {"name": "nacl/secretbox", "nonce": b64(24 bytes)},
     "ciphertext": b64(secretbox(PKCS#8 DER of the key, scrypt(password, salt)))}

(base64 is the standard alphabet with padding: Go's encoding of []byte in JSON.) We write N=32768
(the "legacy" parameters every cosign release reads; cosign 2.5 itself writes N=65536) and read
the three parameter sets go-securesystemslib accepts (N = 2^15, 2^16, 2^17 with r=8, p=1):
any other set is refused before scrypt runs, so a crafted key cannot make us burn memory or time.

The password comes from the environment (`password_from_env`); a wrong one is one line naming
the key file and the two variables, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from containment.atomicfile import write_atomic
from containment.model import ContainmentError

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey

PRIVATE_LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY"  # what cosign >= 1.x writes by default
PRIVATE_LABELS = (PRIVATE_LABEL, "ENCRYPTED COSIGN PRIVATE KEY")  # what cosign's LoadPrivateKey reads
PUBLIC_LABEL = "PUBLIC KEY"

PASSWORD_ENV = ("CONTAINMENT_KEY_PASSWORD", "COSIGN_PASSWORD")

SCRYPT_N, SCRYPT_R, SCRYPT_P = 32768, 8, 1  # go-securesystemslib's "legacy" set: read by every cosign
ACCEPTED_SCRYPT = frozenset({(32768, 8, 1), (65536, 8, 1), (131072, 8, 1)})  # Legacy, Standard, OWASP
SALT_SIZE = 32
KEY_SIZE = 32  # nacl secretbox key
NONCE_SIZE = 24  # nacl secretbox nonce
MAX_KEY_FILE = 64 * 1024  # a cosign key file is ~700 bytes; anything past this is not one
_SCRYPT_MAXMEM = 256 * 1024 * 1024  # 128 * r * N for N=2^17 is 128 MiB; OpenSSL wants headroom

_PASSWORD_HINT = "CONTAINMENT_KEY_PASSWORD / COSIGN_PASSWORD"


class KeyFileError(ContainmentError):
    """A key file that cannot be read or used (not a key, unsupported kind, wrong password)."""


# ---------------------------------------------------------------------------- PEM


def _pem(label: str, der: bytes) -> bytes:
    """One PEM block, 64 base64 characters a line, as Go's encoding/pem writes it."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n").encode("ascii")


def _unpem(data: bytes, where: str) -> tuple[str, bytes]:
    """The label and body of the first PEM block in `data` (text before it is ignored, as Go's
    pem.Decode does). PEM headers (`Proc-Type: ...`) are refused: no key cosign reads has them."""
    if len(data) > MAX_KEY_FILE:
        raise KeyFileError(f"{where}: {MAX_KEY_FILE // 1024} KiB or more, too large to be a key file")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise KeyFileError(
            f"{where}: not a PEM key file (binary data); give a cosign.key / cosign.pub"
        ) from None
    lines = [ln.strip() for ln in text.splitlines()]
    begin = next(
        (i for i, ln in enumerate(lines) if ln.startswith("-----BEGIN ") and ln.endswith("-----")), None
    )
    if begin is None:
        raise KeyFileError(
            f"{where}: no PEM block (-----BEGIN ...-----) found; give a cosign.key / cosign.pub"
        )
    label = lines[begin][len("-----BEGIN ") : -len("-----")]
    end_line = f"-----END {label}-----"
    end = next((i for i in range(begin + 1, len(lines)) if lines[i] == end_line), None)
    if end is None:
        raise KeyFileError(f"{where}: PEM block {label!r} has no {end_line} line; the file is cut short")
    body = "".join(lines[begin + 1 : end])
    if ":" in body:
        raise KeyFileError(f"{where}: PEM block {label!r} has headers, which no cosign key has")
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{where}: PEM block {label!r} is not valid base64; the file is damaged") from None
    return label, der


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such key file") from None
    except IsADirectoryError:
        raise KeyFileError(f"{path}: is a directory, not a key file") from None
    except OSError as e:
        raise KeyFileError(f"{path}: cannot read the key file ({e.strerror or type(e).__name__})") from None
    if len(data) > MAX_KEY_FILE:
        raise KeyFileError(f"{path}: {MAX_KEY_FILE // 1024} KiB or more, too large to be a key file")
    return data


# ---------------------------------------------------------------------------- encrypted box


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=KEY_SIZE)


def encrypt(plaintext: bytes, password: bytes) -> bytes:
    """go-securesystemslib's encrypted.Encrypt: the JSON document (bytes) holding `plaintext`
    sealed under scrypt(password) with a fresh salt and nonce."""
    salt = secrets.token_bytes(SALT_SIZE)
    nonce = secrets.token_bytes(NONCE_SIZE)
    box = nacl.secret.SecretBox(_scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
    sealed = box.encrypt(plaintext, nonce).ciphertext  # poly1305 tag + ciphertext, nonce apart
    doc = {
        "kdf": {
            "name": "scrypt",
            "params": {"N": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
            "salt": base64.b64encode(salt).decode("ascii"),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode("ascii")},
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
    }
    return json.dumps(doc, separators=(",", ":")).encode("ascii")


def _field(doc: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(doc, dict) or key not in doc:
        raise KeyFileError(f"{where}: encrypted key has no {key!r} field; not a cosign key, or damaged")
    value = doc[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KeyFileError(
            f"{where}: encrypted key field {key!r} is not a {kind.__name__}; the file is damaged"
        )
    return value


def _b64(doc: Any, key: str, where: str, size: int | None = None) -> bytes:
    text = _field(doc, key, str, where)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(
            f"{where}: encrypted key field {key!r} is not base64; the file is damaged"
        ) from None
    if size is not None and len(raw) != size:
        raise KeyFileError(f"{where}: encrypted key field {key!r} is {len(raw)} bytes, not {size}; damaged")
    return raw


def decrypt(blob: bytes, password: bytes, where: str) -> bytes:
    """go-securesystemslib's encrypted.Decrypt, with one-line errors naming `where`."""
    try:
        doc = json.loads(blob)
    except (ValueError, RecursionError):
        raise KeyFileError(f"{where}: encrypted key body is not JSON; not a cosign key, or damaged") from None
    kdf = _field(doc, "kdf", dict, where)
    cipher = _field(doc, "cipher", dict, where)
    if _field(kdf, "name", str, where) != "scrypt":
        raise KeyFileError(
            f"{where}: key derivation {kdf['name']!r} is not supported (cosign keys use scrypt)"
        )
    if _field(cipher, "name", str, where) != "nacl/secretbox":
        raise KeyFileError(
            f"{where}: cipher {cipher['name']!r} is not supported (cosign keys use nacl/secretbox)"
        )
    params = _field(kdf, "params", dict, where)
    n, r, p = (_field(params, k, int, where) for k in ("N", "r", "p"))
    if (n, r, p) not in ACCEPTED_SCRYPT:
        raise KeyFileError(
            f"{where}: scrypt parameters N={n} r={r} p={p} are not ones cosign writes; refusing the key"
        )
    salt = _b64(kdf, "salt", where)
    nonce = _b64(cipher, "nonce", where, NONCE_SIZE)
    sealed = _b64(doc, "ciphertext", where)
    box = nacl.secret.SecretBox(_scrypt(password, salt, n, r, p))
    try:
        return box.decrypt(sealed, nonce)
    except nacl.exceptions.CryptoError:
        raise KeyFileError(f"{where}: wrong password for this key ({_PASSWORD_HINT})") from None


# ---------------------------------------------------------------------------- keys


def _check_ec(key: object, where: str) -> None:
    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        raise KeyFileError(
            f"{where}: {type(key).__name__} keys are not supported; use an ECDSA key (cosign's)"
        )
    if not isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1 | ec.SECP521R1):
        raise KeyFileError(f"{where}: ECDSA curve {key.curve.name} is not supported; use P-256 (cosign's)")


def private_pem(key: PrivateKey, password: bytes) -> bytes:
    """`key` as cosign writes a private key: PKCS#8 DER, encrypted, in an ENCRYPTED SIGSTORE PRIVATE KEY block."""
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _pem(PRIVATE_LABEL, encrypt(der, password))


def public_pem(key: PublicKey) -> bytes:
    """`key` as cosign writes a public key: a PEM PUBLIC KEY block around the SubjectPublicKeyInfo."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate(password: bytes) -> tuple[bytes, bytes]:
    """A new ECDSA P-256 key pair: (private PEM in cosign's encrypted format, public PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return private_pem(key, password), public_pem(key.public_key())


def parse_private(data: bytes, password: bytes, where: str = "private key") -> PrivateKey:
    """A private key from the bytes of a cosign.key file; `where` names it in errors."""
    label, body = _unpem(data, where)
    if label not in PRIVATE_LABELS:
        raise KeyFileError(
            f"{where}: PEM block is {label!r}, not a cosign private key ({PRIVATE_LABEL}); "
            "import other keys with `cosign import-key-pair`"
        )
    der = decrypt(body, password, where)
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise KeyFileError(
            f"{where}: decrypted key is not a PKCS#8 private key; the file is damaged"
        ) from None
    _check_ec(key, where)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def parse_public(data: bytes, where: str = "public key") -> PublicKey:
    """A public key from the bytes of a cosign.pub file; `where` names it in errors."""
    label, der = _unpem(data, where)
    if label != PUBLIC_LABEL:
        hint = " (give the .pub file, not the private key)" if "PRIVATE" in label else ""
        raise KeyFileError(f"{where}: PEM block is {label!r}, not a {PUBLIC_LABEL}{hint}")
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        raise KeyFileError(f"{where}: not a valid SubjectPublicKeyInfo; the file is damaged") from None
    _check_ec(key, where)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def load_private(path: str, password: bytes) -> PrivateKey:
    """The private key in the cosign.key file at `path`, decrypted with `password`.

    Raises KeyFileError (a ContainmentError) with one line: "<path>: wrong password for this key
    (CONTAINMENT_KEY_PASSWORD / COSIGN_PASSWORD)", or naming the file and what is wrong with it."""
    return parse_private(_read(path), password, path)


def load_public(path: str) -> PublicKey:
    """The public key in the PEM file at `path` (cosign.pub)."""
    return parse_public(_read(path), path)


def password_from_env() -> bytes:
    """The key password: CONTAINMENT_KEY_PASSWORD, else COSIGN_PASSWORD, else b"" (no password).

    A variable that is set counts even when empty, as in cosign (os.LookupEnv). When neither is
    set, cosign prompts on a terminal (twice when making a key) or, with stdin not a terminal,
    reads stdin to its end as the password; we do neither (no prompt in a pipeline or a server):
    the password is empty, and a key encrypted with another one fails with the one-line error."""
    for name in PASSWORD_ENV:
        if name in os.environ:
            return os.fsencode(os.environ[name])  # the bytes as set, even when not UTF-8
    return b""


def write_keypair(prefix: str, password: bytes, force: bool = False) -> tuple[Path, Path]:
    """A new key pair written to PREFIX.key (mode 0600) and PREFIX.pub (0644), as
    `cosign generate-key-pair --output-key-prefix PREFIX` does. Refuses (KeyFileError) to
    replace either file unless `force`. Returns the two paths."""
    key_path, pub_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    if not force:
        for p in (key_path, pub_path):
            if p.exists():
                raise KeyFileError(
                    f"{p}: already exists; refusing to overwrite a key (remove it or use --force)"
                )
    if not key_path.parent.is_dir():
        raise KeyFileError(f"{key_path.parent}: no such directory for the key files")
    private, public = generate(password)
    write_atomic(key_path, private, 0o600)
    write_atomic(pub_path, public, 0o644)
    return key_path, pub_path


def key_id(public: PublicKey) -> str:
    """sha256 (hex) of the key's DER SubjectPublicKeyInfo: how a policy names a key."""
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()
