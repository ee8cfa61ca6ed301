"""checks.filefacts: facts from entries' metadata, fed by the real layer walk over real tars."""

from __future__ import annotations

import io
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment import analyzers
from containment.checks import filefacts
from containment.checks.filefacts import ANALYZERS, FileFactsAnalyzer, cache_dir, merge
from containment.image.build import TarEntry, compress, layer_tar
from containment.image.walk import Entry, walk_tar
from containment.model import FileFact

ANALYZER = ANALYZERS[0]


class FactsVisitor:
    """The smallest walk visitor: every entry through the analyzer, no file read."""

    def __init__(self) -> None:
        self.facts: list[FileFact] = []
        self.asked: list[str] = []

    def entry(self, e: Entry) -> None:
        self.facts.extend(ANALYZER.entry(e))

    def wants(self, path: str, mode: int, size: int) -> bool:
        self.asked.append(path)
        return ANALYZER.wants(path, mode, size)

    def file(self, path: str, data: bytes) -> None:  # pragma: no cover - nothing is wanted
        raise AssertionError(f"{path} was read")

    def unreadable(self, path: str, error: OSError, is_dir: bool) -> None:  # pragma: no cover
        raise AssertionError(path)


def walk(entries: list[TarEntry], how: str = "gzip") -> list[FileFact]:
    blob, media_type = compress(layer_tar(entries), how)
    v = FactsVisitor()
    walk_tar(io.BytesIO(blob), v, "test layer", media_type=media_type)
    return v.facts


LAYER = [
    TarEntry("usr/bin/passwd", b"\x7fELF", mode=0o4755),
    TarEntry("usr/bin/chage", b"\x7fELF", mode=0o2755),
    TarEntry("usr/local/bin/find", b"\x7fELF find", mode=0o4755),
    TarEntry("usr/local/bin/both", b"x", mode=0o6755),
    TarEntry("usr/local/bin/find-link", kind="hardlink", link="usr/local/bin/find", mode=0o4755),
    TarEntry("usr/bin/ls", b"\x7fELF", mode=0o755),
    TarEntry("opt/shared", kind="dir", mode=0o777),
    TarEntry("tmp", kind="dir", mode=0o1777),
    TarEntry("var/www", kind="dir", mode=0o775),
    TarEntry("etc/app.conf", b"k=v", mode=0o666),
    TarEntry("tmp/scratch", b"x", mode=0o666),
    TarEntry("var/tmp/scratch", b"x", mode=0o666),
    TarEntry("usr/sbin/sshd", b"\x7fELF", mode=0o755),
    TarEntry("usr/bin/gdb", b"\x7fELF", mode=0o755),
    TarEntry("bin/nc.openbsd", b"\x7fELF", mode=0o755),
    TarEntry("usr/bin/curl", b"\x7fELF", mode=0o755),
    TarEntry("usr/bin/sudo", b"\x7fELF", mode=0o4755),
    TarEntry("bin/busybox", b"\x7fELF", mode=0o755),
    TarEntry("usr/bin/wget", kind="symlink", link="/bin/busybox"),
    TarEntry("usr/share/doc/curl", kind="dir"),
    TarEntry("usr/share/doc/curl/copyright", b"c"),
    TarEntry("opt/app/bin/curl", b"not in a system bin dir", mode=0o755),
    TarEntry("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", b"x" * 1000),
    TarEntry(
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4", b"y" * 500
    ),
    TarEntry("var/lib/apt/lists/lock", b""),
    TarEntry("var/lib/apt/lists/partial", kind="dir", mode=0o700),
    TarEntry("var/cache/apt/archives/python3_3.11.2-1_amd64.deb", b"z" * 300),
    TarEntry("root/.cache/pip/http-v2/a/b/c", b"p" * 40),
    TarEntry("root/.cache/pip/http-v2/a/b/d", b"p" * 60),
    TarEntry("home/app/.npm/_cacache/content-v2/sha512/ab/cd", b"n" * 7),
    TarEntry("var/lib/dpkg/status", b"Package: x\n"),
]


