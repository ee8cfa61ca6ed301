"""Python dependency declarations and lockfiles: requirements files, Pipfile.lock, poetry.lock,
uv.lock and pylock.toml (PEP 751).

Names are reported as written in the file; the purl normalizes them (PEP 503). Versions are
reported as written. Development-only packages are marked `dev=True`, never dropped:

- requirements*.txt: only exactly pinned entries (`==` / `===`, no wildcard). Nothing is dev
  (a requirements file carries no notion of groups; its name is not evidence enough).
  `-r other.txt` includes are followed when the included file is in the same tree and is not
  itself a file this cataloger parses on its own (so no package is reported twice); `-c`
  constraint files install nothing and are not followed; `-e`, URL and local-path entries are
  skipped (nothing pinned from an index).
- Pipfile.lock: `develop` entries are dev, unless the same package is also in `default`.
- poetry.lock: lock v1 `category = "dev"`; lock 2.1 `groups` (dev when "main" is not among
  them); lock 2.0 has neither, so the sibling pyproject.toml groups are read and a package is
  dev when it is reachable in the lock's dependency graph from a non-main group but not from
  the main dependencies. Without the sibling manifest nothing is marked dev.
- uv.lock: the project itself and workspace members (`source = { editable | virtual }`) are
  not packages; a package is dev when it is reachable only through a member's
  `dev-dependencies` (PEP 735 groups included).
- pylock.toml: a package is dev when its marker can only be true with a dependency group that
  is not among `default-groups` selected.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement

from containment.catalog._lockutil import (
    as_dict,
    as_list,
    as_str,
    basename,
    decode_text,
    dev_only,
    load_json,
    load_toml,
    load_toml_or_none,
    reachable,
)
from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_NORM_RE = re.compile(r"[-_.]+")
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_MAX_INCLUDE_DEPTH = 10


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return _NORM_RE.sub("-", name).lower()


def _package(
    name: str, version: str, path: str, cataloger: str, dev: bool = False, extra: dict[str, Any] | None = None
) -> Package | None:
    name = name.strip()
    version = version.strip()
    if not name or not version:
        return None
    try:
        p = purl("pypi", name, version)
    except ValueError:
        return None
    return Package(
        name=name,
        version=version,
        type="pypi",
        purl=p,
        path=path,
        cataloger=cataloger,
        dev=dev,
        extra={k: v for k, v in (extra or {}).items() if v},
    )


# --------------------------------------------------------------------------- requirements


def _logical_lines(text: str) -> Iterable[str]:
    """Lines with backslash continuations joined, then comments removed (pip's rules)."""
    buf: list[str] = []
    for raw in text.splitlines():
        is_comment = _COMMENT_RE.match(raw) is not None
        if raw.endswith("\\") and not is_comment:
            buf.append(raw.rstrip("\\"))
            continue
        if buf:
            buf.append(" " + raw if is_comment else raw)
            raw = "".join(buf)
            buf = []
        line = _COMMENT_RE.sub("", raw).strip()
        if line:
            yield line
    if buf:
        line = _COMMENT_RE.sub("", "".join(buf)).strip()
        if line:
            yield line


def _split_options(line: str) -> tuple[str, list[str]]:
    """Requirement part and trailing per-requirement options (--hash=..., --config-settings)."""
    tokens = line.split()
    for i, tok in enumerate(tokens):
        if tok.startswith("-"):
            return " ".join(tokens[:i]), tokens[i:]
    return line, []


def _pinned(req: Requirement) -> str:
    pins = [s for s in req.specifier if s.operator in ("==", "===")]
    if len(pins) != 1:
        return ""
    version = pins[0].version
    if pins[0].operator == "==" and version.endswith(".*"):
        return ""
    return version


class RequirementsCataloger(Cataloger):
    name = "python-requirements"
    version = 1
    max_size = 8 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith(".txt"):
            return False
        base = basename(path)
        if "requirements" in base:
            return True
        parent = path[: len(path) - len(base) - 1]
        return parent == "requirements" or parent.endswith("/requirements")

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        out: list[Package] = []
        seen: set[tuple[str, str]] = set()
        self._parse_file(path, data, tree, out, seen, {path}, 0)
        return out

    def _parse_file(
        self,
        path: str,
        data: bytes,
        tree: FileTree,
        out: list[Package],
        seen: set[tuple[str, str]],
        visited: set[str],
        depth: int,
    ) -> None:
        for line in _logical_lines(decode_text(data)):
            if line.startswith("-"):
                include = _include_target(line)
                if include and depth < _MAX_INCLUDE_DEPTH:
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(path), include)).lstrip("/")
                    if target.startswith("../") or target in visited:
                        continue
                    if self.wants(target, 0o100644, 0):
                        continue  # parsed on its own; do not report its packages twice
                    inc = tree.get(target)
                    if inc is not None:
                        visited.add(target)
                        self._parse_file(target, inc, tree, out, seen, visited, depth + 1)
                continue
            spec, options = _split_options(line)
            if not spec:
                continue
            try:
                req = Requirement(spec)
            except InvalidRequirement:
                continue
            if req.url:
                continue
            version = _pinned(req)
            if not version:
                continue
            key = (normalize(req.name), version)
            if key in seen:
                continue
            extra: dict[str, Any] = {}
            if req.extras:
                extra["extras"] = sorted(req.extras)
            if req.marker is not None:
                extra["marker"] = str(req.marker)
            pkg = _package(req.name, version, path, self.name, extra=extra)
            if pkg is not None:
                seen.add(key)
                out.append(pkg)


