"""Maven `pom.xml`, resolved offline.

What a pom declares is read the way Maven builds its effective model, as far as the files
present in the same tree allow:

- inheritance: `<parent>` is looked up through `relativePath` (default `../pom.xml`; an empty
  `<relativePath/>` skips it), then `../pom.xml`, then a local repository in the tree
  (`.m2/repository/g/r/o/u/p/artifact/version/artifact-version.pom`, or Debian's
  `usr/share/maven-repo/`). A candidate parent must carry the artifactId (and the groupId and
  version, when both are literal) the child names. groupId, version, properties,
  `<dependencyManagement>`, `<dependencies>` and `<licenses>` are inherited.
- interpolation: `${prop}` from `<properties>` (the child's win), `-Dkey=value` of the
  nearest `.mvn/maven.config` at or above the pom (CI-friendly `${revision}` versions; these
  beat model properties, as user properties do in Maven), `${project.*}` / `${pom.*}` /
  `${project.parent.*}`, nested references; cycles and blow-ups are cut (a reference that
  cannot be resolved stays unresolved).
- `<dependencyManagement>` fills missing versions and scopes, including BOMs imported with
  `<scope>import</scope>` when the BOM's pom is in the local repository of the tree.
- transitive dependencies are followed only through poms of the local repository in the tree
  (offline: nothing is fetched). Maven's rules: nearest wins, the root's dependency
  management pins transitive versions, exclusions apply, optional and test/provided
  dependencies of dependencies are not transitive, scope is mediated (a test dependency's
  dependencies are test).

Package.name is the artifactId (as the java-archive cataloger and syft name Maven packages);
the groupId is the purl namespace and extra["group_id"].

Output, one list per `pom.xml`: the project itself (extra root=True), its declared
dependencies (direct=True) and what the local repository resolved (direct=False).
Scopes: `test` -> dev=True; `compile`/`runtime`/`provided`/`system` are kept (scope in extra);
`<optional>true</optional>` is kept with extra optional=True. (Trivy drops test, provided,
system and optional dependencies; we mark instead of dropping.)

A dependency whose version cannot be resolved offline is still reported, with an empty
version and the unresolved text in extra["unresolved_version"], as Trivy does ("we can't
resolve a dependency without a version, so let's just keep this dependency"). `*.pom` files
of a local repository are read only to resolve; they do not produce packages themselves.
`<profiles>` are not activated (their dependencies are ignored).
"""

from __future__ import annotations

import posixpath
import re
import shlex
import threading
import weakref
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_REF = re.compile(r"\$\{([^}]*)\}")
_MAX_PARENT_DEPTH = 16
_MAX_IMPORT_DEPTH = 8
_MAX_VALUE_LEN = 1024
_MAX_INTERP_DEPTH = 32
_MAX_TRANSITIVE = 2000
_REPO_MARKERS = (".m2/repository/", "usr/share/maven-repo/")


@dataclass
class _Dep:
    group: str
    artifact: str
    version: str
    scope: str
    type: str
    classifier: str
    optional: str
    exclusions: tuple[tuple[str, str], ...] = ()


@dataclass
class _Pom:
    path: str
    group: str
    artifact: str
    version: str
    packaging: str
    name: str
    parent: tuple[str, str, str, str | None] | None  # g, a, v, relativePath (None: absent)
    props: dict[str, str]
    deps: list[_Dep]
    managed: list[_Dep]
    modules: list[str]
    licenses: list[str]


@dataclass
class _Effective:
    pom: _Pom
    group: str
    version: str
    parent: tuple[str, str, str] | None
    props: dict[str, str]
    deps: list[_Dep]
    managed: list[_Dep]
    licenses: list[str]
    chain: list[str] = field(default_factory=list)  # paths of the parents that were found


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _child(el: Element | None, name: str) -> Element | None:
    if el is None:
        return None
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _children(el: Element | None, name: str) -> list[Element]:
    if el is None:
        return []
    return [c for c in el if _local(c.tag) == name]


def _text(el: Element | None, name: str) -> str:
    c = _child(el, name)
    if c is None or c.text is None:
        return ""
    return c.text.strip()


