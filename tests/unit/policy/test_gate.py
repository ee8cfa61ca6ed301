"""The gate: each rule failing and passing, exceptions (scope, expiry, approver), OpenVEX export
read back by our VEX reader, and base-image lineage on real OCI images built here."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from dataclasses import replace

import pytest

from containment.image.build import TarEntry, layer_tar
from containment.model import (
    FileFact,
    Finding,
    Inventory,
    LayerInfo,
    Location,
    Misconfiguration,
    Package,
    Rule,
    ScanReport,
    SecretFinding,
)
from containment.policy import exceptions as exc
from containment.policy.gate import Verified, debug_config, evaluate
from containment.policy.policyfile import parse_policy
from containment.policy.vex import parse_vex
from tests.conftest import base_layer

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
L0, L1, L2 = ("sha256:" + c * 64 for c in "abc")


def pkg(name: str, version: str, t: str = "deb", licenses: tuple[str, ...] = ()) -> Package:
    ns = "debian/" if t == "deb" else ""
    return Package(
        name, version, t, f"pkg:{t}/{ns}{name}@{version}", "var/lib/dpkg/status", "t", licenses=licenses
    )


def vuln(id_: str, p: Package, severity: str = "HIGH", fixed: tuple[str, ...] = ("9",)) -> Finding:
    return Finding(
        id_, (), p, "Debian:12", p.version, fixed, "fixed" if fixed else "affected", severity, "debian"
    )


def report(
    findings: tuple[Finding, ...] = (),
    packages: tuple[Package, ...] = (),
    *,
    target: str = "registry.example/team/app:1",
    layers: tuple[str, ...] = (L0, L1),
    config: dict | None = None,
    misconfigs: tuple[Misconfiguration, ...] = (),
    secrets: tuple[SecretFinding, ...] = (),
    files: tuple[FileFact, ...] = (),
    scanners: tuple[str, ...] = ("vuln", "secret", "config"),
) -> ScanReport:
    inv = Inventory(
        target,
        "image",
        None,
        packages or tuple(f.package for f in findings),
        layers=tuple(LayerInfo(i, d) for i, d in enumerate(layers)),
        image_digest="sha256:" + "d" * 64,
        config={"config": config or {}},
        files=files,
    )
    return ScanReport(inv, findings, misconfigurations=misconfigs, secrets=secrets, scanners=scanners)


def policy(text: str):
    return parse_policy(textwrap.dedent(text).lstrip("\n"), "policy.yaml")


def decide(rep: ScanReport, text: str, stage: str = "prod", **kw):
    return evaluate(rep, policy(text), stage, now=NOW, **kw)


LIBC = pkg("libc6", "2.36-9")
OPENSSL = pkg("openssl", "3.0.11-1")


def test_max_score_uses_the_score_given_or_computes_it():
    text = "stages:\n  prod:\n    max_score: 40\n"
    assert not decide(report(), text, score=41).passed
    d = decide(report(), text, score=40)
    assert d.passed and d.score == 40 and d.checked == ("max_score",)
    computed = decide(report((vuln("CVE-1", LIBC, "CRITICAL"),) * 1), text)  # containment.policy.score
    assert computed.score is not None and 0 <= computed.score <= 100
    assert decide(report(), text).passed


def test_max_severity_counts_active_and_optionally_only_fixable():
    findings = (
        vuln("CVE-1", LIBC, "CRITICAL"),
        vuln("CVE-2", OPENSSL, "CRITICAL", fixed=()),
        vuln("CVE-3", OPENSSL, "HIGH"),
    )
    d = decide(report(findings), "stages:\n  prod:\n    max_severity: {CRITICAL: 1, HIGH: 1}\n")
    assert not d.passed and [r.rule for r in d.reasons] == ["max_severity"]
    assert "2 CRITICAL vulnerabilities, over the limit 1: CVE-1, CVE-2" in d.reasons[0].message
    assert d.reasons[0].findings == (
        "CVE-1 pkg:deb/debian/libc6@2.36-9",
        "CVE-2 pkg:deb/debian/openssl@3.0.11-1",
    )
    fixable = "stages:\n  prod:\n    max_severity: {CRITICAL: 1}\n    fixable_only: true\n"
    assert decide(report(findings), fixable).passed
    suppressed = tuple(replace(f, suppressed=exc.Suppression("vex", "r", "v")) for f in findings)  # type: ignore[attr-defined]
    assert decide(report(suppressed), "stages:\n  prod:\n    max_severity: {CRITICAL: 0}\n").passed


def test_a_rule_whose_scanner_did_not_run_fails_closed():
    d = decide(
        report(scanners=("vuln",)), "stages:\n  prod:\n    secrets: deny\n    max_severity: {HIGH: 0}\n"
    )
    assert (
        not d.passed
        and d.reasons[0].rule == "secrets"
        and "secret scanner did not run" in d.reasons[0].message
    )


def test_banned_packages_and_licenses():
    text = """
    stages:
      prod:
        banned_packages: [pkg:deb/debian/openssl@<3.0.12, "pkg:npm/left-*"]
        banned_licenses: [GPL-3.0-only, AGPL-3.0-only]
    """
    pkgs = (
        OPENSSL,
        pkg("left-pad", "1.3.0", "npm", ("MIT",)),
        pkg("gplonly", "1", "npm", ("GPL-3.0-only",)),
        pkg("dual", "1", "npm", ("MIT OR GPL-3.0-only",)),
        pkg("both", "1", "npm", ("MIT AND AGPL-3.0-only",)),
        pkg("exc", "1", "npm", ("GPL-3.0-only WITH Classpath-exception-2.0",)),
    )
    d = decide(report(packages=pkgs), text)
    rules = [(r.rule, r.findings) for r in d.reasons]
    assert ("banned_packages", ("pkg:deb/debian/openssl@3.0.11-1",)) in rules
    assert ("banned_packages", ("pkg:npm/left-pad@1.3.0",)) in rules
    lic = {r.message.split(":")[0]: r.findings for r in d.reasons if r.rule == "banned_licenses"}
    assert set(lic) == {
        "banned license GPL-3.0-only",
        "banned license MIT AND AGPL-3.0-only",
        "banned license GPL-3.0-only WITH Classpath-exception-2.0",
    }  # MIT OR GPL-3.0-only can be taken as MIT
    clean = (pkg("openssl", "3.0.13-1"), pkg("right-pad", "1", "npm", ("MIT",)))
    assert decide(report(packages=clean), text).passed


def _secret() -> SecretFinding:
    return SecretFinding(
        Rule("CTM-SEC-001", "AWS key", "CRITICAL", "secret"), "AKIA****", Location("app/.env")
    )


def _mis(rule_id: str, severity: str, level: str = "deny", aliases: tuple[str, ...] = ()) -> Misconfiguration:
    return Misconfiguration(
        Rule(rule_id, "t", severity, "image", aliases=aliases),
        f"{rule_id} fired",
        Location(field="config.User"),
        level=level,
    )


def test_secrets_and_misconfigurations():
    text = """
    stages:
      prod:
        secrets: deny
        misconfigurations: {max_severity: {HIGH: 0}, deny: [CIS-4.1]}
    """
    d = decide(
        report(secrets=(_secret(),), misconfigs=(_mis("CTM-IMG-001", "HIGH", aliases=("CIS-4.1",)),)), text
    )
    assert [r.rule for r in d.reasons] == ["secrets", "misconfigurations", "misconfigurations"]
    assert "denied rule CIS-4.1 fails: CTM-IMG-001 fired" in d.reasons[2].message
    assert decide(report(misconfigs=(_mis("CTM-IMG-009", "LOW"), _mis("X", "HIGH", "warn"))), text).passed


def test_signatures_and_attestations_are_verified_facts_by_key():
    k1, k2 = "1" * 64, "2" * 64
    text = f"stages:\n  prod:\n    required_signatures: ['{k1}']\n    required_attestations: [vuln, gate]\n"
    vuln_t = "https://cosign.sigstore.dev/attestation/vuln/v1"
    gate_t = "https://containment.dev/attestation/gate/v1"
    d = decide(report(), text)
    assert [r.rule for r in d.reasons] == ["required_signatures", "required_attestations"]
    d = decide(report(), text, signatures=[k2], attestations=[Verified(k1, vuln_t), Verified(k2, gate_t)])
    assert "no verified signature by " + k1 in d.reasons[0].message
    assert d.reasons[1].findings == (gate_t,)  # signed by a key the stage does not name
    digest = "sha256:" + "d" * 64
    ok = decide(
        report(),
        text,
        signatures=[Verified(k1, digest=digest)],
        attestations=[Verified(k1, vuln_t), Verified(k1, gate_t)],
    )
    assert ok.passed
    other = decide(report(), text, signatures=[Verified(k1, digest="sha256:" + "e" * 64)])
    assert not other.passed and any("not this image" in n for n in other.notes)


def test_lineage_by_diff_ids():
    text = f"stages:\n  prod:\n    allowed_base_images:\n      - {{name: deb12, diff_ids: ['{L0}']}}\n"
    assert decide(report(layers=(L0, L1)), text).passed
    d = decide(report(layers=(L1, L0)), text)
    assert not d.passed and "match no approved base image: deb12 (1 layers)" in d.reasons[0].message
    two = f"stages:\n  prod:\n    allowed_base_images:\n      - diff_ids: ['{L0}', '{L2}']\n"
    assert not decide(report(layers=(L0, L1)), two).passed
    assert not decide(report(layers=(L0,)), two).passed  # shorter than the base
    unresolved = "stages:\n  prod:\n    allowed_base_images:\n      - ref: registry.example/base:12\n"
    d = decide(report(), unresolved)
    assert not d.passed and "not resolved to layers: registry.example/base:12" in d.reasons[0].message


def test_lineage_with_real_oci_images(make_oci, tmp_path):
    from containment.service.gate import gate
    from containment.service.scan import ScanOptions

    app = layer_tar([TarEntry("app", kind="dir"), TarEntry("app/run.sh", b"echo hi\n", mode=0o755)])
    other_base = base_layer(("libc6", "2.36-9"), ("zsh", "5.9-4"))
    make_oci([base_layer()], name="base")
    good = make_oci([base_layer(), app], name="good")
    bad = make_oci([other_base, app], name="bad")
    pol = tmp_path / "policy.yaml"
    pol.write_text("stages:\n  prod:\n    allowed_base_images:\n      - {name: debian, ref: 'oci:base'}\n")
    opts = ScanOptions(scanners=("secret", "config"), cache=False)
    _, d = gate("oci:" + good, str(pol), "prod", opts, now=NOW)
    assert d.passed, d.reasons
    rep, d = gate("oci:" + bad, str(pol), "prod", opts, now=NOW)
    assert not d.passed and d.reasons[0].rule == "allowed_base_images"
    assert d.reasons[0].findings == (rep.inventory.layers[0].diff_id,)
    pol.write_text("stages:\n  prod:\n    allowed_base_images:\n      - ref: 'oci:nowhere'\n")
    with pytest.raises(Exception, match="nowhere"):
        gate("oci:" + good, str(pol), "prod", opts, now=NOW)


def test_no_debug_absolute_and_since_the_previous_stage():
    text = "stages:\n  prod:\n    no_debug: true\n"
    dbg_cfg = {
        "ExposedPorts": {"8080/tcp": {}, "9229/tcp": {}},
        "Env": [
            "NODE_OPTIONS=--inspect=0.0.0.0:9229",
            "JAVA_TOOL_OPTIONS=-agentlib:jdwp=transport=dt_socket",
            "FLASK_DEBUG=0",
        ],
        "Entrypoint": ["dlv", "exec", "/app"],
    }
    gdb = FileFact("usr/bin/gdb", "tool")
    rep = report(config=dbg_cfg, files=(gdb,), packages=(pkg("bash", "5"),))
    d = decide(rep, text)
    msgs = " | ".join(r.message for r in d.reasons)
    assert "9229/tcp (Node.js inspector)" in msgs and "8080" not in msgs
    assert "NODE_OPTIONS=--inspect" in msgs and "JAVA_TOOL_OPTIONS" in msgs and "FLASK_DEBUG" not in msgs
    assert "Entrypoint dlv" in msgs and "debugger: gdb" in msgs and "shell" not in msgs
    clean = report(
        config={"ExposedPorts": {"8080/tcp": {}}, "Env": ["FLASK_DEBUG=false"]}, packages=(pkg("bash", "5"),)
    )
    assert decide(clean, text).passed
    # with the previous stage's image: only what was added fails, shells included
    assert decide(rep, text, previous=rep).passed
    prev = report(packages=(pkg("libc6", "2"),))
    d = decide(report(packages=(pkg("bash", "5"), pkg("strace", "6"))), text, previous=prev)
    assert {r.message for r in d.reasons} == {
        "debugger added since the previous stage: strace",
        "shell added since the previous stage: bash",
    }
    assert debug_config(clean).ports == frozenset()


EXC = """
stages: {{test: {{}}, prod: {{max_severity: {{HIGH: 0}}}}}}
exceptions:
  - id: {id}
    purl: "{purl}"
    image: "{image}"
    stages: [{stages}]
    reason: not reachable
    approver: alice@example.com
    expires: {expires}
