"""File-system facts for the image hygiene checks, from the walk's metadata alone (no bytes read).

`FileFactsAnalyzer.entry` sees every entry of every layer, so it only does set lookups and
`str.startswith` on each. It reports:

- `setuid` / `setgid`: regular files (and hard links, whose header carries the mode) with the bit;
- `world-writable`: directories writable by all without the sticky bit (anyone may delete or
  replace anyone's files in them), and regular files writable by all outside temporary
  directories (tmp/, var/tmp/, dev/shm/, run/lock/), where anyone may change what runs or is read;
- `tool`: debugging, network and remote-access programs (sshd, gdb, strace, nc, curl, sudo, ...)
  installed as regular files in a bin/sbin directory. Symbolic links are not counted: in Alpine
  every busybox applet (nc, wget, telnet) is a link to /bin/busybox, present in every image and
  not an installed tool; busybox itself is not reported for the same reason. Debian's alternatives
  (nc -> nc.openbsd) are counted by the real file's name;
- `cache`: package-manager cache content (apt archives and lists, apk, yum/dnf/zypper/pacman, pip,
  npm, yarn, go build, Go module downloads, Gradle, Maven, Cargo, Composer). One fact per cache
  file names the cache directory (`path`) and carries the file's size; `merge` sums them into
  one fact per cache directory, which the layer's collector calls before caching the layer.

The check that judges these facts is containment.checks.image. Facts' `layer` is left empty:
squashing fills it.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from containment.analyzers import LayerAnalyzer
from containment.model import FileFact

if TYPE_CHECKING:
    from containment.catalog.base import FileTree
    from containment.image.walk import Entry

SETUID = "setuid"
SETGID = "setgid"
WORLD_WRITABLE = "world-writable"
TOOL = "tool"
CACHE = "cache"

BIN_DIRS = frozenset({"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin"})

# Program name -> what it is (the image check groups its rules by this).
TOOLS: dict[str, str] = {
    **dict.fromkeys(("sshd", "dropbear", "telnetd", "in.telnetd", "in.rlogind", "in.rshd"), "remote-access"),
    **dict.fromkeys(("gdb", "gdbserver", "strace", "ltrace", "valgrind", "perf"), "debugger"),
    **dict.fromkeys(
        (
            "nc",
            "nc.openbsd",
            "nc.traditional",
            "ncat",
            "netcat",
            "socat",
            "nmap",
            "tcpdump",
            "telnet",
            "ssh",
            "dbclient",
        ),
        "network",
    ),
    **dict.fromkeys(("curl", "wget"), "downloader"),
    **dict.fromkeys(("sudo", "doas"), "privilege"),
}

_BIN_PREFIXES = tuple(d + "/" for d in sorted(BIN_DIRS))
TMP_PREFIXES = ("tmp/", "var/tmp/", "dev/shm/", "run/lock/", "var/lock/")

# Cache directories at fixed places: the whole directory is cache.
_FIXED_CACHES = (
    "var/cache/apt/",
    "var/lib/apt/lists/",
    "var/cache/apk/",
    "var/cache/yum/",
    "var/cache/dnf/",
    "var/cache/zypp/",
    "var/cache/pacman/pkg/",
)
# Cache directories found in any home (root/, home/<user>/, usr/local/share/, a WORKDIR): the
# marker follows a "/" or starts the path.
_HOME_CACHES = (
    ".cache/pip/",
    ".npm/_cacache/",
    ".cache/yarn/",
    ".cache/go-build/",
    ".gradle/caches/",
    ".m2/repository/",
    ".cargo/registry/cache/",
    ".composer/cache/",
    ".cache/composer/",
    "pkg/mod/cache/download/",
)
_NOT_CACHE = frozenset({"lock", ".lock"})  # apt/dnf lock files: present in every base image


def cache_dir(path: str) -> str:
    """The package-manager cache directory a file path lies in, or ""."""
    if path.startswith(_FIXED_CACHES):
        for prefix in _FIXED_CACHES:
            if path.startswith(prefix):
                return prefix[:-1]
    if "/." in path or path.startswith(".") or "pkg/mod/cache/" in path:
        for marker in _HOME_CACHES:
            i = path.find(marker)
            if i == 0 or (i > 0 and path[i - 1] == "/"):
                return path[: i + len(marker) - 1]
    return ""


def merge(facts: Iterable[FileFact]) -> list[FileFact]:
    """One layer's facts with the cache facts summed into one per cache directory (at the
    place of its first file); the other facts pass unchanged, in order."""
    out: list[FileFact] = []
    caches: dict[str, int] = {}  # cache dir -> index in out
    for f in facts:
        if f.what != CACHE:
            out.append(f)
            continue
        i = caches.get(f.path)
        if i is None:
            caches[f.path] = len(out)
            out.append(FileFact(f.path, CACHE, 0, f.size, f.layer))
        else:
            prev = out[i]
            out[i] = FileFact(prev.path, CACHE, 0, prev.size + f.size, prev.layer)
    return out


class FileFactsAnalyzer(LayerAnalyzer):
    """Setuid/setgid bits, world-writable entries, tools and caches, from entries' metadata."""

    name = "file-facts"
    version = 1
    group = "files"
    wants_entries = True

    def wants(self, path: str, mode: int, size: int) -> bool:
        return False

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Any]:
        return ()

    def entry(self, e: Entry) -> tuple[FileFact, ...]:
        """Facts from one entry's metadata; called for every entry of every layer, so early exits."""
        kind = e.kind
        mode = e.mode
        if kind == "dir":
            return (FileFact(e.path, WORLD_WRITABLE, mode),) if mode & 0o1002 == 0o002 else ()
        if kind != "file" and kind != "hardlink":
            return ()
        path = e.path
        out: tuple[FileFact, ...] = ()
        if mode & 0o6002:  # rare: most files are 0644/0755
            if mode & stat.S_ISUID:
                out += (FileFact(path, SETUID, mode, e.size),)
            if mode & stat.S_ISGID:
                out += (FileFact(path, SETGID, mode, e.size),)
            if mode & 0o002 and not path.startswith(TMP_PREFIXES):
                out += (FileFact(path, WORLD_WRITABLE, mode, e.size),)
        if path.startswith(_BIN_PREFIXES):
            slash = path.rfind("/")
            if path[slash + 1 :] in TOOLS and path[:slash] in BIN_DIRS:
                out += (FileFact(path, TOOL, mode, e.size),)
        if path.startswith(_FIXED_CACHES) or "/." in path or path.startswith(".") or "pkg/mod/cache/" in path:
            root = cache_dir(path)
            if root and path[path.rfind("/") + 1 :] not in _NOT_CACHE:
                out += (FileFact(root, CACHE, 0, e.size),)
        return out

    def finish(self, facts: list[Any]) -> list[Any]:
        """One fact per cache directory (a layer may hold thousands of cached files)."""
        return merge(facts)


ANALYZERS = (FileFactsAnalyzer(),)

__all__ = ["ANALYZERS", "CACHE", "SETGID", "SETUID", "TOOL", "TOOLS", "WORLD_WRITABLE", "cache_dir", "merge"]
