"""Go binary cataloger: synthetic build info blobs (both layouts) and real binaries from `go build`."""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog import _exe
from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.golang import (
    CATALOGERS,
    MAGIC,
    GoBinaryCataloger,
    go_semver,
    parse_modinfo,
    read_buildinfo,
    stdlib_version,
)
from containment.model import CatalogError
from tests.tools import reason

CAT = GoBinaryCataloger()
START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")  # cmd/go's infoStart sentinel
END = bytes.fromhex("f932433186182072008242104116d8f2")  # infoEnd

MODINFO = (
    "path\tgithub.com/acme/tool/cmd/tool\n"
    "mod\tgithub.com/acme/tool\tv1.4.2\th1:abcdefMAIN=\n"
    "dep\tgithub.com/google/uuid\tv1.3.0\th1:t6JiXgmwXMjEs8VusXIJk2BXHsn+wx8BZdTaoZ5fu7I=\n"
    "dep\tgolang.org/x/net\tv0.7.0\n"
    "=>\tgithub.com/fork/net\tv0.7.1-fork\th1:forkhash=\n"
    "dep\texample.com/local\tv0.0.0\n"
    "=>\t../local\t\n"
    "dep\tgopkg.in/yaml.v3\tv3.0.1\th1:yaml=\n"
    "build\t-compiler=gc\n"
    'build\t-ldflags="-s -w -X main.version=1.4.2"\n'
    "build\tCGO_ENABLED=0\n"
    "build\tGOARCH=amd64\n"
    "build\tGOOS=linux\n"
    "build\tvcs=git\n"
    "build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n"
    "build\tvcs.modified=false\n"
)


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def elf_with_segment(body: bytes, *, is64: bool = True, big: bool = False, vaddr: int = 0x400000) -> bytes:
    """A minimal ELF: header + one writable PT_LOAD mapping the whole file at `vaddr`; `body`
    starts at file offset 0x1000 (so its bytes are at vaddr + 0x1000)."""
    e = ">" if big else "<"
    total = 0x1000 + len(body)
    if is64:
        ident = b"\x7fELF" + bytes([2, 2 if big else 1, 1]) + bytes(9)
        hdr = ident + struct.pack(e + "HHIQQQIHHHHHH", 2, 62, 1, vaddr, 64, 0, 0, 64, 56, 1, 64, 0, 0)
        ph = struct.pack(e + "IIQQQQQQ", 1, 6, 0, vaddr, vaddr, total, total, 0x1000)  # PF_R|PF_W
    else:
        ident = b"\x7fELF" + bytes([1, 2 if big else 1, 1]) + bytes(9)
        hdr = ident + struct.pack(e + "HHIIIIIHHHHHH", 2, 8, 1, vaddr, 52, 0, 0, 52, 32, 1, 40, 0, 0)
        ph = struct.pack(e + "IIIIIIII", 1, 0, vaddr, vaddr, total, total, 6, 0x1000)
    head = hdr + ph
    return head + bytes(0x1000 - len(head)) + body


def inline_blob(vers: str, modinfo: str, framed: bool = True) -> bytes:
    mod = (START + modinfo.encode() + END) if framed else modinfo.encode()
    return (
        MAGIC
        + bytes([8, 2])
        + bytes(16)
        + uvarint(len(vers))
        + vers.encode()
        + uvarint(len(mod))
        + mod
        + bytes(2048)
    )


def legacy_elf(vers: str, modinfo: str, *, is64: bool = True, big: bool = False) -> bytes:
    """Go 1.13-1.17 layout: the header holds pointers to Go string headers."""
    ptr = 8 if is64 else 4
    e = ">" if big else "<"
    pf = e + ("Q" if is64 else "I")
    base = 0x400000 + 0x1000
    mod = START + modinfo.encode() + END
    # body layout: [0] header (32) [64] vers string header [96] mod string header [128] vers data, mod data
    vers_data_addr = base + 128
    mod_data_addr = vers_data_addr + len(vers)
    header = MAGIC + bytes([ptr, 1 if big else 0]) + struct.pack(pf, base + 64) + struct.pack(pf, base + 96)
    header = header.ljust(64, b"\0")
    sh_vers = (struct.pack(pf, vers_data_addr) + struct.pack(pf, len(vers))).ljust(32, b"\0")
    sh_mod = (struct.pack(pf, mod_data_addr) + struct.pack(pf, len(mod))).ljust(32, b"\0")
    body = header + sh_vers + sh_mod + vers.encode() + mod + bytes(1024)
    return elf_with_segment(body, is64=is64, big=big)


