"""Promotion between real registries: the image, every blob, its .sig and .att move only when the
gate passes; the copy has the source's digest, and the signature verifies in the target (ours and
cosign 2.5's). Within one registry blobs are mounted; across registries they are uploaded."""

from __future__ import annotations

import subprocess
import sys

import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci
from containment.model import ScanReport
from containment.service import ScanOptions
from containment.service.promote import promote
from containment.service.sign import resolve
from tests.conftest import base_layer, corpus_dir
from tests.e2e import sigstore_tools as st
from tests.e2e.registry import have_tools, start_registry

pytestmark = pytest.mark.e2e

why = have_tools()
if why:
    pytest.skip(why, allow_module_level=True)


@pytest.fixture(scope="module")
def regs(tmp_path_factory):
    w = tmp_path_factory.mktemp("promote")
    dev, prod = start_registry(w / "dev"), start_registry(w / "prod")
    r = st.containment("key", "generate", "--out", str(w / "k"))
    assert r.returncode == 0, r.stderr
    yield {"w": w, "dev": dev, "prod": prod}
    dev.stop()
    prod.stop()


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    adv = corpus_dir() / "advisories"
    if not adv.is_dir():
        pytest.skip(f"no corpus advisories at {adv} (set CONTAINMENT_CORPUS)")
    db = tmp_path_factory.mktemp("db") / "advisories.db"
    cmd = [sys.executable, "-m", "containment", "db", "import", str(adv), "--db", str(db), "-q"]
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=600).returncode == 0
    return str(db)


def no_high(report: ScanReport) -> tuple[bool, list[str]]:
    """A stand-in prod gate: no active HIGH or CRITICAL vulnerability."""
    bad = [
        f"{f.id} in {f.package.name} is {f.severity}"
        for f in report.active
        if f.severity in ("HIGH", "CRITICAL")
    ]
    return not bad, bad


def _image(path, version: str, config: dict | None = None, extra: bytes | None = None) -> str:
    layers = [base_layer(("libc6", version))] + ([extra] if extra else [])
    write_oci(
        str(path),
        ImageSpec(layers=layers, config=config or {}, history=[f"step {i}" for i in range(len(layers))]),
    )
    return f"oci:{path}:latest"


def test_clean_image_promoted_with_signature_across_registries(regs, corpus_db):
    w, dev, prod = regs["w"], regs["dev"], regs["prod"]
    src = dev.push(_image(w / "clean", "2.36-9", {"Env": ["PATH=/usr/bin"], "User": "app"}), "dev/app:1")
    assert st.containment("sign", src, "--key", str(w / "k.key"), "--plain-http").returncode == 0
    opts = ScanOptions(kind="image", plain_http=True, db=corpus_db)
    r = promote(src, f"{prod.host}/prod/app:1", no_high, plain_http=True, scan_options=opts)
    assert r.promoted, r.reasons
    assert r.copied.get("uploaded", 0) >= 2 and any(t.endswith(".sig") for t in r.attached)
    client, _, digest = resolve(f"{prod.host}/prod/app:1", plain_http=True)
    client.close()
    assert digest == r.digest  # byte-identical manifest
    ok = st.containment("verify", f"{prod.host}/prod/app:1", "--key", str(w / "k.pub"), "--plain-http")
    assert ok.returncode == 0, ok.stderr
    paths, why = st.sigstore_tools()
    if paths:
        cos = st.cosign_verify(f"{prod.host}/prod/app:1", w / "k.pub", w)
        assert cos.returncode == 0, cos.stderr
    assert r.previous == "" and r.config_diff["env"] == {"added": {"PATH": "/usr/bin"}}

    # the next version adds a debug port, an env var and a layer: the diff says so
    tools = layer_tar([TarEntry("usr/bin/gdb", b"\x7fELF")])
    cfg = {"Env": ["PATH=/usr/bin", "DEBUG=1"], "User": "root", "ExposedPorts": {"5005/tcp": {}}}
    src2 = dev.push(_image(w / "clean2", "2.36-9", cfg, tools), "dev/app:2")
    r2 = promote(src2, f"{prod.host}/prod/app:1", None, plain_http=True)
    assert r2.promoted and r2.previous == digest
    d = r2.config_diff
    assert d["env"] == {"added": {"DEBUG": "1"}}
    assert d["user"] == {"from": "app", "to": "root"}
    assert d["exposed_ports"] == {"added": ["5005/tcp"], "removed": []}
    assert d["layers"]["common"] == 1 and d["layers"]["added"][0]["created_by"] == "step 1"


def test_same_registry_mounts_and_cli(regs):
    w, dev = regs["w"], regs["dev"]
    src = dev.push(_image(w / "m", "2.36-7"), "dev/mount:1")
    assert st.containment("sign", src, "--key", str(w / "k.key"), "--plain-http").returncode == 0
    r = st.containment("promote", src, f"{dev.host}/prod/mount:1", "--plain-http", "--json")
    assert r.returncode == 0, r.stderr
    import json

    doc = json.loads(r.stdout)
    assert doc["promoted"] and doc["blobs"].get("mounted", 0) >= 2 and "uploaded" not in doc["blobs"]
    ok = st.containment("verify", f"{dev.host}/prod/mount:1", "--key", str(w / "k.pub"), "--plain-http")
    assert ok.returncode == 0, ok.stderr