"""


def _exc_policy(
    id_="CVE-1",
    purl="pkg:deb/debian/libc*",
    image="registry.example/team/*",
    stages="prod",
    expires="2026-12-31",
):
    return EXC.format(id=id_, purl=purl, image=image, stages=stages, expires=expires)


def test_exceptions_scope_every_dimension():
    rep = report((vuln("CVE-1", LIBC),))
    d = decide(rep, _exc_policy())
    assert d.passed and d.exceptions_applied[0].findings == ("CVE-1 pkg:deb/debian/libc6@2.36-9",)
    assert d.exceptions_applied[0].exception.approver == "alice@example.com"
    assert "applied to 1 finding(s): not reachable" in d.exceptions_applied[0].message
    for other in (
        _exc_policy(id_="CVE-2"),
        _exc_policy(purl="pkg:deb/debian/openssl"),
        _exc_policy(image="registry.example/other/*"),
        _exc_policy(stages="test"),
    ):
        assert not decide(rep, other).passed, other
    # aliases count; an image glob matches the target without its tag, and oci: targets too
    aliased = report((replace(vuln("GHSA-x", LIBC), aliases=("CVE-1",)),), target="oci:/build/team/img:1")
    assert decide(aliased, _exc_policy(image="/build/team/*")).passed
    d = evaluate(rep, policy(_exc_policy()), "prod", now=NOW)
    j = d.to_json()
    assert json.loads(json.dumps(j)) == j and j["exceptions_applied"][0]["approver"] == "alice@example.com"


def test_expired_exceptions_stop_applying_and_say_so():
    rep = report((vuln("CVE-1", LIBC),))
    d = decide(rep, _exc_policy(expires="2026-05-31"))
    assert not d.passed and not d.exceptions_applied
    (e,) = d.expired_exceptions
    assert "policy.yaml:3: exception CVE-1 (approved by alice@example.com) expired on 2026-05-31" in e.message
    assert "(1 finding count again)" in e.message and e.message in d.notes
    assert decide(rep, _exc_policy(expires="2026-06-01")).passed  # through the day it names


def test_exceptions_cover_misconfiguration_rules_but_not_by_purl():
    text = _exc_policy(id_="CTM-IMG-001", purl="pkg:deb/x").replace(
        "max_severity: {HIGH: 0}", "misconfigurations: {deny: [CTM-IMG-001]}"
    )
    rep = report(misconfigs=(_mis("CTM-IMG-001", "HIGH"),))
    assert not decide(rep, text).passed
    no_purl = text.replace('    purl: "pkg:deb/x"\n', "")
    assert decide(rep, no_purl).passed


def test_export_vex_loads_back_and_suppresses_the_same_findings():
    text = """
    stages: {prod: {}}
    exceptions:
      - {id: CVE-1, purl: "pkg:deb/debian/libc6", reason: not reachable, approver: a@x, expires: 2026-12-31}
      - {id: CVE-2, purl: "pkg:deb/debian/openssl", image: "registry.example/team/app", reason: r, approver: b@x, expires: 2026-12-31}
      - {id: CVE-3, purl: "pkg:deb/debian/openssl", reason: old, approver: c@x, expires: 2026-01-01}
      - {id: CTM-IMG-001, reason: root is fine here, approver: d@x, expires: 2026-12-31}
    """
    p = policy(text)
    doc, notes = exc.to_openvex(p.exceptions, source=p.source, author="sec@example.com", today=NOW.date())
    assert len(doc["statements"]) == 2
    assert any("CVE-3 expired" in n for n in notes) and any("CTM-IMG-001" in n for n in notes)
    vex = parse_vex(json.dumps(doc), "exported.json")
    assert not vex.warnings
    rep = report((vuln("CVE-1", LIBC), vuln("CVE-2", OPENSSL), vuln("CVE-3", OPENSSL)))
    applied, _ = vex.apply(rep.findings, inventory=rep.inventory)
    assert [f.suppressed is not None for f in applied] == [True, True, False]
    assert applied[0].suppressed.reason.startswith("not_affected: not reachable")  # type: ignore[union-attr]
    s = doc["statements"][0]
    assert s["status_notes"] == "approved by a@x; expires 2026-12-31"