def _include_target(line: str) -> str:
    """The file named by `-r X` / `--requirement X` / `--requirement=X` / `-rX`, else ''."""
    for prefix in ("--requirement", "-r"):
        if line.startswith(prefix):
            rest = line[len(prefix) :]
            if prefix == "--requirement" and rest[:1] not in ("=", " ", "\t"):
                return ""
            rest = rest.lstrip("= \t")
            return rest.split()[0] if rest.split() else ""
    return ""


# --------------------------------------------------------------------------- Pipfile.lock


class PipfileLockCataloger(Cataloger):
    name = "python-pipfile-lock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("Pipfile.lock") and basename(path) == "Pipfile.lock"

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        doc = load_json(path, data)
        if not isinstance(doc, dict):
            raise CatalogError(f"{path}: Pipfile.lock is not a JSON object")
        out: list[Package] = []
        default_names: set[str] = set()
        for section, dev in (("default", False), ("develop", True)):
            for name, entry in as_dict(doc.get(section)).items():
                entry = as_dict(entry)
                version = as_str(entry.get("version"))
                if not version.startswith("=="):
                    continue  # git / path / editable entries carry no pinned version
                version = version.lstrip("=").strip()
                norm = normalize(name)
                if dev and norm in default_names:
                    continue
                extra = {"index": as_str(entry.get("index")), "marker": as_str(entry.get("markers"))}
                pkg = _package(name, version, path, self.name, dev=dev, extra=extra)
                if pkg is not None:
                    if not dev:
                        default_names.add(norm)
                    out.append(pkg)
        return out


# --------------------------------------------------------------------------- poetry.lock


def _pep508_names(items: Any) -> list[str]:
    names = []
    for item in as_list(items):
        if isinstance(item, str):
            try:
                names.append(normalize(Requirement(item).name))
            except InvalidRequirement:
                continue
    return names