def _read_deps(container: Element | None) -> list[_Dep]:
    out = []
    for d in _children(_child(container, "dependencies"), "dependency"):
        excl = tuple(
            (_text(e, "groupId"), _text(e, "artifactId"))
            for e in _children(_child(d, "exclusions"), "exclusion")
        )
        out.append(
            _Dep(
                group=_text(d, "groupId"),
                artifact=_text(d, "artifactId"),
                version=_text(d, "version"),
                scope=_text(d, "scope"),
                type=_text(d, "type"),
                classifier=_text(d, "classifier"),
                optional=_text(d, "optional"),
                exclusions=excl,
            )
        )
    return out


def _parse_pom(path: str, data: bytes) -> _Pom:
    """Raises CatalogError when the bytes are not a pom."""
    try:
        root = DET.fromstring(data)
    except Exception as e:  # ParseError, DefusedXmlException, ValueError, ...
        raise CatalogError(f"{path}: not a readable pom.xml ({type(e).__name__}: {e})") from None
    if _local(root.tag) != "project":
        raise CatalogError(f"{path}: not a Maven pom (root element is not <project>)")
    parent_el = _child(root, "parent")
    parent = None
    if parent_el is not None:
        rel_el = _child(parent_el, "relativePath")
        rel = None if rel_el is None else (rel_el.text or "").strip()
        parent = (
            _text(parent_el, "groupId"),
            _text(parent_el, "artifactId"),
            _text(parent_el, "version"),
            rel,
        )
    props: dict[str, str] = {}
    for p in _child(root, "properties") or ():
        k = _local(p.tag)
        if k:
            props[k] = (p.text or "").strip()
    licenses = [
        n for n in (_text(lic, "name") for lic in _children(_child(root, "licenses"), "license")) if n
    ]
    return _Pom(
        path=path,
        group=_text(root, "groupId"),
        artifact=_text(root, "artifactId"),
        version=_text(root, "version"),
        packaging=_text(root, "packaging"),
        name=_text(root, "name"),
        parent=parent,
        props=props,
        deps=_read_deps(root),
        managed=_read_deps(_child(root, "dependencyManagement")),
        modules=[(m.text or "").strip() for m in _children(_child(root, "modules"), "module")],
        licenses=licenses,
    )


class _Interp:
    """`${...}` expansion over one effective model's properties, memoised and bounded."""

    def __init__(self, eff: _Effective, user_props: dict[str, str] | None = None) -> None:
        pom = eff.pom
        p: dict[str, str] = dict(eff.props)
        p.update(user_props or {})  # -Dkey=value of .mvn/maven.config beat model properties
        builtins = {
            "groupId": eff.group,
            "artifactId": pom.artifact,
            "version": eff.version,
            "packaging": pom.packaging or "jar",
            "name": pom.name,
        }
        if eff.parent:
            builtins["parent.groupId"] = eff.parent[0]
            builtins["parent.artifactId"] = eff.parent[1]
            builtins["parent.version"] = eff.parent[2]
        for k, v in builtins.items():
            p[f"project.{k}"] = v
            p.setdefault(f"pom.{k}", v)
        # Maven 2 bare aliases, honoured only when no property of that name exists.
        for k in ("groupId", "artifactId", "version"):
            p.setdefault(k, builtins[k])
        self._props = p
        self._memo: dict[str, str | None] = {}

    def _lookup(self, key: str, depth: int, stack: tuple[str, ...]) -> str | None:
        if key in self._memo:
            return self._memo[key]
        if key in stack or depth > _MAX_INTERP_DEPTH:
            return None
        raw = self._props.get(key)
        if raw is None:
            val = None
        else:
            val = self._expand(raw, depth + 1, (*stack, key))
            if "${" in val or len(val) > _MAX_VALUE_LEN:
                val = None
        self._memo[key] = val
        return val

    def _expand(self, s: str, depth: int, stack: tuple[str, ...]) -> str:
        if "${" not in s:
            return s
        out: list[str] = []
        pos = 0
        size = 0
        for m in _REF.finditer(s):
            val = self._lookup(m.group(1).strip(), depth, stack)
            piece = s[pos : m.start()] + (m.group(0) if val is None else val)
            out.append(piece)
            size += len(piece)
            pos = m.end()
            if size > _MAX_VALUE_LEN:
                break
        out.append(s[pos:])
        return "".join(out)

    def __call__(self, s: str) -> str:
        return self._expand(s, 0, ())