def by_what(facts: list[FileFact]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in facts:
        out.setdefault(f.what, set()).add(f.path)
    return out


@pytest.mark.parametrize("how", ["gzip", "zstd", "none"])
def test_real_layer_through_the_walk(how: str) -> None:
    facts = walk(LAYER, how)
    got = by_what(facts)
    assert got["setuid"] == {
        "usr/bin/passwd",
        "usr/local/bin/find",
        "usr/local/bin/both",
        "usr/local/bin/find-link",
        "usr/bin/sudo",
    }
    assert got["setgid"] == {"usr/bin/chage", "usr/local/bin/both"}
    # world-writable: the directory without sticky bit and the file outside tmp dirs only
    assert got["world-writable"] == {"opt/shared", "etc/app.conf"}
    # tools: regular files in bin dirs only (no busybox, no link, no doc dir, no app-private copy)
    assert got["tool"] == {"usr/sbin/sshd", "usr/bin/gdb", "bin/nc.openbsd", "usr/bin/curl", "usr/bin/sudo"}
    assert got["cache"] == {"var/lib/apt/lists", "var/cache/apt", "root/.cache/pip", "home/app/.npm/_cacache"}
    for f in facts:
        assert f.layer == ""
    find = next(f for f in facts if f.path == "usr/local/bin/find" and f.what == "setuid")
    assert stat.S_ISREG(find.mode) and find.mode & 0o7777 == 0o4755
    shared = next(f for f in facts if f.path == "opt/shared")
    assert stat.S_ISDIR(shared.mode)


def test_cache_facts_merge_into_one_per_directory_with_summed_size() -> None:
    merged = merge(walk(LAYER))
    caches = {f.path: f.size for f in merged if f.what == "cache"}
    assert caches == {
        "var/lib/apt/lists": 1500,  # the lock file is not counted
        "var/cache/apt": 300,
        "root/.cache/pip": 100,
        "home/app/.npm/_cacache": 7,
    }
    others = [f for f in merged if f.what != "cache"]
    assert others == [f for f in walk(LAYER) if f.what != "cache"]  # order and content kept


def test_merge_keeps_layer_and_order() -> None:
    facts = [
        FileFact("var/cache/apk", "cache", 0, 5, "sha256:a"),
        FileFact("usr/bin/x", "setuid", 0o104755, 1, "sha256:a"),
        FileFact("var/cache/apk", "cache", 0, 7, "sha256:a"),
    ]
    assert merge(facts) == [FileFact("var/cache/apk", "cache", 0, 12, "sha256:a"), facts[1]]


def test_a_layer_with_many_cache_files_gives_one_fact_after_merge() -> None:
    entries = [TarEntry(f"root/.cache/go-build/{i:02x}/{i}-d", b"o" * 3) for i in range(2000)]
    facts = walk(entries, "none")
    assert len(facts) == 2000
    assert merge(facts) == [FileFact("root/.cache/go-build", "cache", 0, 6000)]


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("var/cache/apt/archives/a.deb", "var/cache/apt"),
        ("var/cache/apt/pkgcache.bin", "var/cache/apt"),
        ("var/lib/apt/lists/x_Packages", "var/lib/apt/lists"),
        ("var/cache/apk/APKINDEX.abc.tar.gz", "var/cache/apk"),
        ("var/cache/yum/x86_64/8/base/repomd.xml", "var/cache/yum"),
        ("var/cache/dnf/fedora.solv", "var/cache/dnf"),
        ("var/cache/zypp/raw/repo", "var/cache/zypp"),
        ("var/cache/pacman/pkg/a.pkg.tar.zst", "var/cache/pacman/pkg"),
        ("root/.cache/pip/wheels/a.whl", "root/.cache/pip"),
        ("home/dev/.cache/pip/http/x", "home/dev/.cache/pip"),
        ("root/.npm/_cacache/index-v5/a", "root/.npm/_cacache"),
        ("usr/local/share/.cache/yarn/v6/x", "usr/local/share/.cache/yarn"),
        ("root/.cache/go-build/ab/x-d", "root/.cache/go-build"),
        ("go/pkg/mod/cache/download/github.com/x/@v/v1.zip", "go/pkg/mod/cache/download"),
        ("home/gradle/.gradle/caches/modules-2/x.jar", "home/gradle/.gradle/caches"),
        ("root/.m2/repository/org/x/1/x-1.jar", "root/.m2/repository"),
        ("root/.cargo/registry/cache/idx/a.crate", "root/.cargo/registry/cache"),
        (".cache/pip/x", ".cache/pip"),
        ("var/cache/debconf/config.dat", ""),  # debconf's database, not a download cache
        ("go/pkg/mod/github.com/x/y@v1/z.go", ""),  # module sources, not the download cache
        ("usr/lib/python3/dist-packages/pip/_internal/cache.py", ""),
        ("opt/my.cache/pip/x", ""),  # the marker must start a path segment
        ("var/lib/dpkg/status", ""),
    ],
)
def test_cache_dir(path: str, root: str) -> None:
    assert cache_dir(path) == root


