"""Signatures and attestations in a real registry, checked by real tools both ways.

Debian's docker-registry on loopback; cosign 2.5, skopeo 1.18 and podman 5.4 from trixie
(tests/e2e/sigstore_tools.py). What `containment sign`/`attest` writes, cosign verify /
verify-attestation, skopeo and podman (policy.json sigstoreSigned + matchRepository) accept;
what cosign signs, `containment verify` accepts. An unsigned image, one signed by another key,
one whose payload or signature annotation was altered, and one whose .sig was copied from another
digest are refused by all four.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from containment.image.build import ImageSpec, write_oci
from containment.supplychain import cosign as cs
from tests.conftest import base_layer, corpus_dir
from tests.e2e import sigstore_tools as st
from tests.e2e.registry import have_tools, start_registry

pytestmark = pytest.mark.e2e

why = have_tools()
if why:
    pytest.skip(why, allow_module_level=True)

CASES = ("good", "unsigned", "other-key", "payload-altered", "signature-altered", "copied-sig")


@pytest.fixture(scope="module")
def tools():
    paths, why = st.sigstore_tools()
    if not paths:
        pytest.skip(why)
    return paths


@pytest.fixture(scope="module")
def world(tools, tmp_path_factory):
    """A registry holding one image per case (distinct digests), signed or tampered as named."""
    w = tmp_path_factory.mktemp("sign")
    reg = start_registry(w / "reg")
    refs, digests = {}, {}
    for i, case in enumerate((*CASES, "cosign-signed", "attested")):
        d = w / f"img-{case}"
        write_oci(str(d), ImageSpec(layers=[base_layer(("libc6", f"2.36-{i + 1}"))]))
        refs[case] = reg.push(f"oci:{d}:latest", f"team/app:{case}")
    for k in ("ours", "other"):
        r = st.containment("key", "generate", "--out", str(w / k))
        assert r.returncode == 0, r.stderr
    for case in ("good", "payload-altered", "signature-altered", "copied-sig"):
        r = st.containment("sign", refs[case], "--key", str(w / "ours.key"), "--plain-http")
        assert r.returncode == 0, r.stderr
        digests[case] = r.stdout.split("@")[1].split()[0]
    r = st.containment("sign", refs["other-key"], "--key", str(w / "other.key"), "--plain-http")
    assert r.returncode == 0, r.stderr
    for case in ("unsigned", "other-key"):
        digests[case] = _digest(refs[case])
    # an attacker with push rights edits what is stored
    st.rewrite_attached(
        refs["payload-altered"],
        digests["payload-altered"],
        "sig",
        lambda ls: [
            [mt, data.replace(b'"optional":null', b'"optional":{"x":"y"}'), ann] for mt, data, ann in ls
        ],
    )
    good_sig = _sig_annotation(refs["good"], digests["good"])
    st.rewrite_attached(
        refs["signature-altered"],
        digests["signature-altered"],
        "sig",
        lambda ls: [[mt, data, {cs.SIGNATURE_ANNOTATION: good_sig}] for mt, data, ann in ls],
    )
    st.copy_attached(refs["good"], digests["good"], digests["copied-sig"])
    home = st.verifier_home(w / "verifiers", reg.host, w / "ours.pub")
    yield {"w": w, "reg": reg, "refs": refs, "digests": digests, "home": home}
    reg.stop()


def _digest(ref: str) -> str:
    from containment.service.sign import resolve

    client, _, digest = resolve(ref, plain_http=True)
    client.close()
    return digest


def _sig_annotation(ref: str, digest: str) -> str:
    from containment.image.registry import RegistryClient, parse_reference
    from containment.supplychain import oci

    c = RegistryClient(parse_reference(ref), plain_http=True)
    try:
        return oci.read(c, digest, "sig")[0].annotations[cs.SIGNATURE_ANNOTATION]
    finally:
        c.close()


@pytest.mark.parametrize("case", CASES)
def test_every_tool_agrees(world, case):
    """containment verify, cosign verify, skopeo copy and podman pull: all accept the signed
    image, all refuse each tampered one."""
    w, ref, home = world["w"], world["refs"][case], world["home"]
    ours = st.containment("verify", ref, "--key", str(w / "ours.pub"), "--plain-http")
    cos = st.cosign_verify(ref, w / "ours.pub", w)
    sko = st.skopeo_pull(ref, home)
    pod = st.podman_pull(ref, home)
    got = {
        "containment": ours.returncode,
        "cosign": cos.returncode,
        "skopeo": sko.returncode,
        "podman": pod.returncode,
    }
    if case == "good":
        assert got == dict.fromkeys(got, 0), (ours.stderr, cos.stderr, sko.stderr, pod.stderr)
        assert "verified" in ours.stdout
        return
    assert ours.returncode == 1, ours.stderr  # refused, not bad input
    assert all(v != 0 for v in got.values()), (got, cos.stderr, sko.stderr, pod.stderr)
    assert "refused" in ours.stderr and ours.stderr[-1] == "\n" and "Traceback" not in ours.stderr
    if case == "copied-sig":
        assert "copied from another image" in ours.stderr
    if case == "unsigned":
        assert "no signature stored" in ours.stderr


def test_containment_verifies_what_cosign_signed(world):
    w, ref = world["w"], world["refs"]["cosign-signed"]
    keydir = w / "cosign-keys"
    keydir.mkdir()
    assert st.cosign("generate-key-pair", cwd=keydir).returncode == 0
    digest = _digest(ref)
    r = st.cosign(
        "sign",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        "-y",
        f"{ref.split(':c')[0]}@{digest}",
        cwd=keydir,
    )
    assert r.returncode == 0, r.stderr
    ok = st.containment("verify", ref, "--key", str(keydir / "cosign.pub"), "--plain-http", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["verified"] is True
    other = st.containment("verify", ref, "--key", str(w / "ours.pub"), "--plain-http")
    assert other.returncode == 1
    # and cosign's key signs through containment too (its encrypted key format, cosign 2.5's scrypt N)
    r = st.containment(
        "sign", world["refs"]["cosign-signed"], "--key", str(keydir / "cosign.key"), "--plain-http"
    )
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    adv = corpus_dir() / "advisories"
    if not adv.is_dir():
        pytest.skip(f"no corpus advisories at {adv} (set CONTAINMENT_CORPUS)")
    db = tmp_path_factory.mktemp("db") / "advisories.db"
    r = subprocess.run(
        [sys.executable, "-m", "containment", "db", "import", str(adv), "--db", str(db), "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    return str(db)


def test_attestation_interop_and_tampered_predicate(world, corpus_db):
    w, ref = world["w"], world["refs"]["attested"]
    r = st.containment(
        "attest",
        ref,
        "--key",
        str(w / "ours.key"),
        "--predicate-type",
        "vuln",
        "--plain-http",
        "--db",
        corpus_db,
        "-q",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["predicate_type"] == cs.VULN_PREDICATE_TYPE
    cos = st.cosign_verify_attestation(ref, w / "ours.pub", w)
    assert cos.returncode == 0, cos.stderr
    payload = json.loads(base64.b64decode(json.loads(cos.stdout.splitlines()[0])["payload"]))
    assert payload["subject"][0]["digest"]["sha256"] == out["digest"].split(":")[1]
    result = payload["predicate"]["scanner"]["result"]
    assert result["image_digest"] or result["target"]
    ok = st.containment("verify", ref, "--key", str(w / "ours.pub"), "--attestation", "vuln", "--plain-http")
    assert ok.returncode == 1 and "no signature stored" in ok.stderr  # attested, never signed
    assert st.containment("sign", ref, "--key", str(w / "ours.key"), "--plain-http").returncode == 0
    ok = st.containment("verify", ref, "--key", str(w / "ours.pub"), "--attestation", "vuln", "--plain-http")
    assert ok.returncode == 0, ok.stderr

    def tamper(layers):
        out = []
        for mt, data, ann in layers:
            env = json.loads(data)
            st_doc = json.loads(base64.b64decode(env["payload"]))
            st_doc["predicate"]["scanner"]["result"]["vulnerabilities"] = []
            st_doc["predicate"]["scanner"]["result"]["score"] = {"score": 0}
            env["payload"] = base64.b64encode(json.dumps(st_doc).encode()).decode()
            out.append([mt, json.dumps(env).encode(), ann])
        return out

    st.rewrite_attached(ref, out["digest"], "att", tamper)
    bad = st.containment("verify", ref, "--key", str(w / "ours.pub"), "--attestation", "vuln", "--plain-http")
    assert bad.returncode == 1 and "attestation" in bad.stderr, bad.stderr
    assert st.cosign_verify_attestation(ref, w / "ours.pub", w).returncode != 0


def test_wrong_password_is_one_line_exit_2(world):
    w = world["w"]
    r = st.containment(
        "sign",
        world["refs"]["good"],
        "--key",
        str(w / "ours.key"),
        "--plain-http",
        env={"CONTAINMENT_KEY_PASSWORD": "not it"},
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "ours.key" in r.stderr and "Traceback" not in r.stderr