def _resolved(s: str) -> bool:
    return bool(s) and "${" not in s


def _mgmt_key(d: _Dep) -> tuple[str, str, str, str]:
    return (d.group, d.artifact, d.type or "jar", d.classifier)


class _Resolver:
    """Everything one `parse` call looks up in the tree; caches live for that call only."""

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        self._poms: dict[str, _Pom | None] = {}
        self._effs: dict[str, _Effective | None] = {}
        self._mgmt: dict[str, list[_Dep]] = {}
        self._repo_roots: list[str] | None = None
        self._repo_deps: dict[str, list[_Dep]] = {}
        self._licenses: dict[str, tuple[str, ...]] = {}

    # -- files ---------------------------------------------------------------------------------
    def pom(self, path: str, data: bytes | None = None) -> _Pom | None:
        if path in self._poms:
            return self._poms[path]
        if data is None:
            data = self.tree.get(path)
        pom = None
        if data is not None:
            try:
                pom = _parse_pom(path, data)
            except CatalogError:
                pom = None
        self._poms[path] = pom
        return pom

    def repo_roots(self) -> list[str]:
        if self._repo_roots is None:
            roots = set()
            for p in self.tree.paths():
                if not p.endswith(".pom"):
                    continue
                for marker in _REPO_MARKERS:
                    i = p.find(marker)
                    if i == 0 or (i > 0 and p[i - 1] == "/"):
                        roots.add(p[: i + len(marker)])
            self._repo_roots = sorted(roots)
        return self._repo_roots

    def repo_pom_path(self, g: str, a: str, v: str) -> str | None:
        if not (_resolved(g) and _resolved(a) and _resolved(v)) or "/" in a or "/" in v or ".." in g:
            return None
        rel = f"{g.replace('.', '/')}/{a}/{v}/{a}-{v}.pom"
        for root in self.repo_roots():
            if root + rel in self.tree:
                return root + rel
        return None

    def repo_deps(self, path: str) -> list[_Dep]:
        """The transitive-capable dependencies (compile/runtime, not optional) a repository pom
        declares, interpolated and completed by its own dependency management (scope set)."""
        cached = self._repo_deps.get(path)
        if cached is not None:
            return cached
        out: list[_Dep] = []
        eff = self.effective(path)
        if eff is not None:
            interp = _Interp(eff)
            index = _mgmt_index(self.management(eff, interp))
            for raw in eff.deps:
                t = _apply_mgmt(_interp_dep(raw, interp), index)
                scope = t.scope or "compile"
                if t.optional == "true" or scope not in ("compile", "runtime"):
                    continue
                if _resolved(t.group) and _resolved(t.artifact):
                    t.scope = scope
                    out.append(t)
        self._repo_deps[path] = out
        return out

    def licenses(self, path: str) -> tuple[str, ...]:
        cached = self._licenses.get(path)
        if cached is None:
            eff = self.effective(path)
            cached = () if eff is None else tuple(_Interp(eff)(x) for x in eff.licenses)
            self._licenses[path] = cached
        return cached

    # -- inheritance ---------------------------------------------------------------------------
    def _parent_path(self, child: _Pom, seen: frozenset[str]) -> str | None:
        assert child.parent is not None
        g, a, v, rel = child.parent
        cands = []
        here = posixpath.dirname(child.path)
        for r in ([rel] if rel else []) + ([] if rel == "" else ["../pom.xml"]):
            p = posixpath.normpath(posixpath.join(here, r))
            if not (p.endswith(".xml") or p.endswith(".pom")):
                p = posixpath.join(p, "pom.xml")
            if p.startswith("../") or p == ".." or p.startswith("/"):
                continue
            if p not in cands:
                cands.append(p)
        for p in cands:
            if p in seen or p not in self.tree:
                continue
            cand = self.pom(p)
            if cand is None or cand.artifact != a:
                continue
            cg = cand.group or (cand.parent[0] if cand.parent else "")
            cv = cand.version or (cand.parent[2] if cand.parent else "")
            if _resolved(g) and _resolved(cg) and g != cg:
                continue
            if _resolved(v) and _resolved(cv) and v != cv:
                continue
            return p
        rp = self.repo_pom_path(g, a, v)
        if rp is not None and rp not in seen:
            return rp
        return None

    def effective(self, path: str, seen: frozenset[str] = frozenset()) -> _Effective | None:
        if path in self._effs:
            return self._effs[path]
        pom = self.pom(path)
        if pom is None:
            return None
        parent_eff = None
        if pom.parent is not None and len(seen) < _MAX_PARENT_DEPTH:
            pp = self._parent_path(pom, seen | {path})
            if pp is not None:
                parent_eff = self.effective(pp, seen | {path})
        pg, _pa, pv = pom.parent[:3] if pom.parent else ("", "", "")
        props: dict[str, str] = {}
        managed: list[_Dep] = list(pom.managed)
        deps: list[_Dep] = list(pom.deps)
        licenses = list(pom.licenses)
        chain: list[str] = []
        if parent_eff is not None:
            props.update(parent_eff.props)
            keys = {_mgmt_key(d) for d in managed}
            managed += [d for d in parent_eff.managed if _mgmt_key(d) not in keys]
            keys = {_mgmt_key(d) for d in deps}
            deps += [d for d in parent_eff.deps if _mgmt_key(d) not in keys]
            licenses = licenses or parent_eff.licenses
            chain = [parent_eff.pom.path, *parent_eff.chain]
        props.update(pom.props)
        eff = _Effective(
            pom=pom,
            group=pom.group or pg,
            version=pom.version or pv,
            parent=(pom.parent[0], pom.parent[1], pom.parent[2]) if pom.parent else None,
            props=props,
            deps=deps,
            managed=managed,
            licenses=licenses,
            chain=chain,
        )
        if not seen:  # only cache results computed without a cycle-guard context
            self._effs[path] = eff
        return eff

    # -- dependency management -----------------------------------------------------------------
    def management(
        self, eff: _Effective, interp: _Interp, depth: int = 0, stack: frozenset[str] = frozenset()
    ) -> list[_Dep]:
        """Interpolated managed dependencies, imports (BOMs) expanded after the pom's own.

        Memoised per pom; a BOM already being expanded (an import cycle) is not expanded again.
        """
        cached = self._mgmt.get(eff.pom.path)
        if cached is not None:
            return cached
        stack = stack | {eff.pom.path}
        own: list[_Dep] = []
        imports: list[_Dep] = []
        for d in eff.managed:
            r = _interp_dep(d, interp)
            if r.scope == "import":
                imports.append(r)
            else:
                own.append(r)
        out = own
        keys = {_mgmt_key(d) for d in out}
        if depth < _MAX_IMPORT_DEPTH:
            for imp in imports:
                p = self.repo_pom_path(imp.group, imp.artifact, imp.version)
                if p is None or p in stack:
                    continue
                bom = self.effective(p)
                if bom is None:
                    continue
                for d in self.management(bom, _Interp(bom), depth + 1, stack):
                    k = _mgmt_key(d)
                    if k not in keys:
                        keys.add(k)
                        out.append(d)
        self._mgmt[eff.pom.path] = out
        return out


