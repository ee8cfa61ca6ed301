"""Hypothesis properties: every scheme is a total preorder consistent with its hash, and
parsing arbitrary text raises nothing but InvalidVersion."""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.versions import SCHEMES, InvalidVersion, compare, parse

GRAMMARS: dict[str, str] = {
    "dpkg": r"([0-9]{1,2}:)?[0-9][0-9A-Za-z.+~]{0,10}(-[0-9A-Za-z.+~]{1,6})?",
    "rpm": r"([0-9]{1,2}:)?[0-9A-Za-z._+~^]{1,10}(-[0-9A-Za-z._+~^]{0,6})?",
    "apk": r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]{0,3}){0,2}(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?",
    "pep440": r"([0-9]!)?[0-9]{1,3}(\.[0-9]{1,3}){0,3}((a|b|rc)[0-9]{1,2})?(\.post[0-9]{1,2})?(\.dev[0-9]{1,2})?(\+[a-z0-9]{1,4}(\.[a-z0-9]{1,3})?)?",
    "npm": r"[v=]?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-?[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,5}){0,2})?(\+[0-9A-Za-z-]{1,5})?",
    "go": r"(v[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,5}){0,2})?(\+incompatible)?|go1\.[0-9]{1,2}(\.[0-9]{1,2})?((rc|beta)[0-9])?)",
    "maven": r"[0-9][0-9A-Za-z.-]{0,14}",
    "rubygems": r"[0-9]{1,3}(\.[0-9a-zA-Z]{1,4}){0,4}(-[0-9A-Za-z-]{1,4})?",
    "nuget": r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}(-[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,5}){0,2})?(\+[0-9A-Za-z]{1,4})?",
    "composer": r"v?[0-9]{1,3}(\.[0-9]{1,3}){0,3}([-.]?(alpha|beta|RC|a|b|p|pl|patch|stable)[0-9]{0,2})?(-dev)?",
    "pub": r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,5}){0,2})?(\+[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,5})?)?",
    "semver": r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,5}){0,2})?(\+[0-9A-Za-z-]{1,5})?",
    "cran": r"[0-9]{1,4}([.-][0-9]{1,4}){0,4}",
    "conan": r"(cci\.)?[0-9]{1,3}(\.[0-9]{1,3}[a-z]{0,2}){0,3}(-[a-z0-9]{1,3}(\.[0-9a-z]{1,3}){0,2})?(\+[0-9a-z]{1,3})?",
    "semver-coerced": r"v?[0-9]{1,3}(\.[0-9]{1,3}){0,2}(-[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,5}){0,2})?(\+[0-9A-Za-z-]{1,5})?",
}


def test_every_scheme_has_a_grammar() -> None:
    assert set(GRAMMARS) == set(SCHEMES)


def _valid(scheme: str, text: str) -> bool:
    try:
        parse(scheme, text)
    except InvalidVersion:
        return False
    return True


def versions(scheme: str) -> st.SearchStrategy[str]:
    return st.from_regex(GRAMMARS[scheme], fullmatch=True).filter(lambda v: _valid(scheme, v))


def _close(scheme: str) -> st.SearchStrategy[list[str]]:
    """Several versions, often sharing a prefix, so comparisons are decided deep inside."""
    base = versions(scheme)

    def variants(v: str) -> st.SearchStrategy[list[str]]:
        prefixes = st.integers(min_value=1, max_value=len(v)).map(lambda k: v[:k])
        tail = st.one_of(prefixes, base.map(lambda w: v + w[1:] if len(w) > 1 else v), base)
        return st.lists(tail.filter(lambda x: _valid(scheme, x)), min_size=2, max_size=5).map(
            lambda xs: [v, *xs]
        )

    return base.flatmap(variants)


SET = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow]
)


@pytest.mark.parametrize("scheme", sorted(GRAMMARS))
def test_total_preorder(scheme: str) -> None:
    @SET
    @given(_close(scheme))
    def check(vs: list[str]) -> None:
        for a in vs:
            assert compare(scheme, a, a) == 0
            for b in vs:
                ab = compare(scheme, a, b)
                assert ab in (-1, 0, 1)
                assert compare(scheme, b, a) == -ab  # antisymmetry
                pa, pb = parse(scheme, a), parse(scheme, b)
                assert (pa < pb) == (ab < 0) and (pa == pb) == (ab == 0) and (pa > pb) == (ab > 0)
                if ab == 0:
                    assert hash(pa) == hash(pb)

        # transitivity: after sorting, every earlier element is <= every later one
        def cmp(x: str, y: str) -> int:
            return compare(scheme, x, y)

        ordered = sorted(vs, key=functools.cmp_to_key(cmp))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                assert compare(scheme, a, b) <= 0
        for a in vs:
            for b in vs:
                for c in vs:
                    if compare(scheme, a, b) <= 0 and compare(scheme, b, c) <= 0:
                        assert compare(scheme, a, c) <= 0

    check()


@pytest.mark.parametrize("scheme", sorted(GRAMMARS))
def test_parse_never_crashes(scheme: str) -> None:
    @settings(max_examples=300, deadline=None)
    @given(
        st.one_of(
            st.text(max_size=40), st.from_regex(GRAMMARS[scheme], fullmatch=True).map(lambda s: s + "\x00")
        )
    )
    def check(text: str) -> None:
        try:
            v = parse(scheme, text)
        except InvalidVersion:
            return
        assert compare(scheme, text, text) == 0
        hash(v)

    check()


def test_maven_deep_nesting_is_bounded() -> None:
    v = "1" + "-1" * 250
    assert compare("maven", v, v + "-1") == -1
    with pytest.raises(InvalidVersion):
        parse("maven", "1" + "-1" * 5000)
