"""Random and mutated input to the feed parsers: warnings or FeedError, never another exception."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.advisories.feed import Sink
from containment.advisories.importer import parse_bytes, parse_document

from .conftest import SECDB_V311, TRACKER, osv

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4),
    max_leaves=20,
)
SEEDS: list[Any] = [
    osv("PYSEC-1"),
    osv("GO-1", eco="Go", name="stdlib", withdrawn="2020"),
    {
        "distroversion": "v3.11",
        "reponame": "main",
        "packages": [{"pkg": {"name": "a", "secfixes": {"1-r0": ["CVE-2020-1"]}}}],
    },
    TRACKER,
]


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _check(doc: Any) -> None:
    sink = Sink()
    for u in parse_document(doc, "fuzz.json", sink):
        assert u.feed in ("osv", "alpine-secdb", "debian-tracker")
        for a in u.affected:
            assert isinstance(a[1], str) and isinstance(a[2], str) and isinstance(a[4], bytes)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_mutated_documents(seed: Any, data: st.DataObject) -> None:
    doc = copy.deepcopy(seed)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths))
        value = data.draw(json_values)
        if not path:
            doc = value
            continue
        node = doc
        try:
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass
    _check(doc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    parse_bytes(data, "fuzz.bin", Sink())


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(SECDB_V311)), st.text(max_size=8))
def test_mutated_yaml_text(pos: int, junk: str) -> None:
    text = SECDB_V311[:pos] + junk + SECDB_V311[pos:]
    parse_bytes(text.encode(), "secdb.yaml", Sink())
    raw = json.dumps(TRACKER)
    p = pos % len(raw)
    parse_bytes((raw[:p] + junk + raw[p:]).encode(), "tracker.json", Sink())
