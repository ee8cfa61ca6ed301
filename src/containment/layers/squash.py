"""Squash: an image's per-layer facts applied bottom to top, and the finishing touches on the
package list (installed beats declared in images, declared beats installed in source trees;
distro qualifiers on OS purls)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace

from containment.catalog import osrelease
from containment.catalog.base import purl
from containment.catalog.registry import declared_names
from containment.layers.facts import LayerFacts
from containment.model import OS_TYPES, ConfigDoc, FileFact, Gap, OSInfo, Package, SecretFinding
from containment.notes import Note, condense

MAX_LINK_HOPS = 40


def _deleted(path: str, gone: set[str], emptied: set[str]) -> bool:
    if path in gone or "" in emptied:
        return True
    i = path.rfind("/")
    while i > 0:
        anc = path[:i]
        if anc in gone or anc in emptied:
            return True
        i = path.rfind("/", 0, i)
    return False


@dataclass
class Squashed:
    """An image's layers applied bottom to top."""

    os: OSInfo | None
    packages: list[Package]
    warnings: list[str]
    gaps: list[Gap]
    secrets: list[SecretFinding] = field(default_factory=list)
    configs: list[ConfigDoc] = field(default_factory=list)
    files: list[FileFact] = field(default_factory=list)


def squash(layers: list[LayerFacts], diff_ids: list[str]) -> Squashed:
    """Apply layers bottom to top: whiteouts and opaque dirs delete, a later file replaces.

    A package keeps the layer that first introduced it (same path, name, version) while later
    layers rewrite its database, as users expect "which layer brought this in" to answer.
    A gap (a database a layer held but that could not be read) goes the same way: a later layer
    that deletes or rewrites the path removes it. Config documents and file facts follow their
    file. Secrets never go away: a secret whose file a later layer deleted (or replaced) is still
    in the image, in its own layer; it is kept and marked `removed_in` that later layer.
    """
    live: dict[str, tuple[int, list[Package]]] = {}
    gaps: dict[str, list[Gap]] = {}
    os_live: dict[str, str] = {}
    links: dict[str, str] = {}
    configs: dict[str, ConfigDoc] = {}
    files: dict[tuple[str, str], FileFact] = {}
    secrets: dict[str, list[SecretFinding]] = {}  # live path -> secrets found in it, not yet removed
    removed: list[SecretFinding] = []
    warnings: list[str] = []
    notes: list[Note] = []
    for i, f in enumerate(layers):
        gone = set(f.whiteouts)  # the path and everything under it
        gone.update(p for p in f.symlinks if p not in links)  # a symlink replaces a directory below
        emptied = set(f.opaque)  # everything under it, from lower layers
        if gone or emptied:
            for table in (live, os_live, links, gaps, configs):
                for p in [p for p in table if _deleted(p, gone, emptied)]:
                    del table[p]  # type: ignore[attr-defined]
            for k in [k for k in files if k[1] != "cache" and _deleted(k[0], gone, emptied)]:
                del files[k]  # a deleted cache still ships in its own layer: it stays
            for p in [p for p in secrets if _deleted(p, gone, emptied)]:
                removed.extend(replace(s, removed_in=diff_ids[i]) for s in secrets.pop(p))
        by_path: dict[str, list[Package]] = {}
        for pkg in f.packages:
            by_path.setdefault(pkg.path, []).append(pkg)
        for path in f.wanted:
            new = by_path.pop(path, [])
            old = live.get(path)
            if old is not None:
                prev = {(q.type, q.name, q.version): q.layer for q in old[1]}
                new = [q.with_layer(prev.get((q.type, q.name, q.version)) or diff_ids[i]) for q in new]
            else:
                new = [q.with_layer(diff_ids[i]) for q in new]
            live[path] = (i, new)
            gaps.pop(path, None)
        mine: dict[str, list[Gap]] = {}
        for g in f.gaps:
            mine.setdefault(g.subject, []).append(g)
        gaps.update(mine)  # this layer's word on a path replaces a lower layer's
        for path, pkgs in by_path.items():  # packages whose file was not listed as wanted
            live.setdefault(path, (i, []))[1].extend(q.with_layer(diff_ids[i]) for q in pkgs)
        for c in f.configs:
            configs[c.path] = replace(c, layer=diff_ids[i])
        for ff in f.files:
            key = (ff.path, ff.what) if ff.what != "cache" else (ff.path, f"cache@{i}")
            files[key] = replace(ff, layer=diff_ids[i])
        here: dict[str, list[SecretFinding]] = {}
        for s in f.secrets:
            here.setdefault(s.location.path, []).append(
                replace(s, location=replace(s.location, layer=diff_ids[i]))
            )
        for path, found in here.items():
            if path in secrets:  # the file was rewritten: what the lower copy held is still there
                removed.extend(replace(s, removed_in=diff_ids[i]) for s in secrets.pop(path))
            secrets[path] = found
        os_live.update(f.os_files)
        links.update(f.symlinks)
        warnings.extend(f.walk_warnings)
        warnings.extend(f.warnings)
        for ws in f.group_warnings.values():
            warnings.extend(ws)
        notes.extend(f.walk_notes)
        notes.extend(f.notes)
    warnings.extend(condense(notes))  # once per cause, not once per file
    os_files = {}
    for p in osrelease.OS_FILES:
        real = resolve(p, links)
        if real is not None and real in os_live:
            os_files[p] = os_live[real].encode()
    os_info = osrelease.detect(os_files)
    packages = [q for _, pkgs in live.values() for q in pkgs]
    kept = [s for found in secrets.values() for s in found] + removed
    kept.sort(key=lambda s: (s.location.path, s.location.start_line, s.rule.id, s.location.layer))
    return Squashed(
        os_info,
        packages,
        warnings,
        [g for gs in gaps.values() for g in gs],
        kept,
        sorted(configs.values(), key=lambda c: c.path),
        sorted(files.values(), key=lambda x: (x.path, x.what)),
    )