def test_gate_refusal_copies_nothing(regs, corpus_image, corpus_db):
    img = corpus_image("debian-app")
    dev, prod = regs["dev"], regs["prod"]
    src = dev.push(img["refs"]["oci"], "dev/corpus-app:1")
    opts = ScanOptions(kind="image", plain_http=True, db=corpus_db)
    r = promote(src, f"{prod.host}/prod/corpus-app:1", no_high, plain_http=True, scan_options=opts)
    assert not r.promoted and r.reasons and not r.copied
    client, _, _ = resolve(f"{dev.host}/dev/corpus-app:1", plain_http=True)
    client.close()
    from containment.image.registry import RegistryClient, parse_reference

    c = RegistryClient(parse_reference(f"{prod.host}/prod/corpus-app:1"), plain_http=True)
    try:
        assert c.find_manifest("1") is None
    finally:
        c.close()


PROD_POLICY = """\
stages:
  prod:
    max_score: 60
    max_severity: {CRITICAL: 0, HIGH: 0}
    secrets: deny
    required_signatures: [{keys}]
"""


def test_cli_promote_under_a_prod_policy(regs, corpus_image, corpus_db):
    """The issue's promotion e2e through the CLI and the real policy: the corpus app image is
    refused for prod with the policy's reasons and nothing is copied; a clean signed image is
    promoted, and its digest and signature verify in the target registry."""
    w, dev, prod = regs["w"], regs["dev"], regs["prod"]
    policy = w / "prod.yaml"
    policy.write_text(PROD_POLICY.replace("{keys}", str(w / "k.pub")))
    app = dev.push(corpus_image("debian-app")["refs"]["oci"], "dev/cli-app:1")
    assert st.containment("sign", app, "--key", str(w / "k.key"), "--plain-http").returncode == 0
    args = [
        "--policy",
        str(policy),
        "--stage",
        "prod",
        "--key",
        str(w / "k.pub"),
        "--db",
        corpus_db,
        "--plain-http",
    ]
    r = st.containment("promote", app, f"{prod.host}/prod/cli-app:1", *args)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "max_severity" in r.stderr and "secrets" in r.stderr
    ls = st.containment("verify", f"{prod.host}/prod/cli-app:1", "--key", str(w / "k.pub"), "--plain-http")
    assert ls.returncode != 0  # nothing there
    clean = dev.push(_image(w / "cli-clean", "2.36-9", {"User": "app"}), "dev/cli-clean:1")
    unsigned = st.containment("promote", clean, f"{prod.host}/prod/cli-clean:1", *args)
    assert unsigned.returncode == 1 and "required_signatures" in unsigned.stderr
    assert st.containment("sign", clean, "--key", str(w / "k.key"), "--plain-http").returncode == 0
    ok = st.containment("promote", clean, f"{prod.host}/prod/cli-clean:1", *args, "--json")
    assert ok.returncode == 0, ok.stderr
    import json

    doc = json.loads(ok.stdout)
    assert doc["promoted"] and doc["decision"]["passed"]
    v = st.containment(
        "verify",
        f"{prod.host}/prod/cli-clean:1",
        "--key",
        str(w / "k.pub"),
        "--plain-http",
        "--policy",
        str(policy),
        "--stage",
        "prod",
        "--db",
        corpus_db,
    )
    assert v.returncode == 0, v.stderr
    client, _, digest = resolve(f"{prod.host}/prod/cli-clean:1", plain_http=True)
    client.close()
    assert digest == doc["digest"]


def test_gate_decision_attestation(regs, corpus_db):
    """`attest --predicate-type gate` signs the decision for exactly the digest judged;
    `verify --attestation gate` and cosign's verify-attestation accept it."""
    import json

    w, dev = regs["w"], regs["dev"]
    policy = w / "dev.yaml"
    policy.write_text("stages:\n  dev:\n    secrets: deny\n")
    src = dev.push(_image(w / "gated", "2.36-9", {"User": "app"}), "dev/gated:1")
    assert st.containment("sign", src, "--key", str(w / "k.key"), "--plain-http").returncode == 0
    r = st.containment(
        "attest",
        src,
        "--key",
        str(w / "k.key"),
        "--predicate-type",
        "gate",
        "--policy",
        str(policy),
        "--stage",
        "dev",
        "--db",
        corpus_db,
        "--plain-http",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tag"].endswith(".att")
    v = st.containment("verify", src, "--key", str(w / "k.pub"), "--attestation", "gate", "--plain-http")
    assert v.returncode == 0, v.stderr
    paths, _ = st.sigstore_tools()
    if paths:
        uri = "https://containment.dev/attestation/gate/v1"
        c = st.cosign_verify_attestation(src, w / "k.pub", w, uri)
        assert c.returncode == 0, c.stderr
        stmt = json.loads(__import__("base64").b64decode(json.loads(c.stdout.splitlines()[0])["payload"]))
        assert stmt["predicate"]["passed"] is True and stmt["predicate"]["stage"] == "dev"
    bad = st.containment("attest", src, "--key", str(w / "k.key"), "--predicate-type", "gate", "--plain-http")
    assert bad.returncode == 2 and "--policy" in bad.stderr
