"""Go binaries: the module build info the Go linker embeds (what `go version -m` prints).

Format (Go's cmd/link and debug/buildinfo):
- a 32-byte header, 16-byte aligned, starting with the magic `\\xff Go buildinf:` (14 bytes),
  then the pointer size (1 byte) and a flags byte (bit 0: big endian, bit 1: inline strings);
- Go >= 1.18 (inline): two uvarint-length-prefixed strings follow the header: the runtime
  version (`go1.21.5`) and the module info;
- Go 1.13..1.17: two pointers (at header+16 and header+16+ptrsize) to Go string headers
  (data pointer, length) for runtime.buildVersion and runtime.modinfo; resolved through the
  executable's loaded segments.
The header is searched where Go's own reader looks: the `.go.buildinfo` section (ELF),
`__go_buildinfo` (Mach-O), else the start of the first writable data segment/section.

Module info is framed by two 16-byte sentinels and holds tab-separated lines:
`path <main package path>`, `mod <path> <version> <h1 sum>`, `dep <path> <version> <sum>`,
`=> <path> <version> <sum>` (replaces the module on the line before), `build <key>=<value>`.

Packages: the main module (version as recorded, `(devel)` kept), each dep, and the standard
library as `stdlib` (version `go1.X[.Y]` as Go prints it; purl `pkg:golang/stdlib@1.X.Y` and, for
matching and findings, `v1.X.Y` as the Go vulnerability database spells it: go1.19 is v1.19.0).
A replaced dep is reported under the replacement's path and version (what is compiled in; the
same choice syft and govulncheck make). A replacement by a local directory (`=> ../lib`) has no
module identity: it is reported under the original module path with version `(devel)` (what Go
records for it), the directory kept in extra.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from containment.catalog import _exe
from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import Package

MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_ALIGN = 16
_SEARCH = 64 * 1024  # Go searches the first 64 KiB of the data area for the header
_MAX_STR = 16 * MiB  # no real version or modinfo string is this long
_SENTINEL = 16

# Executable-bit files that are never binaries worth opening (scripts, docs, sources). The
# check is a suffix test on the path: cheaper than reading the bytes to find no ELF magic.
_SKIP_SUFFIXES = (
    ".sh",
    ".bash",
    ".py",
    ".pyc",
    ".pl",
    ".pm",
    ".rb",
    ".js",
    ".php",
    ".txt",
    ".md",
    ".html",
    ".xml",
    ".json",
    ".yaml",
    ".yml",
    ".conf",
    ".cfg",
    ".ini",
    ".h",
    ".c",
    ".go",
    ".java",
    ".class",
    ".jar",
    ".png",
    ".svg",
    ".gz",
    ".xz",
    ".zip",
    ".a",
    ".o",
    ".ko",
)


def executable_wanted(path: str, mode: int, size: int, max_size: int) -> bool:
    """The shared `wants` rule of the binary catalogers: an executable-bit file big enough to
    be a binary and not obviously a script or data file."""
    return bool(mode & 0o111) and 1024 <= size <= max_size and not path.endswith(_SKIP_SUFFIXES)


def _uvarint(data: bytes, pos: int) -> tuple[int, int] | None:
    """(value, next position) of a Go uvarint at `pos`, or None when malformed."""
    result = 0
    shift = 0
    for i in range(10):
        if pos + i >= len(data):
            return None
        b = data[pos + i]
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos + i + 1
        shift += 7
    return None


def _find_header(exe: _exe.Exe | None, data: bytes) -> int:
    """File offset of the build info header, or -1."""
    if exe is not None and exe.data_start[1]:
        addr, size = exe.data_start
        loc = exe.offset_of(addr)
        if loc is not None:
            start, avail = loc
            end = start + min(avail, size, _SEARCH)
            i = start
            while True:
                i = data.find(MAGIC, i, end)
                if i < 0 or end - i < _HEADER:
                    break
                if (addr + (i - start)) % _ALIGN == 0:
                    return i
                i += 1
        # Go's own reader stops here: a magic elsewhere in the file belongs to embedded data
        # (an installer carrying a Go binary), not to this executable.
        return -1
    # No usable tables (damaged or unusual headers): any 16-aligned header in the file.
    i = 0
    while True:
        i = data.find(MAGIC, i)
        if i < 0 or len(data) - i < _HEADER:
            return -1
        if i % _ALIGN == 0:
            return i
        i += 1


def _read_go_string(exe: _exe.Exe, header_addr: int, ptr_size: int, big: bool) -> bytes:
    """A Go string through a pointer to its string header (pre-1.18 layout)."""
    order: Literal["big", "little"] = "big" if big else "little"
    hdr = exe.read(header_addr, 2 * ptr_size)
    if hdr is None or len(hdr) < 2 * ptr_size:
        return b""
    ptr = int.from_bytes(hdr[:ptr_size], order)
    n = int.from_bytes(hdr[ptr_size:], order)
    if n <= 0 or n > _MAX_STR:
        return b""
    raw = exe.read(ptr, n)
    if raw is None or len(raw) != n:
        return b""
    return raw


def read_buildinfo(data: bytes) -> tuple[str, str] | None:
    """(Go version, module info text without sentinels) of a Go executable, or None."""
    if data.find(MAGIC) < 0:  # C-speed bail out for the common case: not a Go binary
        return None
    exe = _exe.parse(data)
    off = _find_header(exe, data)
    if off < 0:
        return None
    ptr_size = data[off + 14]
    flags = data[off + 15]
    if flags & 2:  # Go >= 1.18: strings inline after the header
        v = _uvarint(data, off + _HEADER)
        if v is None or v[0] > _MAX_STR or v[1] + v[0] > len(data):
            return None
        vers = data[v[1] : v[1] + v[0]]
        m = _uvarint(data, v[1] + v[0])
        mod = b""
        if m is not None and m[0] <= _MAX_STR and m[1] + m[0] <= len(data):
            mod = data[m[1] : m[1] + m[0]]
    else:
        if exe is None or ptr_size not in (4, 8):
            return None
        big = bool(flags & 1)
        order: Literal["big", "little"] = "big" if big else "little"
        p1 = int.from_bytes(data[off + 16 : off + 16 + ptr_size], order)
        p2 = int.from_bytes(data[off + 16 + ptr_size : off + 16 + 2 * ptr_size], order)
        vers = _read_go_string(exe, p1, ptr_size, big)
        mod = _read_go_string(exe, p2, ptr_size, big)
    if not vers:
        return None
    # Strip the sentinels framing module info (cmd/go's infoStart / infoEnd).
    framed = len(mod) >= 2 * _SENTINEL + 1 and mod[-_SENTINEL - 1] == 0x0A
    mod = mod[_SENTINEL:-_SENTINEL] if framed else b""
    return vers.decode("utf-8", "replace"), mod.decode("utf-8", "replace")


def _unquote(s: str) -> str:
    """Build setting keys/values are Go-quoted when they contain spaces, quotes or '='."""
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        try:
            v = json.loads(s)
        except ValueError:
            return s[1:-1]
        return v if isinstance(v, str) else s
    return s


def _split_setting(rest: str) -> tuple[str, str] | None:
    if rest.startswith('"'):  # quoted key: find its closing quote
        i = 1
        while i < len(rest):
            if rest[i] == "\\":
                i += 2
                continue
            if rest[i] == '"':
                break
            i += 1
        key, tail = rest[: i + 1], rest[i + 1 :]
        if not tail.startswith("="):
            return None
        return _unquote(key), _unquote(tail[1:])
    k, sep, v = rest.partition("=")
    if not sep or not k:
        return None
    return k, _unquote(v)


class _Mod:
    __slots__ = ("path", "version", "sum", "replace")

    def __init__(self, path: str, version: str, sum_: str) -> None:
        self.path = path
        self.version = version
        self.sum = sum_
        self.replace: _Mod | None = None


def parse_modinfo(text: str) -> tuple[str, _Mod | None, list[_Mod], dict[str, str]]:
    """(main package path, main module, deps, build settings) of module info text, as Go's
    debug.ParseBuildInfo reads it; malformed lines are skipped."""
    path = ""
    main: _Mod | None = None
    deps: list[_Mod] = []
    settings: dict[str, str] = {}
    last: _Mod | None = None
    for line in text.split("\n"):
        word, _, rest = line.partition("\t")
        if word == "path":
            path = rest
        elif word in ("mod", "dep", "=>"):
            f = rest.split("\t")
            if not f or not f[0] or len(f) > 3:
                continue
            m = _Mod(f[0], f[1] if len(f) > 1 else "", f[2] if len(f) > 2 else "")
            if word == "=>":
                if last is not None and last.replace is None:
                    last.replace = m
                last = None
                continue
            if word == "mod":
                main = m
            else:
                deps.append(m)
            last = m
        elif word == "build":
            kv = _split_setting(rest)
            if kv is not None and len(settings) < 256:
                settings[kv[0]] = kv[1][:1024]
    return path, main, deps, settings


def _is_local_path(p: str) -> bool:
    return p.startswith(("./", "../", "/", ".\\", "..\\")) or p in (".", "..") or (len(p) > 2 and p[1] == ":")


def _split_module(path: str) -> tuple[str, str]:
    ns, _, name = path.rpartition("/")
    return ns, name


def _module_package(
    m: _Mod, file_path: str, cataloger: str, main_path: str, go_version: str, is_main: bool
) -> Package | None:
    name, version, h1 = m.path, m.version, m.sum
    extra: dict[str, object] = {"main_module": main_path, "go_version": go_version}
    if is_main:
        extra["main"] = True
    r = m.replace
    if r is not None:
        extra["replaced"] = f"{m.path}@{m.version}" if m.version else m.path
        if _is_local_path(r.path):
            version, h1 = r.version or "(devel)", ""
            extra["replace_dir"] = r.path
        else:
            name, version, h1 = r.path, r.version, r.sum
    if not name or _is_local_path(name):
        return None
    if h1:
        extra["h1"] = h1
    ns, base = _split_module(name)
    return Package(
        name=name,
        version=version,
        type="golang",
        purl=purl("golang", base, version, ns),
        path=file_path,
        cataloger=cataloger,
        extra=extra,
    )


def stdlib_version(go_version: str) -> str:
    """`go1.21.5` from `go1.21.5`, `go1.21.5 X:boringcrypto`; devel toolchains kept whole."""
    first = go_version.split(" ", 1)[0]
    return first if first.startswith("go") else go_version


_GO_TAG = re.compile(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?$")


def go_semver(tag: str) -> str:
    """A Go release tag as the Go vulnerability database and govulncheck spell it:
    go1.19 -> v1.19.0, go1.21.5 -> v1.21.5, go1.21rc2 -> v1.21.0-rc.2 ("" when not a release tag).
    (x/vuln's GoTagToSemver rules: a missing patch is 0; a pre-release becomes -rc.N / -beta.N.)"""
    m = _GO_TAG.match(stdlib_version(tag))
    if not m:
        return ""
    major, minor, patch, pre, num = m.groups()
    v = f"v{major}.{minor or 0}.{patch or 0}"
    return f"{v}-{pre}.{num}" if pre else v


_SEMVERISH = re.compile(r"^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.+~-]*)?$")


def version_from_ldflags(ldflags: str) -> str:
    """The main module's version stamped with `-X pkg.version=...` (how distro and release builds
    set it when the module itself says `(devel)`); "" when none looks like a version."""
    if "-X" not in ldflags:
        return ""
    try:
        words = shlex.split(ldflags)
    except ValueError:
        words = ldflags.split()
    pairs: list[str] = []
    for i, w in enumerate(words):
        if w == "-X" and i + 1 < len(words):
            pairs.append(words[i + 1])
        elif w.startswith("-X="):
            pairs.append(w[3:])
    for pair in pairs:
        key, sep, value = pair.partition("=")
        k = key.lower()
        if sep and (k.endswith(".version") or k.endswith(".ver") or k.endswith(".gitversion")):
            value = value.strip().strip("'\"")
            if _SEMVERISH.match(value):
                return value if value.startswith("v") else "v" + value
    return ""


class GoBinaryCataloger(Cataloger):
    name = "go-binary"
    version = 2
    max_size = 512 * MiB
    immediate = True

    def wants(self, path: str, mode: int, size: int) -> bool:
        return executable_wanted(path, mode, size, self.max_size)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        info = read_buildinfo(data)
        if info is None:
            return []
        go_version, modinfo = info
        main_path, main, deps, settings = parse_modinfo(modinfo)
        from_path = False
        if main is None and main_path and "/" in main_path and not _is_local_path(main_path):
            # No `mod` line: built outside module mode (GOPATH, distro packaging). The main
            # package path is the only identity there is; like syft, report it, version unknown.
            main = _Mod(main_path, "(devel)", "")
            from_path = True
        main_module = main.path if main is not None else ""
        out: list[Package] = []
        seen: set[tuple[str, str]] = set()
        if main is not None:
            p = _module_package(main, path, self.name, main_module, go_version, True)
            if p is not None:
                extra = dict(p.extra)
                if main_path:
                    extra["path"] = main_path
                if settings:
                    extra["build_settings"] = settings
                    rev, when = settings.get("vcs.revision", ""), settings.get("vcs.time", "")
                    if rev:
                        extra["vcs_revision"] = rev
                    ld_version = version_from_ldflags(settings.get("-ldflags", ""))
                    if p.version == "(devel)" and ld_version:
                        ns, base = _split_module(p.name)
                        p = replace(p, version=ld_version, purl=purl("golang", base, ld_version, ns))
                        extra["version_from"] = "ldflags"
                    if p.version == "(devel)" and rev and len(when) >= 19:
                        # the pseudo-version Go would give this commit (syft reports it as the version)
                        stamp = when[:19].replace("-", "").replace(":", "").replace("T", "")
                        if stamp.isdigit() and len(stamp) == 14:
                            extra["pseudo_version"] = f"v0.0.0-{stamp}-{rev[:12]}"
                if from_path:
                    extra["main_from_path"] = True
                out.append(replace(p, extra=extra))
                seen.add((p.name, p.version))
        for d in deps:
            p = _module_package(d, path, self.name, main_module, go_version, False)
            if p is not None and (p.name, p.version) not in seen:
                seen.add((p.name, p.version))
                out.append(p)
        v = stdlib_version(go_version)
        semver = go_semver(v)
        if semver:
            out.append(
                Package(
                    name="stdlib",
                    version=v,
                    type="golang",
                    purl=purl("golang", "stdlib", semver[1:]),
                    path=path,
                    cataloger=self.name,
                    extra={"go_version": go_version, "main_module": main_module, "semver": semver},
                )
            )
        goos, goarch = settings.get("GOOS", ""), settings.get("GOARCH", "")
        if goos or goarch:  # every module in the binary was built for this platform
            out = [replace(p, extra={**p.extra, "goos": goos, "goarch": goarch}) for p in out]
        return out


CATALOGERS: list[Cataloger] = [GoBinaryCataloger()]