def resolve(path: str, links: dict[str, str]) -> str | None:
    """Follow symlinks inside the image root, as the image's own processes would (chroot rules)."""
    parts = [p for p in path.split("/") if p]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        cur = "/".join([*done, part])
        target = links.get(cur)
        if target is None:
            done.append(part)
            continue
        hops += 1
        if hops > MAX_LINK_HOPS:
            return None  # a loop: ELOOP, as the kernel would say
        if target.startswith("/"):
            done = []
        parts = [p for p in target.split("/") if p] + parts
    return "/".join(done)


# ---------------------------------------------------------------------- finishing touches


def prefer_installed(packages: list[Package]) -> list[Package]:
    """In an image or rootfs, what is installed is the truth; declarations yield to it.

    A lockfile or manifest package is dropped when the same package is installed anywhere, or
    when the lockfile's own directory holds installed packages of that ecosystem (then what the
    lock declares but the tree lacks was not installed: an uninstalled package, omitted dev
    dependencies). Lockfiles with no installed tree beside them still count. A project's own
    manifest (a package.json beside its lockfile, marked `root`) is not an installed tree.
    """
    declared = declared_names()
    installed = [p for p in packages if p.cataloger not in declared]
    if len(installed) == len(packages):
        return packages
    have = {(p.type, p.purl.split("?", 1)[0]) for p in installed}
    paths_by_type: dict[str, list[str]] = {}
    for p in installed:
        if not p.extra.get("root"):
            paths_by_type.setdefault(p.type, []).append(p.path)
    covered: dict[tuple[str, str], bool] = {}
    out = list(installed)
    for p in packages:
        if p.cataloger not in declared:
            continue
        if (p.type, p.purl.split("?", 1)[0]) in have:
            continue
        d = posixpath.dirname(p.path)
        key = (p.type, d)
        if key not in covered:
            prefix = d + "/" if d else ""
            covered[key] = any(q.startswith(prefix) for q in paths_by_type.get(p.type, ()))
        if not covered[key]:
            out.append(p)
    return out


def prefer_declared(packages: list[Package]) -> list[Package]:
    """In a source tree (`scan fs`), lockfiles are the truth, as in Trivy: an installed copy of a
    package a lockfile already declares (node_modules beside package-lock.json) is dropped."""
    declared = declared_names()
    have = {(p.type, p.purl.split("?", 1)[0]) for p in packages if p.cataloger in declared}
    if not have:
        return packages
    return [p for p in packages if p.cataloger in declared or (p.type, p.purl.split("?", 1)[0]) not in have]


def finalize(packages: list[Package], os_info: OSInfo | None, installed_first: bool = True) -> list[Package]:
    """OS purls get namespace (the vendor, containment.distros: pkg:rpm/redhat/...) and distro;
    duplicates (same purl at the same path) collapse."""
    packages = prefer_installed(packages) if installed_first else prefer_declared(packages)
    out: dict[tuple[str, str], Package] = {}
    for p in packages:
        if p.type in OS_TYPES and os_info is not None:
            p = _with_distro(p, os_info)
        key = (p.purl, p.path)
        if key not in out:
            out[key] = p
    return sorted(out.values(), key=lambda p: (p.type, p.name.lower(), p.version, p.path))


def _with_distro(p: Package, os_info: OSInfo) -> Package:
    from packageurl import PackageURL

    try:
        u = PackageURL.from_string(p.purl)
    except ValueError:
        return p
    from containment.distros import purl_namespace

    q = dict(u.qualifiers or {})  # type: ignore[arg-type]
    q["distro"] = os_info.distro
    # a namespace the cataloger set is the type's own (Gentoo's category: pkg:ebuild/dev-libs/openssl)
    namespace = u.namespace or purl_namespace(os_info)
    return replace(p, purl=purl(u.type, u.name, u.version, namespace, q, u.subpath))
