"""Ruby gems from a Bundler lockfile (Gemfile.lock, or gems.locked beside gems.rb).

- Every spec of the GEM, GIT, PATH and PLUGIN SOURCE sections is reported (4-space indented
  `name (version)` lines under `specs:`), with the section kind and remote in `extra`.
  A platform-specific spec `nokogiri (1.15.4-x86_64-linux)` is version `1.15.4` with the
  platform in `extra["platforms"]`; the same gem version locked for several platforms is one
  package. CHECKSUMS, PLATFORMS, RUBY VERSION and BUNDLED WITH carry no packages (the Bundler
  version is kept in `extra["bundled_with"]`).
- Groups live in the Gemfile, not the lock. The sibling Gemfile (or gems.rb) is read for
  `group :development, :test do ... end` blocks and `gem "x", group: :test` options; a gem
  is dev when it is reachable (through the lock's spec dependencies) only from gems declared
  in development/test groups, not from any gem in the default or another group. Gems the
  Gemfile does not mention (e.g. brought by `gemspec`) count as main. Without the Gemfile
  nothing is marked dev.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from containment.catalog._lockutil import basename, decode_text, dev_only
from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_SPEC_RE = re.compile(r"^    ([^ ()!]+)(?: \(([^()]*)\))?!?\s*$")
_DEP_RE = re.compile(r"^      ([^ ()!]+)(?: \(([^()]*)\))?!?\s*$")
_TOP_DEP_RE = re.compile(r"^  ([^ ()!]+)(?: \(([^()]*)\))?(!)?\s*$")
_SOURCE_SECTIONS = {"GEM": "gem", "GIT": "git", "PATH": "path", "PLUGIN SOURCE": "plugin"}

_GEM_RE = re.compile(r"""^gem\s*\(?\s*["']([^"']+)["'](.*)$""")
_GROUP_BLOCK_RE = re.compile(r"^group\s*\(?\s*(.*?)\)?\s*do\s*(\|[^|]*\|)?\s*$")
_BLOCK_OPEN_RE = re.compile(r"\bdo\s*(\|[^|]*\|)?\s*$")
_KEYWORD_OPEN_RE = re.compile(r"^(if|unless|case|begin|while|until|def|class|module|for)\b")
_SYMBOL_RE = re.compile(r""":(\w+)|["'](\w+)["']""")
_GROUP_OPT_RE = re.compile(
    r"""(?:\bgroups?\s*:|:groups?\s*=>)\s*(%[iwIW]\[[^\]]*\]|%[iwIW]\([^)]*\)|\[[^\]]*\]|:\w+|["'][^"']*["'])"""
)
_MAX_DEPTH = 64
_DEV_GROUPS = {
    "development",
    "develop",
    "dev",
    "test",
    "tests",
    "testing",
    "ci",
    "lint",
    "linting",
    "rubocop",
}


def _is_dev_group(group: str) -> bool:
    g = group.lower()
    return g in _DEV_GROUPS or "test" in g or g.startswith("develop")


def _strip_comment(line: str) -> str:
    quote = ""
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            return line[:i]
    return line


def _symbols(text: str) -> list[str]:
    text = text.strip()
    if text[:1] == "%" and len(text) > 3:
        return text[3:-1].split()  # %i[development test]
    return [a or b for a, b in _SYMBOL_RE.findall(text)]


def gemfile_groups(text: str) -> dict[str, set[str]]:
    """Gem name -> the Bundler groups it is declared in ({"default"} outside any group)."""
    groups: dict[str, set[str]] = {}
    stack: list[list[str]] = []  # one entry per open block: the groups it adds (maybe none)
    for raw in text.splitlines():
        line = _strip_comment(raw).strip()
        if not line:
            continue
        if line == "end" or line.startswith("end ") or line.startswith("end."):
            if stack:
                stack.pop()
            continue
        m = _GROUP_BLOCK_RE.match(line)
        if m:
            names = [
                s for s in _symbols(m[1].split("optional:")[0]) if s not in ("optional", "true", "false")
            ]
            if len(stack) < _MAX_DEPTH:
                stack.append(names)
            continue
        g = _GEM_RE.match(line)
        if g:
            opts = _GROUP_OPT_RE.search(g[2])
            declared = _symbols(opts[1]) if opts else []
            enclosing = [n for frame in stack for n in frame]
            found = set(declared) | set(enclosing) or {"default"}
            groups.setdefault(g[1], set()).update(found)
            if _BLOCK_OPEN_RE.search(line) and len(stack) < _MAX_DEPTH:
                stack.append([])
            continue
        if (_BLOCK_OPEN_RE.search(line) or _KEYWORD_OPEN_RE.match(line)) and len(stack) < _MAX_DEPTH:
            stack.append([])
    return groups


class GemfileLockCataloger(Cataloger):
    name = "ruby-gemfile-lock"
    version = 1
    max_size = 16 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith(("Gemfile.lock", "gems.locked", "Gemfile", "gems.rb")):
            return False
        return basename(path) in ("Gemfile.lock", "gems.locked", "Gemfile", "gems.rb")

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        base = basename(path)
        if base not in ("Gemfile.lock", "gems.locked"):
            return []  # manifests are only read beside their lock
        text = decode_text(data)
        if "\x00" in text:
            raise CatalogError(f"{path}: not a Bundler lockfile (binary content)")

        specs: dict[tuple[str, str], dict[str, Any]] = {}
        graph: dict[str, set[str]] = {}
        top_deps: list[str] = []
        bundled_with = ""
        section = ""
        in_specs = False
        remote = ""
        current: str | None = None
        for line in text.splitlines():
            if not line.strip():
                continue
            if not line.startswith(" "):
                section = line.strip()
                in_specs, remote, current = False, "", None
                continue
            if section in _SOURCE_SECTIONS:
                if line.startswith("  remote:"):
                    remote = line.split(":", 1)[1].strip()
                elif line.rstrip() == "  specs:":
                    in_specs = True
                elif in_specs and (m := _SPEC_RE.match(line)):
                    name, raw_version = m[1], (m[2] or "")
                    version, _, platform = raw_version.partition("-")
                    current = name
                    graph.setdefault(name, set())
                    if not version:
                        continue
                    entry = specs.setdefault(
                        (name, version),
                        {"source": _SOURCE_SECTIONS[section], "remote": remote, "platforms": []},
                    )
                    if platform and platform not in entry["platforms"]:
                        entry["platforms"].append(platform)
                elif in_specs and current and (d := _DEP_RE.match(line)):
                    graph[current].add(d[1])
            elif section == "DEPENDENCIES":
                if m := _TOP_DEP_RE.match(line):
                    top_deps.append(m[1])
            elif section == "BUNDLED WITH":
                bundled_with = bundled_with or line.strip()

        dev_names: set[str] = set()
        manifest_name = "Gemfile" if base == "Gemfile.lock" else "gems.rb"
        gemfile = tree.sibling(path, manifest_name)
        if gemfile is not None:
            declared = gemfile_groups(decode_text(gemfile))
            main_roots, dev_roots = [], []
            for dep in top_deps:
                gs = declared.get(dep)
                if gs and all(_is_dev_group(g) for g in gs):
                    dev_roots.append(dep)
                else:
                    main_roots.append(dep)
            dev_names = dev_only(main_roots, dev_roots, graph)

        out: list[Package] = []
        for (name, version), entry in specs.items():
            try:
                p_url = purl("gem", name, version)
            except ValueError:
                continue
            extra = {
                "source": entry["source"],
                "remote": entry["remote"],
                "platforms": entry["platforms"],
                "bundled_with": bundled_with,
            }
            out.append(
                Package(
                    name=name,
                    version=version,
                    type="gem",
                    purl=p_url,
                    path=path,
                    cataloger=self.name,
                    dev=name in dev_names,
                    extra={k: v for k, v in extra.items() if v},
                )
            )
        return out


CATALOGERS: list[Cataloger] = [GemfileLockCataloger()]