def by_name(pkgs):
    return {p.name: p for p in pkgs}


EXPECTED = {
    ("github.com/acme/tool", "v1.4.2", "pkg:golang/github.com/acme/tool@v1.4.2"),
    ("github.com/google/uuid", "v1.3.0", "pkg:golang/github.com/google/uuid@v1.3.0"),
    ("github.com/fork/net", "v0.7.1-fork", "pkg:golang/github.com/fork/net@v0.7.1-fork"),
    ("example.com/local", "(devel)", "pkg:golang/example.com/local@%28devel%29"),
    ("gopkg.in/yaml.v3", "v3.0.1", "pkg:golang/gopkg.in/yaml.v3@v3.0.1"),
    ("stdlib", "go1.17.13", "pkg:golang/stdlib@1.17.13"),
}


def check_expected(pkgs, go_version: str = "go1.17.13") -> None:
    exp = {
        (n, v, p) if n != "stdlib" else (n, go_version, f"pkg:golang/stdlib@{go_version[2:]}")
        for n, v, p in EXPECTED
    }
    assert {(p.name, p.version, p.purl) for p in pkgs} == exp
    assert all(p.type == "golang" and p.cataloger == "go-binary" and not p.dev for p in pkgs)
    d = by_name(pkgs)
    main = d["github.com/acme/tool"]
    assert main.extra["main"] is True
    assert main.extra["path"] == "github.com/acme/tool/cmd/tool"
    assert main.extra["h1"] == "h1:abcdefMAIN="
    bs = main.extra["build_settings"]
    assert bs["GOOS"] == "linux" and bs["GOARCH"] == "amd64"
    assert bs["-ldflags"] == "-s -w -X main.version=1.4.2"
    assert main.extra["vcs_revision"] == "0123456789abcdef0123456789abcdef01234567"
    assert d["github.com/fork/net"].extra["replaced"] == "golang.org/x/net@v0.7.0"
    assert d["github.com/fork/net"].extra["h1"] == "h1:forkhash="
    assert d["example.com/local"].extra["replace_dir"] == "../local"
    assert d["stdlib"].extra["go_version"] == go_version
    assert all(p.extra["main_module"] == "github.com/acme/tool" for p in pkgs)


# --------------------------------------------------------------------------- synthetic blobs


def test_inline_format_go118_plus():
    data = elf_with_segment(inline_blob("go1.17.13", MODINFO))
    check_expected(CAT.parse("usr/bin/tool", data, FileTree()))


@pytest.mark.parametrize(("is64", "big"), [(True, False), (False, False), (False, True), (True, True)])
def test_legacy_pointer_format(is64, big):
    data = legacy_elf("go1.17.13", MODINFO, is64=is64, big=big)
    check_expected(CAT.parse("usr/bin/tool", data, FileTree()))


def test_all_packages_have_path():
    data = elf_with_segment(inline_blob("go1.17.13", MODINFO))
    assert {p.path for p in CAT.parse("usr/local/bin/tool", data, FileTree())} == {"usr/local/bin/tool"}


def test_no_module_info_only_stdlib():
    data = elf_with_segment(inline_blob("go1.12.17", "", framed=False))
    pkgs = CAT.parse("bin/x", data, FileTree())
    assert [(p.name, p.version, p.purl) for p in pkgs] == [
        ("stdlib", "go1.12.17", "pkg:golang/stdlib@1.12.17")
    ]