# One resolver per tree (a layer's or directory's wanted files), shared by the parse calls of
# that tree so that local-repository poms are parsed once; it goes away with the tree.
_RESOLVERS: weakref.WeakKeyDictionary[FileTree, _Resolver] = weakref.WeakKeyDictionary()
_RESOLVERS_LOCK = threading.Lock()


def _resolver_for(tree: FileTree) -> _Resolver:
    with _RESOLVERS_LOCK:
        res = _RESOLVERS.get(tree)
        if res is None:
            res = _RESOLVERS[tree] = _Resolver(tree)
        return res


def _interp_dep(d: _Dep, interp: _Interp) -> _Dep:
    return _Dep(
        group=interp(d.group),
        artifact=interp(d.artifact),
        version=interp(d.version),
        scope=interp(d.scope).lower(),
        type=interp(d.type),
        classifier=interp(d.classifier),
        optional=interp(d.optional).lower(),
        exclusions=tuple((interp(g), interp(a)) for g, a in d.exclusions),
    )


def _apply_mgmt(d: _Dep, index: dict[Any, _Dep]) -> _Dep:
    m = index.get(_mgmt_key(d)) or index.get((d.group, d.artifact))
    if m is None:
        return d
    return _Dep(
        group=d.group,
        artifact=d.artifact,
        version=d.version or m.version,
        scope=d.scope or m.scope,
        type=d.type,
        classifier=d.classifier,
        optional=d.optional or m.optional,
        exclusions=d.exclusions + m.exclusions,
    )


