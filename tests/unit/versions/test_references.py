"""Agreement with the reference implementations present on this machine (each test skips,
with the reason, when its reference is missing). The drivers and pair generators are the
ones of bench/version_vs_reference.py, which runs the same comparison at >= 100,000 pairs."""

from __future__ import annotations

import importlib.util
import random
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.versions import InvalidVersion, compare
from tests.tools import missing, reason

ROOT = Path(__file__).resolve().parents[3]


def _load_bench() -> ModuleType:
    path = ROOT / "bench" / "version_vs_reference.py"
    spec = importlib.util.spec_from_file_location("version_vs_reference", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


bench = _load_bench()


def _ours(scheme: str, pairs: list[tuple[str, str]]) -> list[str]:
    return bench.ours(scheme, pairs)  # type: ignore[no-any-return]


def _assert_agree(scheme: str, pairs: list[tuple[str, str]], ref: list[str]) -> None:
    mine = _ours(scheme, pairs)
    bad = [(p, m, t) for p, m, t in zip(pairs, mine, ref, strict=True) if m != t]
    assert not bad, f"{len(bad)} disagreements, first: {bad[:5]}"


def _sample(scheme: str, n: int, seed: int = 7) -> list[tuple[str, str]]:
    gen, mutate, _ref, _name = bench.SCHEMES[scheme]
    return bench._pairs(random.Random(f"test-{seed}-{scheme}"), n, gen, mutate)  # type: ignore[no-any-return]


def _plain_epoch(v: str) -> bool:
    # apt_pkg does not read a signed epoch ("+1:0") the way dpkg's strtol does
    return ":" not in v or v.split(":", 1)[0].isdigit()


# dpkg -----------------------------------------------------------------------------------

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg binary not installed")


@needs_dpkg
def test_dpkg_binary_sample() -> None:
    pairs = _sample("dpkg", 300)
    _assert_agree("dpkg", pairs, bench.ref_dpkg_binary(pairs))


@needs_dpkg
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.from_regex(r"([0-9]{1,2}:)?[0-9][0-9a-zA-Z.+~]{0,8}(-[0-9a-zA-Z.+~]{1,5})?", fullmatch=True),
        min_size=2,
        max_size=2,
    )
)
def test_dpkg_binary_hypothesis(vs: list[str]) -> None:
    a, b = vs
    expected = bench.ref_dpkg_binary([(a, b)])
    _assert_agree("dpkg", [(a, b)], expected)


def test_dpkg_apt_pkg() -> None:
    pairs = [p for p in _sample("dpkg", 5000) if _plain_epoch(p[0]) and _plain_epoch(p[1])]
    ref = bench.ref_dpkg_apt(pairs)
    if ref is None:
        pytest.skip(reason("python3-apt (apt_pkg for /usr/bin/python3)", "python3-apt"))
    _assert_agree("dpkg", pairs, ref)


# rpm ------------------------------------------------------------------------------------


def test_rpm_python_bindings() -> None:
    pairs = _sample("rpm", 5000)
    ref = bench.ref_rpm(pairs)
    if ref is None:
        pytest.skip(reason("python3-rpm (rpm for /usr/bin/python3)", "python3-rpm"))
    _assert_agree("rpm", pairs, ref)


# PEP 440 --------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.from_regex(
            r"[vV ]?([0-9]!)?[0-9]{1,3}(\.[0-9]{1,3}){0,3}([-_.]?(a|b|c|rc|alpha|beta|pre|preview|RC)[0-9]{0,2})?"
            r"([-_.]?(post|rev|r)[0-9]{0,2}|-[0-9])?([-_.]?dev[0-9]{0,2})?(\+[a-z0-9]{1,4}([-_.][a-z0-9]{1,3})?)?",
            fullmatch=True,
        ),
        min_size=2,
        max_size=2,
    )
)
def test_pep440_packaging(vs: list[str]) -> None:
    a, b = vs
    _assert_agree("pep440", [(a, b)], bench.ref_pep440([(a, b)]))


def test_pep440_sample() -> None:
    pairs = _sample("pep440", 5000)
    _assert_agree("pep440", pairs, bench.ref_pep440(pairs))


# npm ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_semver() -> str:
    if why := (missing("node", "nodejs") or missing("npm", "npm")):
        pytest.skip(why)
    d = bench.npm_semver_dir()
    if d is None:
        pytest.skip("npm install semver failed (offline?)")
    return str(d)


def test_npm_node_semver_sample(node_semver: str) -> None:
    pairs = _sample("npm", 5000)
    _assert_agree("npm", pairs, bench.ref_npm(pairs))


def test_npm_node_semver_hypothesis(node_semver: str) -> None:
    ident = st.from_regex(
        r"(0|[1-9][0-9]{0,2}|0[0-9]|[0-9]{0,2}[a-zA-Z-][0-9a-zA-Z-]{0,3}|900719925474099[0-9])",
        fullmatch=True,
    )
    version = st.builds(
        lambda pre, main, ids, build: pre + main + ("-" + ".".join(ids) if ids else "") + build,
        st.sampled_from(["", "v", "=", " v", "v="]),
        st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True),
        st.lists(ident, max_size=3),
        st.sampled_from(["", "+b1", "+x.y-z"]),
    )
    collected: list[tuple[str, str]] = []

    @settings(max_examples=300, deadline=None)
    @given(version, version)
    def gather(a: str, b: str) -> None:
        collected.append((a, b))

    gather()
    _assert_agree("npm", collected, bench.ref_npm(collected))


# Maven ----------------------------------------------------------------------------------


def test_maven_comparable_version_jar() -> None:
    pairs = _sample("maven", 5000)
    try:
        ref = bench.ref_maven(pairs)
    except (OSError, subprocess.CalledProcessError) as exc:  # pragma: no cover - broken JDK
        pytest.skip(f"java/javac unusable: {exc}")
    if ref is None:
        pytest.skip(f"maven-artifact jar ({bench.MAVEN_JAR}) or a JDK not installed")
    _assert_agree("maven", pairs, ref)


def test_invalid_is_reported_not_raised_by_bench() -> None:
    assert _ours("semver", [("1.0", "1.0.0")]) == ["E"]
    with pytest.raises(InvalidVersion):
        compare("semver", "1.0", "1.0.0")
