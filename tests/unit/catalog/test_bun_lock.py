from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import run_cataloger
from containment.catalog.bun_lock import CATALOGERS, BunLockCataloger, jsonc_to_json
from containment.model import CatalogError

# `bun install --lockfile-only` (bun 1.2) of {"dependencies": {"ms": "2.1.3", "debug": "2.6.9",
# "sc": "npm:string-width@^1.0.0"}, "devDependencies": {"is-number": "7.0.0"},
# "optionalDependencies": {"is-odd": "3.0.1"}}, trimmed; plus a workspace member, a scoped
# nested package, a git dependency and a comment.
BUN = b"""\
{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "demo",
      "dependencies": {
        "debug": "2.6.9",
        "ms": "2.1.3",
        "sc": "npm:string-width@^1.0.0",
        "@demo/util": "workspace:*",
      },
      "devDependencies": {
        "is-number": "7.0.0",
        "@types/bun": "latest",
      },
      "optionalDependencies": {
        "is-odd": "3.0.1",
      },
    },
    "packages/util": {
      "name": "@demo/util",
      "version": "0.2.0",
      "dependencies": {
        "left-pad": "github:stevemao/left-pad",
        "ansi-regex": "^2.0.0",
      },
    },
  },
  // bun writes no comments, but JSONC allows them
  "packages": {
    "@demo/util": ["@demo/util@workspace:packages/util"],

    "@types/bun": ["@types/bun@1.2.13", "", { "dependencies": { "bun-types": "1.2.13" } }, "sha512-u6vXep/i9VBxoJl3GjZsl/BFIsvML8DfVDO0RYLEwtSZSp981kEO1V5NwRcO1CPJ7AmvpbnDCiMKo3JvbDEjAg=="],

    "@types/node": ["@types/node@22.15.18", "", { "dependencies": { "undici-types": "~6.21.0" } }, "sha512-v1DKRfUdyW+jJhZNEI1PYy29S2YRxMV5AOO/x/SjKmW0acCIOqmbj6Haf9eHAhsPmrhlHSxEhv/1WszcLWV4cg=="],

    "ansi-regex": ["ansi-regex@2.1.1", "", {}, "sha512-TIGnTpdo+E3+pCyAluZvtED5p5wCqLdezCyhPZzKPcxvFplEt4i+W7OONCKgeZFT3+y5NZZfOOS/Bdcanm1MYA=="],

    "bun-types": ["bun-types@1.2.13", "", { "dependencies": { "@types/node": "*" } }, "sha512-rRjA1T6n7wto4gxhAO/ErZEtOXyEZEmnIHQfl0Dt1QQSB4QV0iP6BZ9/YB5fZaHFQ2dwHFrmPaRQ9GGMX01k9Q=="],

    "debug": ["debug@2.6.9", "", { "dependencies": { "ms": "2.0.0" } }, "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA=="],

    "is-number": ["is-number@7.0.0", "", {}, "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng=="],

    "is-odd": ["is-odd@3.0.1", "", { "dependencies": { "is-number": "^6.0.0" } }, "sha512-CQpnWPrDwmP1+SMHXZhtLtJv90yiyVfluGsX5iNCVkrhQtU3TQHsUWPG9wkdk9Lgd5yNpAg9jQEo90CBaXgWMA=="],

    "left-pad": ["left-pad@github:stevemao/left-pad#5fd5a5f", {}, "stevemao-left-pad-5fd5a5f"],

    "ms": ["ms@2.1.3", "", {}, "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="],

    "sc": ["string-width@1.0.2", "", { "dependencies": { "strip-ansi": "^3.0.0" } }, "sha512-0XsVpQLnVCXHJfyEs8tC0zpTVIr5PKKsQtkT29IwupnPTjtPmQ3xT/4yCREF9hYkV/3M3kzcUTSAZT6a6h81tw=="],

    "strip-ansi": ["strip-ansi@3.0.1", "", { "dependencies": { "ansi-regex": "^2.0.0" } }, "sha512-VhumSSbBqDTP8p2ZLKj40UjBCV4+v8bUSEpUb4KjRgWk9pbqGF4REFj6KEagidb2f/M6AzC0EmFyDNGaw9OCzg=="],

    "undici-types": ["undici-types@6.21.0", "", {}, "sha512-iwDZqg0QAGrg9Rav5H4n0M64c3mkR59cJ6wQp+7C4nI0gsmExaedaYsNO4Ba5xfG8f8ptzpFkxKS1E7dCvOD+w=="],

    "bun-types/@types/node": ["@types/node@20.11.5", "", {}, "sha512-g557vgQjUUfN76MZAN/dt1z3dzcUsimuysco0KeluHgrPdJXkP/XdAURgyO2W9fZWHRtRBiVKzKn8vyOAwlG+w=="],

    "debug/ms": ["ms@2.0.0", "", {}, "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A=="],

    "is-odd/is-number": ["is-number@6.0.0", "", {}, "sha512-Wu1VHeILBK8KAWJUAiSZQX94GmOE45Rg6/538fKwiloUu21KncEkYGPqob2oSZ5mUT73vLGrHQjKw3KMPwfDzg=="],

    "other/ms": ["ms@2.0.0", "", {}, "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A=="],
  }
}
"""


def _run(data, path="app/bun.lock"):
    return run_cataloger(BunLockCataloger(), {path: data})


def _rows(pkgs):
    return sorted((p.name, p.version, p.purl, p.dev) for p in pkgs)