def _mgmt_index(managed: list[_Dep]) -> dict[Any, _Dep]:
    idx: dict[Any, _Dep] = {}
    for m in managed:
        idx.setdefault(_mgmt_key(m), m)
        idx.setdefault((m.group, m.artifact), m)
    return idx


def _excluded(g: str, a: str, exclusions: Iterable[tuple[str, str]]) -> bool:
    return any((eg in (g, "*")) and (ea in (a, "*")) for eg, ea in exclusions)


# Maven's scope mediation: (scope of the dependency, scope of its transitive dependency) -> scope.
_MEDIATE = {
    ("compile", "compile"): "compile",
    ("compile", "runtime"): "runtime",
    ("provided", "compile"): "provided",
    ("provided", "runtime"): "provided",
    ("runtime", "compile"): "runtime",
    ("runtime", "runtime"): "runtime",
    ("test", "compile"): "test",
    ("test", "runtime"): "test",
    ("system", "compile"): "system",
    ("system", "runtime"): "system",
}


def _maven_config(pom_path: str, tree: FileTree) -> dict[str, str]:
    """`-Dkey=value` user properties of the nearest `.mvn/maven.config` at or above the pom
    (Maven looks upward for the `.mvn` directory of the multi-module project)."""
    d = posixpath.dirname(pom_path)
    for _ in range(64):
        data = tree.get(posixpath.join(d, ".mvn/maven.config") if d else ".mvn/maven.config")
        if data is not None:
            return _parse_maven_config(data)
        if not d:
            break
        d = posixpath.dirname(d)
    return {}


def _parse_maven_config(data: bytes) -> dict[str, str]:
    try:
        args = shlex.split(data[:65536].decode("utf-8", "replace"), comments=False)
    except ValueError:
        args = data[:65536].decode("utf-8", "replace").split()
    props: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        val = None
        if a in ("-D", "--define") and i + 1 < len(args):
            val = args[i + 1]
            i += 1
        elif a.startswith("-D"):
            val = a[2:]
        elif a.startswith("--define="):
            val = a[len("--define=") :]
        if val:
            k, sep, v = val.partition("=")
            if k:
                props[k] = v if sep else "true"
        i += 1
    return props


