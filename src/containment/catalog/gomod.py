"""Go modules from go.mod (and go.sum where go.mod is not the complete build list).

go.mod:
- `require` lines and blocks give the dependencies; `// indirect` is kept in `extra`.
- `replace`: a replacement by a local directory (`=> ../x`, `=> ./x`, `=> /abs`) drops the
  dependency (its code is the user's own tree, not a published module version); a replacement
  by another module (`=> example.com/fork v1.2.3`) reports the replacement module and version
  (what is actually built), with the original in `extra["replaces"]`. A replace naming a
  version applies to that version only.
- `exclude` and `retract` only steer version selection and never add a module; the required
  version is reported as written.
- The main module (`module` line) is not a dependency and is not reported; it is kept in each
  package's `extra["main_module"]`. The `go` and `toolchain` directives do not produce a
  standard-library package.
- Versions are reported as Go writes them (`v1.2.3`, pseudo-versions, `+incompatible`).

go.sum:
- Since Go 1.17 go.mod lists every module of the build (module graph pruning), so go.sum adds
  nothing and is ignored when a go.mod sits beside it.
- For a go.mod with `go` < 1.17 (or no `go` directive, which Go reads as 1.16) indirect
  dependencies are missing from go.mod; modules that go.sum records with a content hash (not
  only a `/go.mod` hash) and that go.mod does not name are added as indirect, at the highest
  version go.sum holds, with `path` set to the go.sum.
- A go.sum without a go.mod beside it reports every module with a content hash, at its
  highest version.

Files inside the module cache (`.../pkg/mod/<module>@<version>/`) and under `testdata/`
directories are skipped: they are dependency sources and test fixtures, not a build list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from containment.catalog._lockutil import basename, decode_text
from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_SEMVER_RE = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$"
)
_GO_DIRECTIVE_RE = re.compile(r"^(\d+)\.(\d+)")
_MAX_LINE_TOKENS = 64


def _semver_key(v: str) -> tuple[Any, ...]:
    """Sort key for Go module versions (semver precedence; invalid versions sort lowest)."""
    m = _SEMVER_RE.match(v)
    if not m:
        return (0, v)
    major, minor, patch, pre = int(m[1]), int(m[2]), int(m[3]), m[4]
    if pre is None:
        return (1, major, minor, patch, 1, ())
    ids = tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in pre.split("."))
    return (1, major, minor, patch, 0, ids)


def _lex(line: str) -> tuple[list[str], str]:
    """Tokens of one go.mod line and its trailing `//` comment text."""
    tokens: list[str] = []
    i, n = 0, len(line)
    while i < n and len(tokens) < _MAX_LINE_TOKENS:
        c = line[i]
        if c in " \t\r":
            i += 1
        elif line.startswith("//", i):
            return tokens, line[i + 2 :].strip()
        elif c == '"':
            j = i + 1
            buf = []
            while j < n and line[j] != '"':
                if line[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(line[j])
                j += 1
            tokens.append("".join(buf))
            i = j + 1
        elif c == "`":
            j = line.find("`", i + 1)
            j = n if j < 0 else j
            tokens.append(line[i + 1 : j])
            i = j + 1
        elif c in "()":
            tokens.append(c)
            i += 1
        else:
            j = i
            while j < n and line[j] not in " \t\r()" and not line.startswith("//", j):
                j += 1
            tokens.append(line[i:j])
            i = j
    return tokens, ""


def _is_indirect(comment: str) -> bool:
    # Go's modfile: the comment is exactly "indirect" or starts with "indirect;"
    return comment == "indirect" or comment.startswith("indirect;")


def _is_local_path(p: str) -> bool:
    return (
        p in (".", "..")
        or p.startswith(("./", "../", "/", ".\\", "..\\"))
        or (len(p) > 2 and p[1] == ":" and p[2] in "/\\")
    )


class GoMod:
    """The facts of one go.mod that the cataloger uses."""

    def __init__(self) -> None:
        self.module = ""
        self.go = ""
        self.toolchain = ""
        self.requires: list[tuple[str, str, bool]] = []  # path, version, indirect
        self.replaces: dict[tuple[str, str], tuple[str, str]] = {}  # (old, oldver or "") -> (new, newver)
        self.excludes: set[tuple[str, str]] = set()


def parse_gomod(text: str) -> GoMod:
    mod = GoMod()
    block = ""
    for line in text.splitlines():
        toks, comment = _lex(line)
        if not toks:
            continue
        if block:
            if toks[0] == ")":
                block = ""
                continue
            _directive(mod, block, toks, comment)
            continue
        if len(toks) >= 2 and toks[1] == "(":
            if toks[2:3] != [")"]:
                block = toks[0]
            continue
        _directive(mod, toks[0], toks[1:], comment)
    return mod


def _directive(mod: GoMod, verb: str, args: list[str], comment: str) -> None:
    if verb == "module" and args:
        mod.module = args[0]
    elif verb == "go" and args:
        mod.go = args[0]
    elif verb == "toolchain" and args:
        mod.toolchain = args[0]
    elif verb == "require" and len(args) >= 2:
        mod.requires.append((args[0], args[1], _is_indirect(comment)))
    elif verb == "exclude" and len(args) >= 2:
        mod.excludes.add((args[0], args[1]))
    elif verb == "replace" and "=>" in args:
        k = args.index("=>")
        old, new = args[:k], args[k + 1 :]
        if 1 <= len(old) <= 2 and 1 <= len(new) <= 2:
            mod.replaces[(old[0], old[1] if len(old) == 2 else "")] = (
                new[0],
                new[1] if len(new) == 2 else "",
            )


def _go_before_117(go: str) -> bool:
    if not go:
        return True  # no go directive: Go assumes 1.16
    m = _GO_DIRECTIVE_RE.match(go)
    if not m:
        return False
    return (int(m[1]), int(m[2])) < (1, 17)


def parse_gosum(text: str) -> dict[str, str]:
    """Module path -> highest version that go.sum records with a content (not /go.mod) hash."""
    best: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("h1:"):
            continue
        path, version = parts[0], parts[1]
        if version.endswith("/go.mod"):
            continue
        cur = best.get(path)
        if cur is None or _semver_key(version) > _semver_key(cur):
            best[path] = version
    return best


def _skip_path(path: str) -> bool:
    if "/testdata/" in path or path.startswith("testdata/"):
        return True
    i = path.find("/pkg/mod/")
    return i >= 0 and "@" in path[i:]


class GoModCataloger(Cataloger):
    name = "go-mod"
    version = 1
    max_size = 16 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not (path.endswith("go.mod") or path.endswith("go.sum")):
            return False
        base = basename(path)
        return (base == "go.mod" or base == "go.sum") and not _skip_path(path)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        text = decode_text(data)
        if basename(path) == "go.sum":
            if tree.sibling(path, "go.mod") is not None:
                return []  # read together with its go.mod
            return [
                p
                for m, v in sorted(parse_gosum(text).items())
                if (p := self._pkg(m, v, path, {})) is not None
            ]
        if "\x00" in text:
            raise CatalogError(f"{path}: not a go.mod file (binary content)")
        mod = parse_gomod(text)
        out: list[Package] = []
        named: set[str] = set()
        dropped: set[str] = set()
        for mpath, version, indirect in mod.requires:
            if mpath in named or mpath in dropped:
                continue
            extra: dict[str, Any] = {"indirect": indirect, "main_module": mod.module}
            repl = mod.replaces.get((mpath, version)) or mod.replaces.get((mpath, ""))
            name = mpath
            if repl is not None:
                if _is_local_path(repl[0]):
                    dropped.add(mpath)
                    continue
                if not repl[1]:
                    continue  # module replacement without a version is not valid go.mod
                extra["replaces"] = f"{mpath}@{version}"
                name, version = repl
            named.add(mpath)
            named.add(name)
            pkg = self._pkg(name, version, path, extra)
            if pkg is not None:
                out.append(pkg)

        gosum = tree.sibling(path, "go.sum")
        if gosum is not None and _go_before_117(mod.go):
            sum_path = path[: -len("go.mod")] + "go.sum"
            for mpath, version in sorted(parse_gosum(decode_text(gosum)).items()):
                if mpath in named or mpath in dropped or mpath == mod.module:
                    continue
                repl = mod.replaces.get((mpath, version)) or mod.replaces.get((mpath, ""))
                if repl is not None and _is_local_path(repl[0]):
                    continue
                extra = {"indirect": True, "main_module": mod.module}
                pkg = self._pkg(mpath, version, sum_path, extra)
                if pkg is not None:
                    named.add(mpath)
                    out.append(pkg)
        return out

    def _pkg(self, module: str, version: str, path: str, extra: dict[str, Any]) -> Package | None:
        if not module or not version or " " in module:
            return None
        namespace, _, name = module.rpartition("/")
        try:
            p = purl("golang", name, version, namespace=namespace)
        except ValueError:
            return None
        return Package(
            name=module,
            version=version,
            type="golang",
            purl=p,
            path=path,
            cataloger=self.name,
            extra={k: v for k, v in extra.items() if v},
        )


CATALOGERS: list[Cataloger] = [GoModCataloger()]
