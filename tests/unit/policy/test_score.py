"""The risk score: its properties (hypothesis), its breakdown and actions, worked examples."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.advisories.exploits import EpssEntry, ExploitData, KevEntry
from containment.model import (
    CVSS,
    Finding,
    Inventory,
    Location,
    Misconfiguration,
    Package,
    Rule,
    ScanReport,
    SecretFinding,
    Suppression,
)
from containment.policy import score as sc

SEVS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN")
Item = Finding | SecretFinding | Misconfiguration


def pkg(name: str = "openssl", version: str = "3.0.11-1", typ: str = "deb", source: str = "") -> Package:
    return Package(
        name, version, typ, f"pkg:{typ}/{name}@{version}", "var/lib/dpkg/status", "dpkg", source_name=source
    )


def vuln(
    vid: str = "CVE-2024-0001",
    severity: str = "HIGH",
    fixed: tuple[str, ...] = ("3.0.13-1",),
    cvss: float | None = None,
    package: Package | None = None,
    aliases: tuple[str, ...] = (),
    eco: str = "Debian:12",
) -> Finding:
    p = package or pkg()
    return Finding(
        id=vid,
        aliases=aliases,
        package=p,
        ecosystem=eco,
        installed_version=p.source_version or p.version,
        fixed_versions=fixed,
        status="fixed" if fixed else "affected",
        severity=severity,
        severity_source="debian",
        cvss=(CVSS("3.1", "CVSS:3.1/AV:N", cvss),) if cvss is not None else (),
    )


def secret(path: str = "app/.env", severity: str = "CRITICAL", removed: str = "") -> SecretFinding:
    rule = Rule("aws-access-key-id", "AWS access key", severity, "secret")
    return SecretFinding(rule, "AKIA****", Location(path, 1, 1, "sha256:l1"), removed_in=removed)


def misconf(
    rid: str = "CTM-DF-001",
    severity: str = "MEDIUM",
    path: str = "Dockerfile",
    kind: str = "dockerfile",
    level: str = "deny",
) -> Misconfiguration:
    return Misconfiguration(
        Rule(rid, f"rule {rid}", severity, kind), "bad", Location(path, 3, 3), level=level
    )


def report(items: Sequence[Item]) -> ScanReport:
    inv = Inventory("oci:img", "image", None, ())
    return ScanReport(
        inv,
        tuple(i for i in items if isinstance(i, Finding)),
        misconfigurations=tuple(i for i in items if isinstance(i, Misconfiguration)),
        secrets=tuple(i for i in items if isinstance(i, SecretFinding)),
        scanners=("vuln", "secret", "config"),
    )


# ---------------------------------------------------------------------------- strategies

_ids = st.integers(1, 40).map(lambda n: f"CVE-2024-{n:04d}")
_pkgs = st.sampled_from(
    [
        pkg(),
        pkg("libssl3", source="openssl"),
        pkg("zlib1g", "1:1.2.13", source="zlib"),
        Package("requests", "2.25.0", "pypi", "pkg:pypi/requests@2.25.0", "app/requirements.txt", "pip"),
    ]
)
vulns = st.builds(
    lambda i, s, fixed, cv, p: vuln(
        i, s, ("9.9.9",) if fixed else (), cv, p, eco="PyPI" if p.type == "pypi" else "Debian:12"
    ),
    _ids,
    st.sampled_from(SEVS),
    st.booleans(),
    st.one_of(st.none(), st.floats(0, 10)),
    _pkgs,
)
secrets = st.builds(
    lambda p, s, r: secret(p, s, "sha256:l2" if r else ""),
    st.sampled_from(["a/.env", "b/id_rsa", "c/config.json"]),
    st.sampled_from(SEVS),
    st.booleans(),
)
checks = st.builds(
    lambda r, s, k, lv: misconf(r, s, "Dockerfile" if k == "dockerfile" else "", k, lv),
    st.sampled_from(["CTM-DF-001", "CTM-DF-002", "CTM-IMG-001"]),
    st.sampled_from(SEVS),
    st.sampled_from(["dockerfile", "image", "kubernetes"]),
    st.sampled_from(["deny", "warn"]),
)
items = st.one_of(vulns, secrets, checks)
exploit_data = st.builds(
    lambda kev, ep: ExploitData(
        {c: KevEntry(c, ransomware=r) for c, r in kev.items()}, {c: EpssEntry(c, p, p) for c, p in ep.items()}
    ),
    st.dictionaries(_ids, st.booleans(), max_size=5),
    st.dictionaries(_ids, st.floats(0, 1), max_size=10),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------- properties


@FAST
@given(st.lists(items, max_size=30), items, st.one_of(st.none(), exploit_data))
def test_adding_a_finding_never_lowers_the_score(
    base: list[Item], extra: Item, ex: ExploitData | None
) -> None:
    before = sc.score(report(base), ex)
    after = sc.score(report([*base, extra]), ex)
    assert after.exact >= before.exact - 1e-9
    assert after.value >= before.value
    for k in sc.KINDS:
        assert after.components[k] >= before.components[k]


def _raise(i: Item, to: str) -> Item:
    if isinstance(i, Finding):
        return replace(i, severity=to)
    return replace(i, rule=replace(i.rule, severity=to))


@FAST
@given(st.lists(items, min_size=1, max_size=30), st.data(), st.one_of(st.none(), exploit_data))
def test_raising_a_severity_never_lowers_the_score(
    base: list[Item], data: st.DataObject, ex: ExploitData | None
) -> None:
    n = data.draw(st.integers(0, len(base) - 1))
    cur = base[n].severity
    rank = sc.RISK_ORDER.index(cur)
    higher = data.draw(st.sampled_from([s for s in sc.RISK_ORDER if sc.RISK_ORDER.index(s) >= rank]))
    raised = [*base[:n], _raise(base[n], higher), *base[n + 1 :]]
    assert sc.score(report(raised), ex).exact >= sc.score(report(base), ex).exact - 1e-9


@FAST
@given(st.lists(items, max_size=30), st.randoms(use_true_random=False), st.one_of(st.none(), exploit_data))
def test_order_of_findings_is_irrelevant(base: list[Item], rnd: object, ex: ExploitData | None) -> None:
    shuffled = list(base)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = sc.score(report(base), ex), sc.score(report(shuffled), ex)
    assert a.to_json() == b.to_json()


@FAST
@given(st.lists(items, max_size=60), st.one_of(st.none(), exploit_data))
def test_bounded_and_graded(base: list[Item], ex: ExploitData | None) -> None:
    s = sc.score(report(base), ex)
    assert 0 <= s.value <= 100 and 0.0 <= s.exact < 100.0
    assert s.grade == sc.grade(s.value)
    assert abs(sum(c.points for c in s.contributions) - s.exact) < 1e-6
    assert all(a.points >= -1e-9 and a.drop >= -1e-9 for a in s.actions)
    assert abs(sum(a.points for a in s.actions) - s.exact) < 1e-6
    assert s.after_top <= s.value


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(
        [
            lambda n: vuln(f"CVE-2023-{n:05d}", "LOW", (), 10.0, eco="Debian:12"),
            lambda n: secret(f"f{n}", "LOW"),
            lambda n: misconf(f"R{n}", "LOW"),
            lambda n: vuln(f"CVE-2023-{n:05d}", "LOW", ("1",), 10.0),
        ]
    ),
    st.booleans(),
    st.booleans(),
    st.one_of(st.none(), st.floats(0, 10)),
)
def test_a_thousand_lows_never_beat_one_critical_kev(
    make: object, fixed: bool, ransom: bool, cvss: float | None
) -> None:
    lows = [make(n) for n in range(1000)]  # type: ignore[operator]
    # the LOWs as bad as they get: every one in KEV with ransomware and EPSS 1
    ids = [x.id for x in lows if isinstance(x, Finding)]
    worst = ExploitData(
        {i: KevEntry(i, ransomware=True) for i in ids}, {i: EpssEntry(i, 1.0, 1.0) for i in ids}
    )
    crit = vuln("CVE-2021-44228", "CRITICAL", ("2.17.1",) if fixed else (), cvss)
    kev = ExploitData({"CVE-2021-44228": KevEntry("CVE-2021-44228", ransomware=ransom)})
    assert sc.score(report(lows), worst).value < sc.score(report([crit]), kev).value


@FAST
@given(st.lists(items, max_size=20), st.lists(items, min_size=1, max_size=10))
def test_suppressed_findings_do_not_count(base: list[Item], hidden: list[Item]) -> None:
    sup = Suppression("ignorefile", "accepted", ".containmentignore")
    suppressed = [replace(i, suppressed=sup) for i in hidden]
    assert sc.score(report([*base, *suppressed])).to_json() == sc.score(report(base)).to_json()


# ---------------------------------------------------------------------------- worked examples


def test_empty_report_scores_zero() -> None:
    s = sc.score(report([]))
    assert (s.value, s.grade, s.actions, s.contributions) == (0, "A", (), ())
    assert "nothing to fix" in s.headline


def test_kev_and_epss_raise_a_vulnerability_by_id_or_alias() -> None:
    f = vuln("DSA-5555-1", "HIGH", cvss=7.5, aliases=("CVE-2024-1111",))
    plain = sc.score(report([f]))
    kev = sc.score(report([f]), ExploitData({"CVE-2024-1111": KevEntry("CVE-2024-1111")}))
    epss = sc.score(report([f]), ExploitData(epss={"CVE-2024-1111": EpssEntry("CVE-2024-1111", 0.5, 0.9)}))
    assert plain.value < epss.value < kev.value
    assert kev.contributions[0].factors == ("CVSS 7.5", "KEV")
    assert epss.contributions[0].factors == ("CVSS 7.5", "EPSS 0.500")
    # weights as docs/score.md computes them by hand
    assert plain.contributions[0].weight == 15 * (0.8 + 0.02 * 7.5)
    assert kev.contributions[0].weight == 15 * (0.8 + 0.02 * 7.5) * 3


def test_weights_by_kind() -> None:
    assert sc.score(report([secret(severity="HIGH")])).contributions[0].weight == 25
    assert sc.score(report([secret(severity="HIGH", removed="sha256:l9")])).contributions[0].weight == 25
    deny = sc.score(report([misconf(severity="HIGH")])).contributions[0]
    warn = sc.score(report([misconf(severity="HIGH", level="warn")])).contributions[0]
    assert (deny.weight, warn.weight, warn.factors) == (10, 5, ("warn",))
    unfixed = sc.score(report([vuln(severity="MEDIUM", fixed=())])).contributions[0]
    assert unfixed.weight == 6 * 0.9 * 0.8 and unfixed.factors == ("no fix",)


def test_components_keep_kinds_apart() -> None:
    s = sc.score(report([vuln(), secret(), misconf(), misconf("CTM-IMG-001", kind="image", path="")]))
    assert all(s.components[k] > 0 for k in sc.KINDS)
    only = sc.score(report([secret()]))
    assert only.components == {
        "vulnerabilities": 0,
        "secrets": only.value,
        "misconfigurations": 0,
        "hygiene": 0,
    }


def test_actions_group_by_fix_and_pick_the_highest_fixed_version() -> None:
    src = "openssl"
    f1 = vuln("CVE-2024-0001", "CRITICAL", ("3.0.13-1",), 9.8, pkg("libssl3", source=src))
    f2 = vuln("CVE-2024-0002", "HIGH", ("3.0.9-1",), 7.5, pkg("openssl", source=src))
    f3 = vuln("CVE-2024-0003", "HIGH", ("3.0.13-1~deb12u1",), 7.5, pkg("libssl3", source=src))
    z = vuln("CVE-2024-0009", "LOW", (), None, pkg("zlib1g", "1:1.2.13", source="zlib"))
    s = sc.score(report([f1, f2, f3, z, secret("root/.aws/credentials"), misconf()]))
    up = next(a for a in s.actions if a.kind == "upgrade")
    # dpkg order: 3.0.13-1 > 3.0.13-1~deb12u1 > 3.0.9-1 (a text comparison would pick 3.0.9-1)
    assert up.label == "upgrade openssl (libssl3, openssl) from 3.0.11-1 to 3.0.13-1"
    assert up.findings == 3 and up.ids == ("CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003")
    nofix = next(a for a in s.actions if a.kind == "no-fix")
    assert not nofix.fixable and "zlib" in nofix.label
    assert any(a.label == "remove the secret file root/.aws/credentials" for a in s.actions)
    assert any(a.label.startswith("fix CTM-DF-001 (rule CTM-DF-001) in Dockerfile") for a in s.actions)
    pts = [a.points for a in s.actions]
    assert pts == sorted(pts, reverse=True)
    # each action's drop is a real re-score without its findings; its points, their share
    rest = sc.score(report([z, secret("root/.aws/credentials"), misconf()]))
    assert abs(up.drop - (s.exact - rest.exact)) < 1e-9
    share = sum(c.points for c in s.contributions if c.action == up.key)
    assert abs(up.points - share) < 1e-9


def test_top_three_line_is_a_real_rescore() -> None:
    fs = [
        vuln("CVE-2024-0001", "CRITICAL", ("2",), 9.8, pkg("a", "1", "pypi"), eco="PyPI"),
        vuln("CVE-2024-0002", "CRITICAL", ("2",), 9.0, pkg("b", "1", "pypi"), eco="PyPI"),
        vuln("CVE-2024-0003", "HIGH", ("2",), 8.0, pkg("c", "1", "pypi"), eco="PyPI"),
        vuln("CVE-2024-0004", "MEDIUM", ("2",), 5.0, pkg("d", "1", "pypi"), eco="PyPI"),
        vuln(
            "CVE-2024-0005", "CRITICAL", (), 9.8, pkg("e", "1", "pypi"), eco="PyPI"
        ),  # no fix: not in the top
    ]
    s = sc.score(report(fs))
    assert len(s.top_actions) == 3
    assert all(next(a for a in s.actions if a.key == k).fixable for k in s.top_actions)
    left = sc.score(report([fs[3], fs[4]]))
    assert s.after_top == left.value
    assert (
        s.headline
        == f"risk score {s.value}/100 ({s.grade}): fix these 3 to drop from {s.value} to {left.value}"
    )


def test_to_json_round_trips_through_json() -> None:
    s = sc.score(
        report([vuln(cvss=9.1), secret()]),
        ExploitData(
            {"CVE-2024-0001": KevEntry("CVE-2024-0001")}, feeds=({"name": "kev", "version": "2024.01"},)
        ),
    )
    d = json.loads(json.dumps(s.to_json()))
    assert d["value"] == s.value and d["grade"] == s.grade and d["exploit_feeds"][0]["name"] == "kev"
    assert {c["kind"] for c in d["contributions"]} == {"vulnerability", "secret"}
    assert d["actions"][0]["points"] > 0


def test_unparseable_fixed_versions_are_not_compared_as_text() -> None:
    p = Package("x", "1", "generic", "pkg:generic/x@1", "opt/x", "binary")
    s = sc.score(
        report(
            [
                vuln("CVE-2024-0001", fixed=("b",), package=p, eco="Nope"),
                vuln("CVE-2024-0002", fixed=("a",), package=p, eco="Nope"),
            ]
        )
    )
    assert s.actions[0].label == "upgrade x in opt/x from 1 to a or b"