def _poetry_groups(pyproject: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Main and non-main direct dependency names declared in a pyproject.toml."""
    tool = as_dict(as_dict(pyproject.get("tool")).get("poetry"))
    main = {normalize(k) for k in as_dict(tool.get("dependencies")) if k.lower() != "python"}
    project = as_dict(pyproject.get("project"))
    main.update(_pep508_names(project.get("dependencies")))
    for items in as_dict(project.get("optional-dependencies")).values():
        main.update(_pep508_names(items))
    dev = {normalize(k) for k in as_dict(tool.get("dev-dependencies"))}
    for gname, group in as_dict(tool.get("group")).items():
        names = {normalize(k) for k in as_dict(as_dict(group).get("dependencies")) if k.lower() != "python"}
        (main if gname == "main" else dev).update(names)
    for items in as_dict(pyproject.get("dependency-groups")).values():
        dev.update(_pep508_names(items))
    return main, dev


class PoetryLockCataloger(Cataloger):
    name = "python-poetry-lock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        if path.endswith("poetry.lock"):
            return basename(path) == "poetry.lock"
        return path.endswith("pyproject.toml") and basename(path) == "pyproject.toml"

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if basename(path) != "poetry.lock":
            return []  # the pyproject.toml is only read as the lock's sibling
        doc = load_toml(path, data)
        entries = [as_dict(p) for p in as_list(doc.get("package"))]
        entries = [p for p in entries if as_str(p.get("name")) and as_str(p.get("version"))]
        lock_version = as_str(as_dict(doc.get("metadata")).get("lock-version"))

        dev_names: set[str] = set()
        by_category = any("category" in p for p in entries)
        by_groups = any(isinstance(p.get("groups"), list) for p in entries)
        if not by_category and not by_groups:
            pyproject = load_toml_or_none(tree.sibling(path, "pyproject.toml"))
            if pyproject is not None:
                main_roots, dev_roots = _poetry_groups(pyproject)
                graph: dict[str, set[str]] = {}
                for p in entries:
                    deps = graph.setdefault(normalize(p["name"]), set())
                    deps.update(normalize(k) for k in as_dict(p.get("dependencies")))
                dev_names = dev_only(main_roots, dev_roots, graph)

        out: list[Package] = []
        for p in entries:
            name, version = p["name"], p["version"]
            if by_category:
                dev = p.get("category") == "dev"
            elif by_groups:
                groups = as_list(p.get("groups"))
                dev = bool(groups) and "main" not in groups
            else:
                dev = normalize(name) in dev_names
            source = as_dict(p.get("source"))
            extra = {
                "lock_version": lock_version,
                "source_type": as_str(source.get("type")),
                "source_url": as_str(source.get("url")),
                "optional": p.get("optional") is True,
            }
            if by_groups:
                extra["groups"] = [g for g in as_list(p.get("groups")) if isinstance(g, str)]
            pkg = _package(name, version, path, self.name, dev=dev, extra=extra)
            if pkg is not None:
                out.append(pkg)
        return out


# --------------------------------------------------------------------------- uv.lock


def _is_uv_member(source: dict[str, Any]) -> bool:
    return "editable" in source or "virtual" in source


class UvLockCataloger(Cataloger):
    name = "python-uv-lock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("uv.lock") and basename(path) == "uv.lock"

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        doc = load_toml(path, data)
        entries = [as_dict(p) for p in as_list(doc.get("package"))]
        entries = [p for p in entries if as_str(p.get("name"))]
        nodes: list[tuple[str, str]] = [(normalize(p["name"]), as_str(p.get("version"))) for p in entries]
        by_name: dict[str, list[tuple[str, str]]] = {}
        for n in nodes:
            by_name.setdefault(n[0], []).append(n)

        def resolve(refs: Any) -> list[tuple[str, str]]:
            found: list[tuple[str, str]] = []
            for ref in as_list(refs):
                ref = as_dict(ref)
                cands = by_name.get(normalize(as_str(ref.get("name"))), [])
                want = as_str(ref.get("version"))
                found.extend(c for c in cands if not want or c[1] == want)
            return found

        main_graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
        members: list[tuple[str, str]] = []
        dev_roots: list[tuple[str, str]] = []
        for node, p in zip(nodes, entries, strict=True):
            targets = main_graph.setdefault(node, [])
            targets.extend(resolve(p.get("dependencies")))
            for refs in as_dict(p.get("optional-dependencies")).values():
                targets.extend(resolve(refs))
            if _is_uv_member(as_dict(p.get("source"))):
                members.append(node)
                for refs in as_dict(p.get("dev-dependencies")).values():
                    dev_roots.extend(resolve(refs))
        manifest = as_dict(doc.get("manifest"))
        main_roots = list(members) + resolve(manifest.get("requirements"))
        for refs in as_dict(manifest.get("dependency-groups")).values():
            dev_roots.extend(resolve(refs))

        dev_nodes: set[tuple[str, str]] = set()
        if members or main_roots:
            main = reachable(main_roots, lambda n: main_graph.get(n, ()))
            dev_nodes = reachable(dev_roots, lambda n: main_graph.get(n, ())) - main

        out: list[Package] = []
        for node, p in zip(nodes, entries, strict=True):
            source = as_dict(p.get("source"))
            if _is_uv_member(source):
                continue  # the project itself / a workspace member
            version = as_str(p.get("version"))
            kind = next(iter(source), "")
            extra = {"source_type": kind, "source": as_str(source.get(kind)) if kind else ""}
            pkg = _package(p["name"], version, path, self.name, dev=node in dev_nodes, extra=extra)
            if pkg is not None:
                out.append(pkg)
        return out


# --------------------------------------------------------------------------- pylock.toml


def _marker_envs() -> list[dict[str, str]]:
    envs = []
    platforms = (
        ("linux", "Linux", "posix", "x86_64"),
        ("win32", "Windows", "nt", "AMD64"),
        ("darwin", "Darwin", "posix", "arm64"),
    )
    for minor in range(7, 15):
        for sys_platform, system, os_name, machine in platforms:
            envs.append(
                {
                    "python_version": f"3.{minor}",
                    "python_full_version": f"3.{minor}.0",
                    "implementation_name": "cpython",
                    "implementation_version": f"3.{minor}.0",
                    "platform_python_implementation": "CPython",
                    "sys_platform": sys_platform,
                    "platform_system": system,
                    "os_name": os_name,
                    "platform_machine": machine,
                    "platform_release": "",
                    "platform_version": "",
                }
            )
    return envs


_ENVS = _marker_envs()


def _marker_true(marker: Marker, groups: frozenset[str], extras: frozenset[str]) -> bool:
    for env in _ENVS:
        e: dict[str, Any] = dict(env)
        e["dependency_groups"] = groups
        e["extras"] = extras
        try:
            if marker.evaluate(e):
                return True
        except Exception:  # packaging raises several types for odd markers; treat as false
            continue
    return False


class PylockCataloger(Cataloger):
    name = "python-pylock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith(".toml"):
            return False
        base = basename(path)
        return base == "pylock.toml" or base.startswith("pylock.")

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        doc = load_toml(path, data)
        groups = frozenset(g for g in as_list(doc.get("dependency-groups")) if isinstance(g, str))
        defaults = frozenset(g for g in as_list(doc.get("default-groups")) if isinstance(g, str))
        extras = frozenset(g for g in as_list(doc.get("extras")) if isinstance(g, str))
        out: list[Package] = []
        for p in as_list(doc.get("packages")):
            p = as_dict(p)
            name, version = as_str(p.get("name")), as_str(p.get("version"))
            if not name or not version:
                continue  # VCS / directory entries may omit the version
            marker_text = as_str(p.get("marker"))
            dev = False
            if marker_text and "dependency_groups" in marker_text:
                try:
                    marker = Marker(marker_text)
                except Exception:
                    marker = None
                if marker is not None:
                    dev = not _marker_true(marker, defaults, extras) and _marker_true(
                        marker, groups | defaults, extras
                    )
            extra = {"index": as_str(p.get("index")), "marker": marker_text}
            pkg = _package(name, version, path, self.name, dev=dev, extra=extra)
            if pkg is not None:
                out.append(pkg)
        return out


CATALOGERS: list[Cataloger] = [
    RequirementsCataloger(),
    PipfileLockCataloger(),
    PoetryLockCataloger(),
    UvLockCataloger(),
    PylockCataloger(),
]