def test_experiment_suffix_version():
    data = elf_with_segment(inline_blob("go1.21.5 X:boringcrypto", "path\tx/y\nmod\tx/y\tv1.0.0\t\n"))
    d = by_name(CAT.parse("bin/x", data, FileTree()))
    assert d["stdlib"].version == "go1.21.5"
    assert d["stdlib"].purl == "pkg:golang/stdlib@1.21.5"
    assert d["stdlib"].extra["go_version"] == "go1.21.5 X:boringcrypto"
    assert d["x/y"].purl == "pkg:golang/x/y@v1.0.0"
    assert stdlib_version("devel go1.22-abc Tue") == "devel go1.22-abc Tue"


def test_misaligned_magic_ignored():
    blob = inline_blob("go1.20.1", MODINFO)
    data = elf_with_segment(b"\0" * 3 + blob)  # header at vaddr % 16 == 3
    assert CAT.parse("bin/x", data, FileTree()) == []


def test_not_elf_and_no_magic():
    assert CAT.parse("bin/x", b"#!/bin/sh\n" + b"echo hi\n" * 300, FileTree()) == []
    assert CAT.parse("bin/x", elf_with_segment(bytes(4096)), FileTree()) == []


def test_short_module_path_purl():
    data = elf_with_segment(inline_blob("go1.20.1", "path\tfoo\nmod\tfoo\tv0.1.0\t\ndep\tbar\tv1.0.0\t\n"))
    d = by_name(CAT.parse("bin/x", data, FileTree()))
    assert d["foo"].purl == "pkg:golang/foo@v0.1.0"
    assert d["bar"].purl == "pkg:golang/bar@v1.0.0"


def test_parse_modinfo_edge_cases():
    path, main, deps, settings_ = parse_modinfo(
        "path\tcmd/x\n"
        "mod\tcmd/x\t(devel)\t\n"
        "garbage line\n"
        "dep\t\n"  # no path: skipped
        "=>\torphan\tv1\t\n"  # replacement without a module before it is ignored
        "dep\ta/b\tv1.0.0\n"
        'build\t"weird key"=value\n'
        "build\tnoequals\n"
        'build\tGOFLAGS="-mod=vendor -tags=x"\n'
    )
    assert path == "cmd/x"
    assert main is not None and main.version == "(devel)"
    assert [(d.path, d.version) for d in deps] == [("a/b", "v1.0.0")]
    assert settings_ == {"weird key": "value", "GOFLAGS": "-mod=vendor -tags=x"}


def test_devel_main_module_kept():
    data = elf_with_segment(inline_blob("go1.22.0", "path\tex.com/m\nmod\tex.com/m\t(devel)\t\n"))
    d = by_name(CAT.parse("bin/x", data, FileTree()))
    assert d["ex.com/m"].version == "(devel)"


def test_wants():
    mib = 1024 * 1024
    assert CAT.wants("usr/bin/kubectl", 0o100755, 40 * mib)
    assert CAT.wants("opt/app/libgo.so", 0o100711, 5000)
    assert not CAT.wants("usr/bin/kubectl", 0o100644, 40 * mib)  # no exec bit
    assert not CAT.wants("usr/bin/tiny", 0o100755, 100)  # too small to be a binary
    assert not CAT.wants("usr/bin/huge", 0o100755, 600 * mib)
    assert not CAT.wants("usr/share/foo/run.sh", 0o100755, 50_000)
    assert not CAT.wants("usr/lib/python3/x.py", 0o100755, 50_000)


def test_run_cataloger_mode():
    data = elf_with_segment(inline_blob("go1.21.5", MODINFO))
    assert run_cataloger(CAT, {"bin/tool": data}, mode=0o100644) == []
    assert len(run_cataloger(CAT, {"bin/tool": data}, mode=0o100755)) == 6
    assert CATALOGERS[0].immediate is True