class MavenPomCataloger(Cataloger):
    name = "maven-pom"
    version = 1
    max_size = 8 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        if path.endswith("pom.xml"):
            return path == "pom.xml" or path.endswith("/pom.xml")
        if path.endswith(".mvn/maven.config"):
            return path == ".mvn/maven.config" or path.endswith("/.mvn/maven.config")
        if path.endswith(".pom"):
            return ".m2/repository/" in path or "usr/share/maven-repo/" in path
        return False

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        if not (path == "pom.xml" or path.endswith("/pom.xml")):
            return []  # local-repository poms and maven.config are only read to resolve others
        pom = _parse_pom(path, data)  # raises CatalogError when unreadable
        res = _resolver_for(tree)
        res._poms.setdefault(path, pom)
        eff = res.effective(path)
        assert eff is not None
        interp = _Interp(eff, _maven_config(path, tree))
        out: list[Package] = []

        group, artifact, version = interp(eff.group), interp(pom.artifact), interp(eff.version)
        if _resolved(group) and _resolved(artifact):
            extra: dict[str, Any] = {"root": True, "packaging": interp(pom.packaging) or "jar"}
            if pom.modules:
                extra["modules"] = [m for m in pom.modules if m][:200]
            if eff.chain:
                extra["parents"] = eff.chain
            if not _resolved(version):
                extra["unresolved_version"] = version
            out.append(
                self._package(
                    path,
                    group,
                    artifact,
                    version if _resolved(version) else "",
                    "",
                    "",
                    tuple(interp(x) for x in eff.licenses),
                    False,
                    extra,
                )
            )

        index = _mgmt_index(res.management(eff, interp))
        seen: dict[tuple[str, str, str, str], int] = {}
        queue: deque[tuple[_Dep, str, tuple[tuple[str, str], ...], int]] = deque()
        # a dependency declared twice: Maven keeps the last declaration
        direct: dict[tuple[str, str, str, str], _Dep] = {}
        for raw in eff.deps:
            d = _apply_mgmt(_interp_dep(raw, interp), index)
            if _resolved(d.group) and _resolved(d.artifact):
                direct[_mgmt_key(d)] = d
        for key, d in direct.items():
            seen[key] = len(out)
            scope = d.scope or "compile"
            out.append(self._dep_package(path, d, scope, True, res))
            queue.append((d, scope, d.exclusions, 1))

        # Transitive dependencies from poms of a local repository in the tree (breadth first:
        # nearest wins; at equal depth the first declared wins).
        visited = 0
        while queue and visited < _MAX_TRANSITIVE:
            d, scope, exclusions, depth = queue.popleft()
            visited += 1
            p = res.repo_pom_path(d.group, d.artifact, d.version)
            if p is None:
                continue
            for t in res.repo_deps(p):
                tscope = t.scope
                if _excluded(t.group, t.artifact, exclusions):
                    continue
                key = _mgmt_key(t)
                if key in seen:
                    continue
                # the root's dependency management pins versions (and scopes) of transitives
                m = index.get(key) or index.get((t.group, t.artifact))
                version = (m.version if m is not None and m.version else "") or t.version
                new_scope = _MEDIATE.get((scope, tscope), scope)
                if m is not None and m.scope and m.scope != "import" and scope != "test":
                    new_scope = m.scope
                t_excl = exclusions + t.exclusions
                t = _Dep(t.group, t.artifact, version, new_scope, t.type, t.classifier, "", ())
                seen[key] = len(out)
                out.append(self._dep_package(path, t, new_scope, False, res))
                queue.append((t, new_scope, t_excl, depth + 1))
        return out

    def _dep_package(self, path: str, d: _Dep, scope: str, direct: bool, res: _Resolver) -> Package:
        extra: dict[str, Any] = {"scope": scope, "direct": direct}
        if d.optional == "true":
            extra["optional"] = True
        version = d.version
        if not _resolved(version):
            if version:
                extra["unresolved_version"] = version
            version = ""
        licenses: tuple[str, ...] = ()
        if version:
            p = res.repo_pom_path(d.group, d.artifact, version)
            if p is not None:
                licenses = res.licenses(p)
        return self._package(
            path, d.group, d.artifact, version, d.type, d.classifier, licenses, scope == "test", extra
        )

    def _package(
        self,
        path: str,
        group: str,
        artifact: str,
        version: str,
        type_: str,
        classifier: str,
        licenses: tuple[str, ...],
        dev: bool,
        extra: dict[str, Any],
    ) -> Package:
        extra = {"group_id": group, **extra}
        q = {"classifier": classifier}
        if type_ and type_ != "jar":
            q["type"] = type_
        return Package(
            name=artifact,
            version=version,
            type="maven",
            purl=purl("maven", artifact, version, namespace=group, qualifiers=q),
            path=path,
            cataloger=self.name,
            licenses=licenses,
            dev=dev,
            extra=extra,
        )


CATALOGERS: list[Cataloger] = [MavenPomCataloger()]