def test_registered_in_the_files_group() -> None:
    assert isinstance(ANALYZER, FileFactsAnalyzer)
    assert ANALYZER.group == "files" and ANALYZER.wants_entries
    assert any(isinstance(a, FileFactsAnalyzer) for a in analyzers.analyzers("files"))
    assert not ANALYZER.wants("usr/bin/passwd", stat.S_IFREG | 0o4755, 10)
    assert list(ANALYZER.parse("x", b"", None)) == []  # type: ignore[arg-type]


KINDS = st.sampled_from(["file", "dir", "symlink", "hardlink", "whiteout", "opaque", "other"])
PATHS = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            [
                "usr",
                "bin",
                "sbin",
                "local",
                "var",
                "cache",
                "apt",
                "lib",
                "lists",
                ".cache",
                "pip",
                "root",
                "tmp",
                "sshd",
                "nc",
                "lock",
                ".npm",
                "_cacache",
                "pkg",
                "mod",
                "download",
                "",
            ]
        ),
        max_size=8,
    ).map("/".join),
)


@settings(max_examples=400, deadline=None)
@given(
    path=PATHS, kind=KINDS, mode=st.integers(min_value=0, max_value=0o177777), size=st.integers(0, 1 << 40)
)
def test_entry_never_raises_and_facts_follow_the_mode(path: str, kind: str, mode: int, size: int) -> None:
    facts = list(ANALYZER.entry(Entry(path, kind, mode, size)))
    assert all(isinstance(f, FileFact) and f.layer == "" for f in facts)
    whats = [f.what for f in facts]
    regular = kind in ("file", "hardlink")
    assert ("setuid" in whats) == (regular and bool(mode & 0o4000))
    assert ("setgid" in whats) == (regular and bool(mode & 0o2000))
    if kind == "dir":
        assert whats == (["world-writable"] if mode & 0o1002 == 0o002 else [])
    if not regular and kind != "dir":
        assert facts == []
    for f in facts:
        if f.what == "cache":
            assert path.startswith(f.path + "/") and f.size == size
        elif f.what == "tool":
            assert path.rsplit("/", 1)[-1] in filefacts.TOOLS


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.builds(
            FileFact,
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["cache", "setuid"]),
            st.just(0),
            st.integers(0, 10**6),
        ),
        max_size=30,
    )
)
def test_merge_conserves_sizes(facts: list[FileFact]) -> None:
    merged = merge(facts)
    for path in {f.path for f in facts if f.what == "cache"}:
        sizes = [m.size for m in merged if m.what == "cache" and m.path == path]
        assert sizes == [sum(f.size for f in facts if f.what == "cache" and f.path == path)]
    assert [f for f in merged if f.what != "cache"] == [f for f in facts if f.what != "cache"]