def test_pe_inline():
    """A minimal PE32+ with one initialized RW data section holding the blob."""
    blob = inline_blob("go1.21.5", MODINFO)
    lfanew = 0x40
    coff = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x22)
    opt = bytearray(240)
    struct.pack_into("<H", opt, 0, 0x20B)
    struct.pack_into("<Q", opt, 24, 0x140000000)
    sect = struct.pack("<8sIIIIIIHHI", b".data", len(blob), 0x1000, len(blob), 0x400, 0, 0, 0, 0, 0xC0000040)
    head = bytearray(b"MZ" + bytes(0x3A) + struct.pack("<I", lfanew)) + b"PE\0\0" + coff + opt + sect
    data = bytes(head) + bytes(0x400 - len(head)) + blob
    exe = _exe.parse(data)
    assert exe is not None and exe.kind == "pe" and exe.data_start == (0x140001000, len(blob))
    check_expected(CAT.parse("app.exe", data, FileTree()), "go1.21.5")


# --------------------------------------------------------------------------- hostile input


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(data):
    for d in (data, b"\x7fELF" + data, MAGIC + data, elf_with_segment(MAGIC + data)):
        with contextlib.suppress(CatalogError):
            assert isinstance(list(CAT.parse("bin/x", d, FileTree())), list)


_VALID = [
    elf_with_segment(inline_blob("go1.21.5", MODINFO)),
    legacy_elf("go1.16.3", MODINFO),
    legacy_elf("go1.16.3", MODINFO, is64=False, big=True),
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_VALID), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=12))
def test_fuzz_mutated(data, edits):
    b = bytearray(data)
    for pos, val in edits:
        b[pos % len(b)] = val
    with contextlib.suppress(CatalogError):
        assert isinstance(list(CAT.parse("bin/x", bytes(b), FileTree())), list)


def test_huge_declared_lengths_are_bounded():
    blob = MAGIC + bytes([8, 2]) + bytes(16) + uvarint(2**62) + b"go1.2"
    assert read_buildinfo(elf_with_segment(blob + bytes(64))) is None
    # legacy: string header claims 2**40 bytes
    base = 0x401000
    hdr = MAGIC + bytes([8, 0]) + struct.pack("<QQ", base + 64, base + 64)
    body = hdr.ljust(64, b"\0") + struct.pack("<QQ", base, 2**40) + bytes(64)
    assert read_buildinfo(elf_with_segment(body)) is None


# --------------------------------------------------------------------------- real binaries

GO = shutil.which("go")


@pytest.fixture(scope="module")
def go_binaries(tmp_path_factory) -> dict[str, Path]:
    if GO is None:
        pytest.skip(reason("the go toolchain", "golang-go"))
    root = tmp_path_factory.mktemp("gobuild")
    src = root / "src"
    lib = root / "lib"
    (src / "vendor/github.com/acme/widget").mkdir(parents=True)
    (src / "vendor/example.org/orig/gadget").mkdir(parents=True)
    (src / "vendor/example.com/lib").mkdir(parents=True)
    lib.mkdir()
    (src / "go.mod").write_text(
        "module example.com/demo/hello\n\ngo 1.16\n\nrequire (\n\texample.com/lib v1.2.3\n"
        "\tgithub.com/acme/widget v1.4.0\n\texample.org/orig/gadget v0.9.0\n)\n\n"
        "replace example.com/lib => ../lib\n\n"
        "replace example.org/orig/gadget => example.org/fork/gadget v0.9.1-fork\n"
    )
    (src / "main.go").write_text(
        'package main\nimport ("fmt"; "example.com/lib"; "github.com/acme/widget"; "example.org/orig/gadget")\n'
        'func main(){ fmt.Println("hi", lib.X, widget.Y, gadget.Z) }\n'
    )
    (src / "vendor/github.com/acme/widget/w.go").write_text("package widget\nconst Y = 1\n")
    (src / "vendor/example.org/orig/gadget/g.go").write_text("package gadget\nconst Z = 2\n")
    (src / "vendor/example.com/lib/l.go").write_text("package lib\nconst X = 3\n")
    (lib / "go.mod").write_text("module example.com/lib\n\ngo 1.16\n")
    (lib / "l.go").write_text("package lib\nconst X = 3\n")
    (src / "vendor/modules.txt").write_text(
        "# example.com/lib v1.2.3 => ../lib\n## explicit\nexample.com/lib\n"
        "# example.org/orig/gadget v0.9.0 => example.org/fork/gadget v0.9.1-fork\n## explicit\n"
        "example.org/orig/gadget\n"
        "# github.com/acme/widget v1.4.0\n## explicit\ngithub.com/acme/widget\n"
        "# example.com/lib => ../lib\n# example.org/orig/gadget => example.org/fork/gadget v0.9.1-fork\n"
    )
    env = {**os.environ, "GOFLAGS": "-mod=vendor", "GOPROXY": "off", "GOTOOLCHAIN": "local"}
    builds = {
        "plain": (["go", "build", "-o", "../plain", "."], {"CGO_ENABLED": "0"}),
        "stripped": (
            ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", "../stripped", "."],
            {"CGO_ENABLED": "0"},
        ),
        "pie": (["go", "build", "-buildmode=pie", "-o", "../pie", "."], {}),
        "windows": (["go", "build", "-o", "../app.exe", "."], {"GOOS": "windows", "CGO_ENABLED": "0"}),
        "darwin": (
            ["go", "build", "-o", "../darwin", "."],
            {"GOOS": "darwin", "GOARCH": "arm64", "CGO_ENABLED": "0"},
        ),
        "386": (["go", "build", "-o", "../i386", "."], {"GOARCH": "386", "CGO_ENABLED": "0"}),
    }
    out: dict[str, Path] = {}
    for name, (cmd, extra_env) in builds.items():
        r = subprocess.run(
            cmd, cwd=src, env={**env, **extra_env}, capture_output=True, text=True, timeout=300
        )
        if r.returncode != 0:
            if name in ("plain", "stripped"):
                pytest.skip(f"go build failed: {r.stderr[-500:]}")
            continue
        out[name] = root / cmd[cmd.index("-o") + 1].removeprefix("../")
    return out


