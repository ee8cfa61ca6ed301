"""Nix packages: store paths, from the Nix database and from the store itself.

Nix installs every package output as a store path, `/nix/store/<hash>-<name>-<version>[-<output>]`
(`h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.34-210-bin`), and registers each valid path in its
SQLite database, `nix/var/nix/db/db.sqlite` (schema 10, src/libstore/schema.sql): table
`ValidPaths(id, path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca)`. The
database is the list of what the store holds (images built with `nixos/nix`, `nix-env`,
`nix profile`); it is read from bytes, query-only, with a step budget.

Name and version come from the store path name as Nix itself splits derivation names
(`builtins.parseDrvName`: the name ends at the first dash not followed by a letter:
`perl5.34.1-TimeDate-2.33` -> `perl5.34.1-TimeDate` 2.33), then:
- a last dash-separated part that is an output name (`bin`, `dev`, `lib`, `man`, ...) is the
  output, not the version (Nix appends it for outputs other than `out`);
- nixpkgs' `unstable-YYYY-MM-DD` versions keep their `unstable-` prefix;
- paths without a version (`<hash>-source`, `-hook`, `-etc-os-release`) and derivations
  (`.drv`) are not packages.

Images built by `dockerTools.buildImage`/`buildLayeredImage` carry no database, only the store
directories: a second cataloger reads the store paths from the file paths under `nix/store/`
(paths only: no file in the store is read). Each package's `path` is its store path
(`nix/store/<hash>-<name>-<version>`), from either source, so one found by both is one package,
and a layer that deletes the store path deletes the package.

purl (as syft writes the proposed `nix` type): `pkg:nix/<name>@<version>?output=<output>&
outputhash=<hash>`. OSV publishes no Nix advisories: inventoried, not matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from containment.catalog._sqlite import ERRORS, open_image
from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

DB_PATHS = frozenset({"nix/var/nix/db/db.sqlite"})
STORE = "nix/store/"
_SQLITE_MAX_STEPS = 20_000_000
_HASH = re.compile(r"[0-9a-df-np-sv-z]{32}")  # Nix base-32 alphabet (no e, o, u, t)
_OUTPUTS = frozenset(
    {"bin", "dev", "out", "lib", "man", "doc", "info", "devdoc", "static", "debug", "devman"}
    | {"modules", "python", "perl", "terminfo", "data", "locales", "examples", "scripts", "sbin"}
    | {"lib32", "lib64", "include", "tools", "getent", "utils", "shadow", "hardeningFlags"}
)
_NOT_PACKAGES = (".drv", ".patch", ".sh", ".lock", ".json", ".nix", ".tar.gz", ".tar.xz", ".tar.bz2", ".zip")


def parse_store_path(path: str) -> tuple[str, str, str, str] | None:
    """`/nix/store/<hash>-glibc-2.34-210-bin` -> ('glibc', '2.34-210', 'bin', '<hash>'); None
    for paths that name no versioned package."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    digest, sep, drv_name = base.partition("-")
    if not sep or not _HASH.fullmatch(digest) or not drv_name or drv_name.endswith(_NOT_PACKAGES):
        return None
    # builtins.parseDrvName: the name is up to the first dash not followed by a letter
    name, version = drv_name, ""
    for i, c in enumerate(drv_name):
        if c == "-" and i + 1 < len(drv_name) and not drv_name[i + 1].isalpha():
            name, version = drv_name[:i], drv_name[i + 1 :]
            break
    if name.endswith("-unstable") and version:
        name, version = name[: -len("-unstable")], "unstable-" + version
    if not name or not version or not (version[0].isdigit() or version.startswith("unstable-")):
        return None
    output = ""
    head, dash, last = version.rpartition("-")
    if dash and last in _OUTPUTS and head:
        version, output = head, last
    return name, version, output, digest


def iter_valid_paths(data: bytes) -> Iterator[tuple[str, str, int | None]]:
    """(path, deriver, narSize) of every row of ValidPaths in a Nix db.sqlite image."""
    con = open_image(data, CatalogError, _SQLITE_MAX_STEPS)
    try:
        cur = con.execute("SELECT path, deriver, narSize FROM ValidPaths ORDER BY id")
        while True:
            rows = cur.fetchmany(512)
            if not rows:
                return
            for path, deriver, size in rows:
                if isinstance(path, str):
                    yield (
                        path,
                        deriver if isinstance(deriver, str) else "",
                        size if isinstance(size, int) else None,
                    )
    except ERRORS as e:
        raise CatalogError(f"unreadable Nix database: {e}") from None
    finally:
        con.close()


class NixDBCataloger(Cataloger):
    name = "nix-db"
    version = 1
    max_size = 512 * MiB
    immediate = True

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path in DB_PATHS

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        out: list[Package] = []
        seen: set[str] = set()
        try:
            for store_path, deriver, size in iter_valid_paths(data):
                parsed = parse_store_path(store_path)
                if parsed is None or store_path in seen:
                    continue
                seen.add(store_path)
                name, version, output, digest = parsed
                try:
                    package_url = purl(
                        "nix", name, version, qualifiers={"output": output, "outputhash": digest}
                    )
                except ValueError:
                    continue
                extra: dict[str, object] = {"db": path}
                if output:
                    extra["output"] = output
                if deriver:
                    extra["deriver"] = deriver.rsplit("/", 1)[-1][:256]
                if size is not None:
                    extra["nar_size"] = size
                out.append(
                    Package(
                        name=name,
                        version=version,
                        type="nix",
                        purl=package_url,
                        path=store_path.lstrip("/"),
                        cataloger=self.name,
                        extra=extra,
                    )
                )
        except CatalogError as e:
            if not out:
                raise CatalogError(f"{path}: {e}") from None
        return out


class NixStoreCataloger(Cataloger):
    """Store paths seen in the file tree (`nix/store/<hash>-<name>-<version>/...`); reads nothing."""

    name = "nix-store"
    version = 1
    paths_only = True

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.startswith(STORE) and len(path) > len(STORE) + 33

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        store_path = "/".join(path.split("/", 3)[:3])
        parsed = parse_store_path(store_path)
        if parsed is None:
            return []
        name, version, output, digest = parsed
        try:
            package_url = purl("nix", name, version, qualifiers={"output": output, "outputhash": digest})
        except ValueError:
            return []
        return [
            Package(
                name=name,
                version=version,
                type="nix",
                purl=package_url,
                path=store_path,
                cataloger=self.name,
                extra={"output": output} if output else {},
            )
        ]


CATALOGERS: list[Cataloger] = [NixDBCataloger(), NixStoreCataloger()]
