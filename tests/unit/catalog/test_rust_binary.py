"""cargo-auditable cataloger: `.dep-v0` sections in synthetic ELFs and in a gcc-built binary."""

from __future__ import annotations

import contextlib
import json
import shutil
import struct
import subprocess
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.rust import CATALOGERS, RustAuditableCataloger, read_audit_data
from containment.model import CatalogError

CAT = RustAuditableCataloger()

AUDIT = {
    "packages": [
        {
            "name": "ripgrep",
            "version": "14.1.0",
            "source": "local",
            "dependencies": [1, 2, 3],
            "root": True,
        },
        {"name": "regex", "version": "1.10.2", "source": "crates.io", "dependencies": [2]},
        {"name": "memchr", "version": "2.7.1", "source": "crates.io"},
        {
            "name": "serde_derive",
            "version": "1.0.195",
            "source": "crates.io",
            "kind": "build",
            "dependencies": [4],
        },
        {"name": "proc-macro2", "version": "1.0.76", "source": "crates.io", "kind": "build"},
        {"name": "grep-cli", "version": "0.1.10", "source": "git", "kind": "runtime"},
    ]
}


def elf_with_sections(sections: dict[str, bytes], *, is64: bool = True, big: bool = False) -> bytes:
    """A minimal relocatable-style ELF: header, section contents, .shstrtab, section headers."""
    e = ">" if big else "<"
    names = [""] + list(sections) + [".shstrtab"]
    strtab = b""
    name_off = {}
    for n in names:
        name_off[n] = len(strtab)
        strtab += n.encode() + b"\0"
    ehsize = 64 if is64 else 52
    body = bytearray(bytes(ehsize))
    offsets = {}
    for n, content in sections.items():
        offsets[n] = len(body)
        body += content
    offsets[".shstrtab"] = len(body)
    body += strtab
    while len(body) % 8:
        body += b"\0"
    shoff = len(body)
    shnum = len(names)
    for n in names:
        size = len(sections[n]) if n in sections else (len(strtab) if n == ".shstrtab" else 0)
        typ = 0 if n == "" else (3 if n == ".shstrtab" else 1)
        off = offsets.get(n, 0)
        if is64:
            body += struct.pack(e + "IIQQQQIIQQ", name_off[n], typ, 0, 0, off, size, 0, 0, 1, 0)
        else:
            body += struct.pack(e + "IIIIIIIIII", name_off[n], typ, 0, 0, off, size, 0, 0, 1, 0)
    cls = 2 if is64 else 1
    ident = b"\x7fELF" + bytes([cls, 2 if big else 1, 1]) + bytes(9)
    if is64:
        hdr = ident + struct.pack(
            e + "HHIQQQIHHHHHH", 3, 62, 1, 0, 0, shoff, 0, 64, 56, 0, 64, shnum, shnum - 1
        )
    else:
        hdr = ident + struct.pack(
            e + "HHIIIIIHHHHHH", 3, 3, 1, 0, 0, shoff, 0, 52, 32, 0, 40, shnum, shnum - 1
        )
    body[: len(hdr)] = hdr
    return bytes(body) + bytes(1024)


def audit_section(doc=AUDIT) -> bytes:
    return zlib.compress(json.dumps(doc).encode())


def test_packages_from_synthetic_elf():
    data = elf_with_sections({".text": b"\x90" * 64, ".dep-v0": audit_section()})
    pkgs = CAT.parse("usr/bin/rg", data, FileTree())
    assert [(p.name, p.version, p.purl, p.dev) for p in pkgs] == [
        ("ripgrep", "14.1.0", "pkg:cargo/ripgrep@14.1.0", False),
        ("regex", "1.10.2", "pkg:cargo/regex@1.10.2", False),
        ("memchr", "2.7.1", "pkg:cargo/memchr@2.7.1", False),
        ("serde_derive", "1.0.195", "pkg:cargo/serde_derive@1.0.195", True),
        ("proc-macro2", "1.0.76", "pkg:cargo/proc-macro2@1.0.76", True),
        ("grep-cli", "0.1.10", "pkg:cargo/grep-cli@0.1.10", False),
    ]
    d = {p.name: p for p in pkgs}
    assert d["ripgrep"].extra["root"] is True and d["ripgrep"].extra["source"] == "local"
    assert d["ripgrep"].extra["dependencies"] == ["regex", "memchr", "serde_derive"]
    assert d["regex"].extra["root_crate"] == "ripgrep"
    assert d["serde_derive"].extra["kind"] == "build"
    assert d["memchr"].extra["kind"] == "runtime"
    assert all(
        p.type == "cargo" and p.cataloger == "rust-cargo-auditable" and p.path == "usr/bin/rg" for p in pkgs
    )


@pytest.mark.parametrize(("is64", "big"), [(False, False), (True, True), (False, True)])
def test_elf_classes_and_endianness(is64, big):
    data = elf_with_sections({".dep-v0": audit_section()}, is64=is64, big=big)
    assert len(CAT.parse("bin/x", data, FileTree())) == 6


