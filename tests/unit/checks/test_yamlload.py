"""yamlload: plain data with field lines, YAML 1.1/1.2 scalars, merge keys, and hostile input refused
with one-line ConfigErrors (alias bombs, recursion, depth, size, binary, non-UTF-8, duplicates)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.checks import yamlload
from containment.checks.yamlload import line_of, load, load_documents, sub_map
from containment.model import ConfigError

BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _err(data: bytes, path: str = "k8s/x.yaml", **kw: bool) -> str:
    with pytest.raises(ConfigError) as e:
        load(path, data, **kw)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(path)
    return msg


def test_lines_of_fields_and_items() -> None:
    data = b"""# comment
spec:
  containers:
    - name: app
      securityContext:
        privileged: true
  "odd.key/x": 1
---
- a
"""
    [(d1, l1), (d2, l2)] = load_documents("m.yaml", data)
    assert d1["spec"]["containers"][0]["securityContext"]["privileged"] is True
    assert l1["spec.containers[0].securityContext.privileged"] == 6
    assert l1["spec.containers[0]"] == 4
    assert l1['spec["odd.key/x"]'] == 7
    assert d2 == ["a"] and l2["[0]"] == 9
    assert line_of(l1, "spec.containers[0].securityContext.runAsUser") == 5  # absent: its parent
    assert sub_map(l1, "spec.containers[0]")["securityContext.privileged"] == 6


def test_ends_and_empty_documents_skipped() -> None:
    docs = load("m.yaml", b"---\n---\na:\n  b: 1\n  c: 2\n---\n")
    assert len(docs) == 1 and docs[0].ends["a"] == 5


def test_merge_keys_explicit_wins_and_lines() -> None:
    data = b"base: &b\n  x: 1\n  y: [1, 2]\nobj:\n  <<: *b\n  y: z\n"
    [doc] = load("m.yaml", data)
    assert doc.data["obj"] == {"y": "z", "x": 1}
    assert doc.lines["obj.y"] == 6 and "obj.y[0]" not in doc.lines


def test_scalars_yaml11_and_yaml12() -> None:
    data = b"a: [22:22, yes, on, 010, 0x1f, 2001-12-14, ~]\n1: x\ntrue: y\n"
    assert load("m", data)[0].data == {"a": [1342, True, True, 8, 31, "2001-12-14", None], "1": "x", "true": "y"}
    assert load("m", data, yaml12=True)[0].data["a"] == ["22:22", "yes", "on", 10, 31, "2001-12-14", None]


def test_application_tags_keep_text() -> None:
    assert load("m", b"a: !Ref x\nb: !!binary aGk=\n")[0].data == {"a": "x", "b": "aGk="}


def test_billion_laughs_fails_fast() -> None:
    t = time.process_time()
    msg = _err(BOMB)
    assert msg == f"k8s/x.yaml: YAML alias expansion over {yamlload.MAX_ALIAS_NODES} nodes; refusing it"
    assert time.process_time() - t < 5  # generous: the point is it never expands


def test_small_aliases_are_fine() -> None:
    [doc] = load("m", b"a: &a {x: [1, 2]}\nb: *a\nc: *a\n")
    assert doc.data["b"] == doc.data["c"] == {"x": [1, 2]} and doc.data["b"] is not doc.data["c"]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"a: &a [*a]\n", "recursive YAML alias"),
        (b"a: &a\n  <<: *a\n", "recursive"),
        (b"[" * 150 + b"]" * 150, "nested over"),
        (b"\x00\x01\x02binary", "binary data"),
        (b"a: \xff\xfe\n", "not UTF-8"),
        (b"a: 1\nb: 2\na: 3\n", "k8s/x.yaml:3: duplicate key 'a' (first at line 1)"),
        (b"a: [\n", "invalid YAML"),
        (b"? [a]\n: 1\n", "a mapping key that is a list"),
        (b"a: *nope\n", "invalid YAML"),
        (b"a: !!int x\n", "bad int value"),
        (b"a:\n\tb: 1\n", "invalid YAML"),
        (b"<<: [1]\n", "'<<' merges a non-mapping"),
    ],
)
def test_bad_input_one_line(data: bytes, needle: str) -> None:
    assert needle in _err(data)


def test_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_BYTES", 100)
    assert "over the 100-byte limit" in _err(b"a: 1\n" * 50)


def test_node_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_NODES", 50)
    assert "over 50 nodes" in _err(b"[" + b"1," * 100 + b"]")


def test_bom_is_accepted() -> None:
    assert load("m", b"\xef\xbb\xbfa: 1\n")[0].data == {"a": 1}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_bytes_only_configerror(data: bytes) -> None:
    try:
        load("f.yaml", data)
    except ConfigError as e:
        assert "\n" not in str(e) and str(e).startswith("f.yaml")


_yaml_chars = st.sampled_from(list("ab:-[]{},&*!|>'\"#?<% \n\t0123456789.~") + ["<<", "&a", "*a", "---", "\n  "])


@settings(max_examples=500, deadline=None)
@given(st.lists(_yaml_chars, max_size=80).map("".join), st.booleans())
def test_fuzz_yamlish_only_configerror(text: str, yaml12: bool) -> None:
    try:
        for doc in load("f.yaml", text.encode(), yaml12=yaml12):
            assert isinstance(doc.lines, dict)
    except ConfigError as e:
        assert "\n" not in str(e) and str(e).startswith("f.yaml")
