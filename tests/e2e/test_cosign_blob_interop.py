"""Interop with the real cosign 2.5 (Debian trixie's .deb), without a registry: keys both ways,
signatures both ways (sign-blob / verify-blob), attestations both ways (attest-blob /
verify-blob-attestation), and each tampering refused by cosign and by us alike.

cosign comes from $COSIGN, else ~/.cache/containment-tools/cosign/usr/bin/cosign ($CONTAINMENT_TOOLS
moves the cache), fetched there on first use with ../shared/tools/trixie-deb.sh (private apt
state; nothing in /etc or /var changes). The module skips, saying why, when it cannot be had.
Everything runs offline: no transparency log (--tlog-upload=false / --insecure-ignore-tlog).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from containment.model import Inventory, ScanReport
from containment.supplychain import cosign as c
from containment.supplychain import keys
from containment.supplychain.cosign import SignatureError

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("CONTAINMENT_TOOLS", Path.home() / ".cache" / "containment-tools"))
TRIXIE_DEB = ROOT.parent / "shared" / "tools" / "trixie-deb.sh"
PASSWORD = "correct horse"

Run = Callable[..., "subprocess.CompletedProcess[str]"]
Pair = tuple[Path, Path]  # PREFIX.key, PREFIX.pub
Blob = tuple[Path, str]  # the file, its sha256 digest


def _cosign() -> tuple[str | None, str]:
    """(path to cosign 2.x, "") or (None, why not)."""
    given = os.environ.get("COSIGN")
    exe = given or str(TOOLS / "cosign" / "usr" / "bin" / "cosign")
    if not os.access(exe, os.X_OK):
        if given:
            return None, f"$COSIGN={given} is not an executable"
        if not TRIXIE_DEB.exists():
            return None, f"cosign 2.5 not at {exe} and {TRIXIE_DEB} (which fetches it) is absent"
        try:
            r = subprocess.run(
                ["bash", str(TRIXIE_DEB), str(TOOLS / "cosign"), "cosign"],
                capture_output=True,
                text=True,
                timeout=600,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, f"could not fetch cosign 2.5 with {TRIXIE_DEB.name}: {e}"
        if r.returncode or not os.access(exe, os.X_OK):
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            return None, f"could not fetch cosign 2.5 from Debian trixie ({TRIXIE_DEB.name}: {last})"
    version = _version(exe)
    if not version.lstrip("v").startswith("2."):
        return None, f"{exe} is cosign {version}; these tests are written against cosign 2.5"
    return exe, ""


def _version(exe: str) -> str:
    """cosign's version; Debian's build says "devel", so its package changelog is read instead."""
    out = subprocess.run([exe, "version", "--json"], capture_output=True, text=True, timeout=60)
    try:
        version = str(json.loads(out.stdout)["gitVersion"])
    except (ValueError, KeyError, TypeError):
        return f"unknown ({out.stderr.strip()[:200]})"
    changelog = Path(exe).resolve().parent.parent / "share" / "doc" / "cosign" / "changelog.Debian.gz"
    if version == "devel" and changelog.exists():
        first = gzip.decompress(changelog.read_bytes()).decode(errors="replace").splitlines()[0]
        version = first.split("(", 1)[1].split(")", 1)[0]  # "cosign (2.5.0-2) unstable; ..." -> 2.5.0-2
    return version


@pytest.fixture(scope="module")
def cosign_exe() -> str:
    exe, why = _cosign()
    if exe is None:
        pytest.skip(why)
    return exe


@pytest.fixture
def run(cosign_exe: str, tmp_path: Path) -> Run:
    home = tmp_path / "home"
    home.mkdir()

    def call(*args: str, password: str | None = PASSWORD) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "TUF_ROOT": str(home / "tuf"),
        }
        if password is not None:
            env["COSIGN_PASSWORD"] = password
        return subprocess.run(
            [cosign_exe, *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
        )

    return call


def _ok(r: subprocess.CompletedProcess[str]) -> None:
    assert r.returncode == 0, f"cosign failed ({r.returncode}): {r.stderr.strip()[-800:]}"


def _refused(r: subprocess.CompletedProcess[str]) -> None:
    assert r.returncode != 0, f"cosign accepted what it should refuse: {r.stdout}{r.stderr}"


@pytest.fixture
def blob(tmp_path: Path) -> tuple[Path, str]:
    p = tmp_path / "artifact.bin"
    p.write_bytes(b"containment interop artifact\n" * 10)
    return p, "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def ours(tmp_path: Path) -> tuple[Path, Path]:
    return keys.write_keypair(str(tmp_path / "ours"), PASSWORD.encode())


# ---------------------------------------------------------------------- keys


def test_cosign_generated_keys_load_in_ours(run: Run, tmp_path: Path) -> None:
    _ok(run("generate-key-pair", "--output-key-prefix", "theirs"))
    key = keys.load_private(str(tmp_path / "theirs.key"), PASSWORD.encode())
    pub = keys.load_public(str(tmp_path / "theirs.pub"))
    assert key.public_key().public_numbers() == pub.public_numbers()
    doc = json.loads(keys._unpem((tmp_path / "theirs.key").read_bytes(), "t")[1])
    assert doc["kdf"]["params"]["N"] in (32768, 65536)  # cosign 2.5 writes 65536; we read both
    with pytest.raises(keys.KeyFileError) as e:
        keys.load_private(str(tmp_path / "theirs.key"), b"wrong")
    assert (
        str(e.value)
        == f"{tmp_path / 'theirs.key'}: wrong password for this key (CONTAINMENT_KEY_PASSWORD / COSIGN_PASSWORD)"
    )


def test_our_keys_sign_and_verify_in_cosign(run: Run, ours: Pair, blob: Blob) -> None:
    (key_path, pub_path), (artifact, _) = ours, blob
    _ok(
        run(
            "sign-blob",
            "--key",
            str(key_path),
            "--tlog-upload=false",
            "--output-signature",
            "c.sig",
            "-y",
            str(artifact),
        )
    )
    _ok(
        run(
            "verify-blob",
            "--key",
            str(pub_path),
            "--insecure-ignore-tlog",
            "--signature",
            "c.sig",
            str(artifact),
        )
    )
    # ... and cosign's signature with our key verifies in ours
    sig = (artifact.parent / "c.sig").read_text().strip()
    assert c.verify_signature(keys.load_public(str(pub_path)), artifact.read_bytes(), sig)
    # cosign refuses our key with the wrong password
    _refused(
        run("sign-blob", "--key", str(key_path), "--tlog-upload=false", "-y", str(artifact), password="nope")
    )


def test_our_key_with_an_empty_password_works_in_cosign(run: Run, tmp_path: Path, blob: Blob) -> None:
    key_path, pub_path = keys.write_keypair(str(tmp_path / "nopw"), b"")
    artifact, _ = blob
    _ok(
        run(
            "sign-blob",
            "--key",
            str(key_path),
            "--tlog-upload=false",
            "--output-signature",
            "e.sig",
            "-y",
            str(artifact),
            password="",
        )
    )
    _ok(
        run(
            "verify-blob",
            "--key",
            str(pub_path),
            "--insecure-ignore-tlog",
            "--signature",
            "e.sig",
            str(artifact),
        )
    )


# ---------------------------------------------------------------------- signatures


def test_our_signature_verifies_in_cosign_and_tampering_is_refused(
    run: Run, ours: Pair, blob: Blob, tmp_path: Path
) -> None:
    (key_path, pub_path), (artifact, _) = ours, blob
    key = keys.load_private(str(key_path), PASSWORD.encode())
    (tmp_path / "ours.sig").write_text(c.sign(key, artifact.read_bytes()))
    _ok(
        run(
            "verify-blob",
            "--key",
            str(pub_path),
            "--insecure-ignore-tlog",
            "--signature",
            "ours.sig",
            str(artifact),
        )
    )
    altered = tmp_path / "altered.bin"
    altered.write_bytes(artifact.read_bytes() + b"x")
    _refused(
        run(
            "verify-blob",
            "--key",
            str(pub_path),
            "--insecure-ignore-tlog",
            "--signature",
            "ours.sig",
            str(altered),
        )
    )
    _ok(run("generate-key-pair", "--output-key-prefix", "other"))
    _refused(
        run(
            "verify-blob",
            "--key",
            "other.pub",
            "--insecure-ignore-tlog",
            "--signature",
            "ours.sig",
            str(artifact),
        )
    )


def test_cosign_signature_verifies_in_ours(run: Run, blob: Blob, tmp_path: Path) -> None:
    artifact, _ = blob
    _ok(run("generate-key-pair", "--output-key-prefix", "theirs"))
    _ok(
        run(
            "sign-blob",
            "--key",
            "theirs.key",
            "--tlog-upload=false",
            "--output-signature",
            "t.sig",
            "-y",
            str(artifact),
        )
    )
    sig = (tmp_path / "t.sig").read_text().strip()
    pub = keys.load_public(str(tmp_path / "theirs.pub"))
    assert c.verify_signature(pub, artifact.read_bytes(), sig)
    assert not c.verify_signature(pub, artifact.read_bytes() + b"x", sig)
    other = keys.parse_public(keys.generate(b"")[1])
    assert not c.verify_signature(other, artifact.read_bytes(), sig)


# ---------------------------------------------------------------------- attestations


def _report(digest: str) -> ScanReport:
    return ScanReport(Inventory("artifact.bin", "image", None, (), image_digest=digest), ())


def test_our_attestation_verifies_in_cosign_and_tampering_is_refused(
    run: Run, ours: Pair, blob: Blob, tmp_path: Path
) -> None:
    (key_path, pub_path), (artifact, digest) = ours, blob
    key = keys.load_private(str(key_path), PASSWORD.encode())
    predicate = c.vuln_predicate(_report(digest), {"score": 12})
    env = c.dsse_envelope(key, c.statement(artifact.name, digest, c.VULN_PREDICATE_TYPE, predicate))
    (tmp_path / "ours.att").write_bytes(env)

    def verify(name: str, predicate_type: str = "vuln") -> subprocess.CompletedProcess[str]:
        return run(
            "verify-blob-attestation", "--key", str(pub_path), "--insecure-ignore-tlog",
            "--signature", name, "--type", predicate_type, str(artifact),
        )  # fmt: skip

    _ok(verify("ours.att"))
    # our own gate predicate type (a URI cosign has no short name for)
    gate = c.dsse_envelope(
        key, c.statement(artifact.name, digest, c.GATE_PREDICATE_TYPE, {"decision": "pass"})
    )
    (tmp_path / "gate.att").write_bytes(gate)
    _ok(verify("gate.att", c.GATE_PREDICATE_TYPE))
    _refused(verify("gate.att", "vuln"))  # wrong predicate type

    # tampered predicate, signature kept: refused by cosign and by us
    doc = json.loads(env)
    st = json.loads(base64.b64decode(doc["payload"]))
    st["predicate"]["scanner"]["result"]["score"] = {"score": 0}
    doc["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    (tmp_path / "tampered.att").write_bytes(json.dumps(doc).encode())
    _refused(verify("tampered.att"))
    with pytest.raises(SignatureError, match="does not verify"):
        c.verify_dsse(keys.load_public(str(pub_path)), json.dumps(doc).encode(), digest)

    # a validly signed attestation about another digest: refused by cosign and by us
    other_digest = "sha256:" + hashlib.sha256(b"another artifact").hexdigest()
    copied = c.dsse_envelope(key, c.statement(artifact.name, other_digest, c.VULN_PREDICATE_TYPE, predicate))
    (tmp_path / "copied.att").write_bytes(copied)
    _refused(verify("copied.att"))
    with pytest.raises(SignatureError, match="copied from another image"):
        c.verify_dsse(keys.load_public(str(pub_path)), copied, digest)


def test_cosign_attestation_of_our_predicate_verifies_in_ours(
    run: Run, ours: Pair, blob: Blob, tmp_path: Path
) -> None:
    (key_path, pub_path), (artifact, digest) = ours, blob
    predicate = c.vuln_predicate(_report(digest), {"score": 12})
    (tmp_path / "pred.json").write_text(json.dumps(predicate))
    _ok(
        run(
            "attest-blob",
            "--key",
            str(key_path),
            "--tlog-upload=false",
            "--predicate",
            "pred.json",
            "--type",
            "vuln",
            "--output-signature",
            "cos.att",
            "-y",
            str(artifact),
        )  # fmt: skip
    )
    env = (tmp_path / "cos.att").read_bytes()
    pub = keys.load_public(str(pub_path))
    st = c.verify_dsse(pub, env, digest, "vuln")
    assert st["predicate"]["scanner"]["result"]["score"] == {"score": 12}
    with pytest.raises(SignatureError, match="copied from another image"):
        c.verify_dsse(pub, env, "sha256:" + "0" * 64, "vuln")
    with pytest.raises(SignatureError, match="predicate type"):
        c.verify_dsse(pub, env, digest, "gate")