def test_bun_lock():
    pkgs = _run(BUN)
    assert _rows(pkgs) == [
        ("@demo/util", "0.2.0", "pkg:npm/%40demo/util@0.2.0", False),
        ("@types/bun", "1.2.13", "pkg:npm/%40types/bun@1.2.13", True),
        ("@types/node", "20.11.5", "pkg:npm/%40types/node@20.11.5", True),
        ("@types/node", "22.15.18", "pkg:npm/%40types/node@22.15.18", False),  # unreachable: not dev
        ("ansi-regex", "2.1.1", "pkg:npm/ansi-regex@2.1.1", False),  # via workspace packages/util
        ("bun-types", "1.2.13", "pkg:npm/bun-types@1.2.13", True),
        ("debug", "2.6.9", "pkg:npm/debug@2.6.9", False),
        ("is-number", "6.0.0", "pkg:npm/is-number@6.0.0", False),  # nested under optional is-odd
        ("is-number", "7.0.0", "pkg:npm/is-number@7.0.0", True),
        ("is-odd", "3.0.1", "pkg:npm/is-odd@3.0.1", False),
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0", False),
        ("ms", "2.1.3", "pkg:npm/ms@2.1.3", False),
        ("string-width", "1.0.2", "pkg:npm/string-width@1.0.2", False),  # alias key "sc"
        ("strip-ansi", "3.0.1", "pkg:npm/strip-ansi@3.0.1", False),
        ("undici-types", "6.21.0", "pkg:npm/undici-types@6.21.0", False),  # unreachable: not dev
    ]
    by = {(p.name, p.version): p for p in pkgs}
    ms = by[("ms", "2.0.0")]
    assert ms.path == "app/bun.lock" and ms.cataloger == "bun-lock" and ms.type == "npm"
    assert ms.extra == {
        "integrity": "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==",
        "locations": ["debug/ms", "other/ms"],
    }
    assert by[("@demo/util", "0.2.0")].extra == {"locations": ["@demo/util"], "local": True}
    assert by[("string-width", "1.0.2")].extra["locations"] == ["sc"]


def test_nested_lookup_prefers_the_closest_copy():
    lock = b"""{
  "lockfileVersion": 1,
  "workspaces": {"": {"name": "x", "dependencies": {"a": "1"}, "devDependencies": {"b": "1"}}},
  "packages": {
    "a": ["a@1.0.0", "", {"dependencies": {"c": "2"}}, "sha512-a"],
    "b": ["b@1.0.0", "", {"dependencies": {"c": "1"}}, "sha512-b"],
    "c": ["c@1.0.0", "", {}, "sha512-c1"],
    "a/c": ["c@2.0.0", "", {"dependencies": {"d": "1"}}, "sha512-c2"],
    "d": ["d@1.0.0", "", {}, "sha512-d"],
  },
}"""
    assert {(p.name, p.version): p.dev for p in _run(lock)} == {
        ("a", "1.0.0"): False,
        ("b", "1.0.0"): True,
        ("c", "1.0.0"): True,
        ("c", "2.0.0"): False,
        ("d", "1.0.0"): False,
    }


def test_without_workspaces_nothing_is_dev():
    lock = b'{"lockfileVersion": 1, "packages": {"ms": ["ms@2.1.3", "", {}, "sha512-x"],},}'
    assert _rows(_run(lock)) == [("ms", "2.1.3", "pkg:npm/ms@2.1.3", False)]


def test_jsonc():
    assert (
        jsonc_to_json('{"a": "x//y/*z*/", // c\n "b": [1, 2, ], /* z */ }')
        == '{"a": "x//y/*z*/",  \n "b": [1, 2 ]   }'
    )
    assert jsonc_to_json('{"a": "q\\"/*",}') == '{"a": "q\\"/*"}'


def test_wants():
    c = BunLockCataloger()
    assert c.wants("bun.lock", 0o100644, 1)
    assert c.wants("srv/app/bun.lock", 0o100644, 1)
    assert not c.wants("srv/app/bun.lockb", 0o100644, 1)
    assert not c.wants("srv/app/node_modules/x/bun.lock", 0o100644, 1)
    assert [type(x) for x in CATALOGERS] == [BunLockCataloger]


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"packages": []}', b"\xff\xfe", b"[" * 100000])
def test_unreadable_raises_catalog_error(data):
    with pytest.raises(CatalogError, match="bun.lock"):
        _run(data)


def test_bad_entries_are_skipped():
    lock = b"""{"lockfileVersion": 1, "workspaces": {"": [], "x": {"dependencies": []}},
      "packages": {"ok": ["ok@1.0.0"], "e": [], "n": [1], "s": "str", "v": ["v@latest", "", {}, 5],
                   "f": ["f@file:../f", {}], "t": ["t@https://x/t.tgz", {}]}}"""
    assert _rows(_run(lock)) == [("ok", "1.0.0", "pkg:npm/ok@1.0.0", False)]


def _check(data: bytes) -> None:
    try:
        out = _run(data)
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(data):
    _check(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_lockfile(data):
    b = bytearray(BUN)
    for _ in range(data.draw(st.integers(0, 8))):
        i = data.draw(st.integers(0, len(b) - 1))
        op = data.draw(st.sampled_from(["del", "ins", "set"]))
        chunk = data.draw(
            st.sampled_from([b",", b"]", b"}", b'"', b"[", b"{", b"/", b"*", b"@", b"x", b"\\"])
        )
        if op == "del":
            del b[i : i + data.draw(st.integers(1, 20))]
        elif op == "ins":
            b[i:i] = chunk
        else:
            b[i : i + 1] = chunk
        if not b:
            break
    _check(bytes(b))


def test_install_key_components():
    from containment.catalog.bun_lock import _components

    assert _components("@s/a/@t/b/c") == ["@s/a", "@t/b", "c"]
    assert _components("a") == ["a"]