def go_version_m(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """`go version -m` output: (go version, [(kind, path, version)])."""
    r = subprocess.run(
        [GO, "version", "-m", str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    lines = r.stdout.splitlines()
    gov = lines[0].split(": ", 1)[1].strip()
    rows = []
    for line in lines[1:]:
        f = line.strip("\t").split("\t")
        if f[0] in ("mod", "dep", "=>"):
            rows.append((f[0], f[1], f[2] if len(f) > 2 else ""))
    return gov, rows


@pytest.mark.parametrize("which", ["plain", "stripped", "pie", "windows", "darwin", "386"])
def test_real_binary_matches_go_version_m(go_binaries, which):
    if which not in go_binaries:
        pytest.skip(f"{which} could not be built with this toolchain")
    path = go_binaries[which]
    data = path.read_bytes()
    gov, rows = go_version_m(path)
    pkgs = CAT.parse(f"bin/{which}", data, FileTree())
    got = {(p.name, p.version) for p in pkgs}
    # what Go reports, with replacements applied the way the cataloger documents
    expected = {("stdlib", gov.split(" ")[0])}
    for i, (kind, mpath, ver) in enumerate(rows):
        if kind == "=>":
            continue
        nxt = rows[i + 1] if i + 1 < len(rows) and rows[i + 1][0] == "=>" else None
        if nxt is None:
            expected.add((mpath, ver))
        elif nxt[1].startswith("."):
            expected.add((mpath, nxt[2] or "(devel)"))
        else:
            expected.add((nxt[1], nxt[2]))
    assert got == expected
    assert got >= {
        ("example.com/demo/hello", "(devel)"),
        ("github.com/acme/widget", "v1.4.0"),
        ("example.org/fork/gadget", "v0.9.1-fork"),
        ("example.com/lib", "(devel)"),
    }
    main = by_name(pkgs)["example.com/demo/hello"]
    assert main.extra["build_settings"]["GOOS"] == {"windows": "windows", "darwin": "darwin"}.get(
        which, "linux"
    )


def test_real_elf_header_found_in_buildinfo_section(go_binaries):
    data = go_binaries["plain"].read_bytes()
    exe = _exe.parse(data)
    assert exe is not None
    sec = exe.section(".go.buildinfo")
    assert sec is not None and exe.data_start == (sec.addr, sec.size)
    assert data[sec.offset : sec.offset + 14] == MAGIC


def test_real_binary_speed_non_go(go_binaries):
    """A non-Go ELF of the same size bails out at the magic search."""
    data = bytearray(go_binaries["plain"].read_bytes())
    i = data.find(MAGIC)
    data[i : i + len(MAGIC)] = b"\0" * len(MAGIC)
    assert CAT.parse("bin/x", bytes(data), FileTree()) == []


def test_gopath_build_main_from_path():
    """Distro builds outside module mode record only `path` (as Debian's runc): reported, version unknown."""
    modinfo = "path\tgithub.com/opencontainers/runc\nbuild\t-compiler=gc\nbuild\tGOOS=linux\n"
    pkgs = CAT.parse("usr/sbin/runc", elf_with_segment(inline_blob("go1.19.8", modinfo)), FileTree())
    assert triples(pkgs) == [
        (
            "github.com/opencontainers/runc",
            "(devel)",
            "pkg:golang/github.com/opencontainers/runc@%28devel%29",
        ),
        ("stdlib", "go1.19.8", "pkg:golang/stdlib@1.19.8"),
    ]
    assert pkgs[0].extra["main_from_path"] is True
    # a bare command name is not a module identity
    pkgs = CAT.parse(
        "bin/x", elf_with_segment(inline_blob("go1.19.8", "path\tcommand-line-arguments\n")), FileTree()
    )
    assert [p.name for p in pkgs] == ["stdlib"]


def test_devel_with_vcs_gets_pseudo_version_extra():
    modinfo = (
        "path\tgithub.com/evanw/esbuild/cmd/esbuild\nmod\tgithub.com/evanw/esbuild\t(devel)\t\n"
        "build\tvcs=git\nbuild\tvcs.revision=04ef75fd7ff534a636962f14e11d224c84aa2020\n"
        "build\tvcs.time=2022-08-08T14:19:30Z\n"
    )
    d = by_name(CAT.parse("bin/esbuild", elf_with_segment(inline_blob("go1.19", modinfo)), FileTree()))
    main = d["github.com/evanw/esbuild"]
    assert main.version == "(devel)"
    assert main.extra["pseudo_version"] == "v0.0.0-20220808141930-04ef75fd7ff5"
    assert d["stdlib"].purl == "pkg:golang/stdlib@1.19.0"


def triples(pkgs):
    return [(p.name, p.version, p.purl) for p in pkgs]


def test_magic_outside_data_area_is_embedded_data():
    """A build info blob past the data segment (e.g. a Go binary carried as a payload) is not
    this executable's: Go's reader only looks at the data area, and so do we."""
    data = bytearray(elf_with_segment(bytes(256) + inline_blob("go1.21.5", MODINFO)))
    # shrink the PT_LOAD file size so the segment ends before the blob
    struct.pack_into("<QQ", data, 64 + 32, 0x1000, 0x1000)
    assert CAT.parse("bin/installer", bytes(data), FileTree()) == []


@pytest.mark.parametrize(
    "tag,semver",
    [
        ("go1.19", "v1.19.0"),
        ("go1.21.5", "v1.21.5"),
        ("go1.21rc2", "v1.21.0-rc.2"),
        ("go1.9.2rc2", "v1.9.2-rc.2"),
        ("go1.20beta1", "v1.20.0-beta.1"),
        ("go1.21.5 X:boringcrypto", "v1.21.5"),
        ("devel go1.22-abc Tue", ""),
    ],
)
def test_go_semver_as_the_go_vulndb_spells_it(tag, semver):
    assert go_semver(tag) == semver


def test_toolchain_without_patch_is_release_zero_in_purl_and_match():
    """go1.19 is release 1.19.0: govulncheck and the Go vulnerability database say v1.19.0."""
    from containment.match import query_for

    data = elf_with_segment(inline_blob("go1.19", "path\tx/y\nmod\tx/y\tv1.0.0\t\n"))
    std = by_name(CAT.parse("bin/x", data, FileTree()))["stdlib"]
    assert std.version == "go1.19"
    assert std.purl == "pkg:golang/stdlib@1.19.0"
    q = query_for(std, None)
    assert q is not None and q.version == "v1.19.0"