def test_no_section_or_not_elf():
    assert CAT.parse("bin/x", elf_with_sections({".text": b"\x90" * 64}), FileTree()) == []
    assert CAT.parse("bin/x", b"MZ" + bytes(2000), FileTree()) == []
    # the name appears in the bytes but there is no such section
    assert CAT.parse("bin/x", elf_with_sections({".rodata": b"mentions .dep-v0 here"}), FileTree()) == []


def test_bad_entries_skipped_and_duplicates_merged():
    doc = {
        "packages": [
            {"name": "a", "version": "1.0.0", "source": "crates.io", "dependencies": [1, 99, -1, "x", True]},
            {"name": "b"},  # no version
            "garbage",
            {"name": 3, "version": "1"},
            {"name": "a", "version": "1.0.0", "source": "crates.io"},
        ]
    }
    pkgs = CAT.parse("bin/x", elf_with_sections({".dep-v0": audit_section(doc)}), FileTree())
    assert [(p.name, p.version) for p in pkgs] == [("a", "1.0.0")]
    assert pkgs[0].extra["dependencies"] == ["b"]


def test_zlib_bomb_refused():
    bomb = zlib.compress(b'{"packages": [' + b" " * (64 * 1024 * 1024) + b"]}", 9)
    assert len(bomb) < 200_000
    with pytest.raises(CatalogError, match="inflates beyond"):
        CAT.parse("bin/x", elf_with_sections({".dep-v0": bomb}), FileTree())


def test_corrupt_section_is_catalog_error():
    with pytest.raises(CatalogError, match="not zlib"):
        CAT.parse("bin/x", elf_with_sections({".dep-v0": b"not compressed at all"}), FileTree())
    with pytest.raises(CatalogError, match="not JSON"):
        CAT.parse("bin/x", elf_with_sections({".dep-v0": zlib.compress(b"{nope")}), FileTree())
    with pytest.raises(CatalogError, match="no packages"):
        CAT.parse("bin/x", elf_with_sections({".dep-v0": zlib.compress(b'{"x": 1}')}), FileTree())


def test_wants_and_mode():
    data = elf_with_sections({".dep-v0": audit_section()})
    assert run_cataloger(CAT, {"usr/bin/rg": data}, mode=0o100644) == []
    assert len(run_cataloger(CAT, {"usr/bin/rg": data}, mode=0o100755)) == 6
    assert not CAT.wants("usr/bin/tool.sh", 0o100755, 10_000)
    assert CATALOGERS[0].immediate is True


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("objcopy")), reason="gcc/objcopy not installed")
def test_real_elf_with_objcopy_section(tmp_path):
    """A real linked executable with the section added the way cargo-auditable's linker step would."""
    (tmp_path / "m.c").write_text("int main(void){return 0;}\n")
    subprocess.run(["gcc", "-O0", "-o", str(tmp_path / "m"), str(tmp_path / "m.c")], check=True, timeout=120)
    (tmp_path / "dep.bin").write_bytes(audit_section())
    subprocess.run(
        [
            "objcopy",
            "--add-section",
            f".dep-v0={tmp_path / 'dep.bin'}",
            "--set-section-flags",
            ".dep-v0=noload,readonly",
            str(tmp_path / "m"),
            str(tmp_path / "m2"),
        ],
        check=True,
        timeout=120,
    )
    plain = (tmp_path / "m").read_bytes()
    assert CAT.parse("bin/m", plain, FileTree()) == []
    pkgs = CAT.parse("bin/m2", (tmp_path / "m2").read_bytes(), FileTree())
    assert {(p.name, p.version, p.dev) for p in pkgs} == {
        ("ripgrep", "14.1.0", False),
        ("regex", "1.10.2", False),
        ("memchr", "2.7.1", False),
        ("serde_derive", "1.0.195", True),
        ("proc-macro2", "1.0.76", True),
        ("grep-cli", "0.1.10", False),
    }


def test_read_audit_data_roundtrip():
    doc = read_audit_data(elf_with_sections({".dep-v0": audit_section()}))
    assert doc == AUDIT


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random(data):
    for d in (data, b"\x7fELF" + data, elf_with_sections({".dep-v0": data})):
        with contextlib.suppress(CatalogError):
            assert isinstance(list(CAT.parse("bin/x", d, FileTree())), list)


_VALID = elf_with_sections({".dep-v0": audit_section()})


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=10))
def test_fuzz_mutated(edits):
    b = bytearray(_VALID)
    for pos, val in edits:
        b[pos % len(b)] = val
    with contextlib.suppress(CatalogError):
        assert isinstance(list(CAT.parse("bin/x", bytes(b), FileTree())), list)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=6),
        max_leaves=30,
    )
)
def test_fuzz_json_shapes(doc):
    for d in (doc, {"packages": doc}, {"packages": [doc]}):
        with contextlib.suppress(CatalogError):
            assert isinstance(
                list(CAT.parse("bin/x", elf_with_sections({".dep-v0": audit_section(d)}), FileTree())), list
            )
