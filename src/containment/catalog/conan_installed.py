"""Conan packages installed in a Conan cache or deployed from one.

Three places say which C/C++ packages Conan put on disk:

- Conan 1 cache: `<home>/.conan/data/<name>/<version>/<user>/<channel>/package/<package_id>/
  conaninfo.txt` (user and channel are `_` when the reference has none). The path names the
  package; the file's `[full_requires]` section lists the exact binaries it was built against
  (`zlib/1.2.13:<package_id>`, `pkg/1.0@user/channel:<id>`); those are reported too, unless the
  same tree holds their own cache entry (then that entry reports them).
- Conan 2 `full_deploy` deployer output: `full_deploy/<host|build>/<name>/<version>[/<build_type>]
  [/<arch>]/conaninfo.txt` (a copy of the package folder). Packages of the `build` context are
  tools: dev.
- Conan 2 cache database: `<home>/.conan2/p/cache.sqlite3`, table `packages(reference, rrev,
  pkgid, prev, path, timestamp, build_id, lru)`: one row per binary package in the cache
  (`reference` is `name/version[@user/channel]`; `prev` is empty while a package is still being
  built, and such rows are skipped). Conan 2's package folders (`p/b/<name><hash>/p/`) do not
  name their package; the database does.

conaninfo.txt is an INI-like file: `[section]` lines, then one value per line (indented in
Conan 1). Sections read: `[full_requires]`, `[settings]` (`os`, `arch`, `build_type` go to
`extra`). purl as for conan.lock: `pkg:conan/<name>@<version>` with `user`, `channel`, `rrev`.
Matched against OSV's ConanCenter ecosystem (which publishes no records today).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from containment.catalog._sqlite import ERRORS, open_image
from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.catalog.conan_lock import parse_ref
from containment.model import CatalogError, Package

_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_SQLITE_MAX_STEPS = 5_000_000


def parse_conaninfo(text: str) -> dict[str, list[str]]:
    """`[section]` -> its non-empty lines (stripped)."""
    out: dict[str, list[str]] = {}
    cur: list[str] | None = None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = out.setdefault(line[1:-1].strip(), [])
            continue
        if cur is not None and len(cur) < 100_000:
            cur.append(line)
    return out


def _conan1_ref(path: str) -> tuple[str, str, str, str, str] | None:
    """(name, version, user, channel, package_id) of a Conan 1 cache path, else None."""
    parts = path.split("/")
    if len(parts) < 7 or parts[-3] != "package":
        return None
    name, version, user, channel, pkg_id = parts[-7], parts[-6], parts[-5], parts[-4], parts[-2]
    if not all(_TOKEN.fullmatch(x) for x in (name, version, user, channel, pkg_id)):
        return None
    return name, version, "" if user == "_" else user, "" if channel == "_" else channel, pkg_id


def _deploy_ref(path: str) -> tuple[str, str, bool] | None:
    """(name, version, is-build-context) of a full_deploy path, else None."""
    parts = path.split("/")
    try:
        i = len(parts) - 1 - parts[::-1].index("full_deploy")
    except ValueError:
        return None
    rest = parts[i + 1 : -1]
    if not 3 <= len(rest) <= 5 or rest[0] not in ("host", "build"):
        return None
    name, version = rest[1], rest[2]
    if not _TOKEN.fullmatch(name) or not _TOKEN.fullmatch(version):
        return None
    return name, version, rest[0] == "build"


def _package(
    cataloger: str,
    path: str,
    name: str,
    version: str,
    user: str = "",
    channel: str = "",
    rrev: str = "",
    dev: bool = False,
    extra: dict[str, Any] | None = None,
) -> Package | None:
    try:
        package_url = purl(
            "conan", name, version, qualifiers={"user": user, "channel": channel, "rrev": rrev}
        )
    except ValueError:
        return None
    return Package(
        name=name,
        version=version,
        type="conan",
        purl=package_url,
        path=path,
        cataloger=cataloger,
        dev=dev,
        extra=dict(extra or {}),
    )


class ConanInfoCataloger(Cataloger):
    """conaninfo.txt of Conan 1 cache package folders and of Conan 2 full_deploy folders."""

    name = "conan-info-installed"
    version = 1
    max_size = 4 * MiB

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("/conaninfo.txt") and (
            _conan1_ref(path) is not None or _deploy_ref(path) is not None
        )

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if b"\x00" in data[:65536]:
            raise CatalogError(f"{path}: binary data, not a conaninfo.txt")
        info = parse_conaninfo(data.decode("utf-8", "replace"))
        settings = dict(line.partition("=")[::2] for line in info.get("settings", ()) if "=" in line)
        extra: dict[str, Any] = {
            k.replace(".", "_"): v.strip()[:64]
            for k, v in settings.items()
            if k in ("os", "arch", "build_type")
        }
        out: list[Package] = []
        c1 = _conan1_ref(path)
        if c1 is not None:
            name, version, user, channel, pkg_id = c1
            p = _package(self.name, path, name, version, user, channel, extra={**extra, "package_id": pkg_id})
        else:
            d = _deploy_ref(path)
            if d is None:
                return []
            name, version, build = d
            p = _package(self.name, path, name, version, dev=build, extra={**extra, "deployed": True})
        if p is not None:
            out.append(p)
        present = self._present(tree)
        seen = {(name, version)}
        for line in info.get("full_requires", ()):
            parsed = parse_ref(line)
            if parsed is None:
                continue
            rname, rversion, ruser, rchannel, rrev = parsed
            if (rname, rversion) in seen or (rname, rversion) in present:
                continue  # its own cache entry or deploy folder in this tree reports it
            seen.add((rname, rversion))
            q = _package(
                self.name,
                path,
                rname,
                rversion,
                ruser,
                rchannel,
                rrev,
                dev=p.dev if p is not None else False,
                extra={"required_by": f"{name}/{version}"},
            )
            if q is not None:
                out.append(q)
        return out

    @staticmethod
    def _present(tree: FileTree) -> set[tuple[str, str]]:
        out = set()
        for other in tree.paths():
            c1 = _conan1_ref(other)
            if c1 is not None:
                out.add((c1[0], c1[1]))
                continue
            d = _deploy_ref(other)
            if d is not None:
                out.add((d[0], d[1]))
        return out


def iter_cache_rows(data: bytes) -> Iterator[tuple[str, str, str]]:
    """(reference, rrev, pkgid) of the complete binary packages in a Conan 2 cache.sqlite3."""
    con = open_image(data, CatalogError, _SQLITE_MAX_STEPS)
    try:
        cur = con.execute("SELECT reference, rrev, pkgid, prev FROM packages ORDER BY rowid")
        while True:
            rows = cur.fetchmany(256)
            if not rows:
                return
            for ref, rrev, pkgid, prev in rows:
                if isinstance(ref, str) and prev:
                    yield (
                        ref,
                        rrev if isinstance(rrev, str) else "",
                        pkgid if isinstance(pkgid, str) else "",
                    )
    except ERRORS as e:
        raise CatalogError(f"unreadable Conan cache database: {e}") from None
    finally:
        con.close()


class ConanCacheCataloger(Cataloger):
    """The Conan 2 cache database (`<conan home>/p/cache.sqlite3`)."""

    name = "conan-cache-installed"
    version = 1
    max_size = 256 * MiB
    immediate = True

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("/p/cache.sqlite3") or path == "p/cache.sqlite3"

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        out: list[Package] = []
        seen: set[tuple[str, str, str, str, str]] = set()
        try:
            for ref, rrev, pkgid in iter_cache_rows(data):
                parsed = parse_ref(ref)
                if parsed is None:
                    continue
                name, version, user, channel, _ = parsed
                key = (name, version, user, channel, rrev)
                if key in seen:
                    continue  # another binary (settings/options) of the same recipe revision
                seen.add(key)
                p = _package(self.name, path, name, version, user, channel, rrev, extra={"package_id": pkgid})
                if p is not None:
                    out.append(p)
        except CatalogError as e:
            if not out:
                raise CatalogError(f"{path}: {e}") from None
        return out


CATALOGERS: list[Cataloger] = [ConanInfoCataloger(), ConanCacheCataloger()]
