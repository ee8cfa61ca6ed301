"""Conan lockfiles (`conan.lock`, any `*.lock` next to a conanfile is not guessed).

- Conan 1 (lockfile "version": "0.4", also 0.1-0.3): `graph_lock.nodes` keyed by node id;
  each node has `ref` (`zlib/1.2.11@user/channel#rrev`) or, in the oldest format, `pref`
  (`ref:package_id#prev`); node "0" is the consumer (no ref or a path) and is skipped. A node
  whose `context` is "build", or that is reached only through `build_requires`, is a build
  tool: dev=True.
- Conan 2 (lockfile "version": "0.5"): `requires` (host), `build_requires` (tools: dev),
  `python_requires` and `config_requires` (recipe helpers / configuration: dev), each a list
  of `name/version[@user/channel][#rrev[%timestamp]]`.

purl: `pkg:conan/<name>@<version>` with `user`, `channel` and `rrev` qualifiers, per the
purl spec (a `_` user/channel means none).
"""

from __future__ import annotations

import json
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package


def parse_ref(ref: str) -> tuple[str, str, str, str, str] | None:
    """`name/version@user/channel#rrev%ts:pkgid#prev` -> (name, version, user, channel, rrev)."""
    ref = ref.strip()
    if ref.startswith("conanfile"):
        return None
    ref = ref.split(":", 1)[0]  # drop a package reference part
    main, _, rrev = ref.partition("#")
    rrev = rrev.split("%", 1)[0]
    main, _, uc = main.partition("@")
    name, sep, version = main.partition("/")
    if not sep or not name or not version or "/" in version:
        return None
    user, _, channel = uc.partition("/")
    if user == "_":
        user = ""
    if channel == "_":
        channel = ""
    if any(c.isspace() for c in name + version):
        return None
    return name, version, user, channel, rrev


class ConanLockCataloger(Cataloger):
    name = "conan-lock"
    version = 1
    max_size = 16 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("conan.lock") and (path == "conan.lock" or path.endswith("/conan.lock"))

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise CatalogError(f"{path}: conan.lock is not valid JSON ({e})") from None
        if not isinstance(doc, dict):
            raise CatalogError(f"{path}: conan.lock is not a JSON object")
        graph = doc.get("graph_lock")
        if isinstance(graph, dict) and isinstance(graph.get("nodes"), dict):
            entries = self._v1(graph["nodes"])
        elif any(isinstance(doc.get(k), list) for k in ("requires", "build_requires", "python_requires")):
            entries = []
            for section, dev in (
                ("requires", False),
                ("build_requires", True),
                ("python_requires", True),
                ("config_requires", True),
            ):
                refs = doc.get(section)
                for r in refs if isinstance(refs, list) else ():
                    if isinstance(r, str):
                        entries.append((r, dev, section))
        else:
            raise CatalogError(f"{path}: not a Conan lockfile (no graph_lock.nodes nor requires)")
        out: list[Package] = []
        index: dict[tuple[str, str, str, str], int] = {}
        for ref, dev, kind in entries:
            parsed = parse_ref(ref)
            if parsed is None:
                continue
            name, version, user, channel, rrev = parsed
            key = (name, version, user, channel)
            if key in index:
                i = index[key]
                if out[i].dev and not dev:  # needed by the host too: not dev-only
                    out[i] = self._pkg(path, parsed, False, kind)
                continue
            index[key] = len(out)
            out.append(self._pkg(path, parsed, dev, kind))
        return out

    @staticmethod
    def _v1(nodes: dict[str, Any]) -> list[tuple[str, bool, str]]:
        def ids(node: Any, key: str) -> list[str]:
            v = node.get(key) if isinstance(node, dict) else None
            return [str(i) for i in v if isinstance(i, (str, int))] if isinstance(v, list) else []

        # host side: reachable from the consumer (node "0") through `requires` only
        host: set[str] = set()
        stack = ["0"] if "0" in nodes else []
        while stack:
            n = stack.pop()
            if n in host:
                continue
            host.add(n)
            stack.extend(i for i in ids(nodes.get(n), "requires") if i in nodes)
        build_req = {i for node in nodes.values() for i in ids(node, "build_requires")}
        out = []
        for node_id, node in nodes.items():
            if not isinstance(node, dict):
                continue
            ref = node.get("ref") or node.get("pref")
            if not isinstance(ref, str):
                continue
            context = node.get("context")
            if isinstance(context, str):
                dev = context == "build"
            elif host:
                dev = node_id not in host
            else:
                dev = node_id in build_req
            out.append((ref, dev, "build_requires" if dev else "requires"))
        return out

    def _pkg(self, path: str, parsed: tuple[str, str, str, str, str], dev: bool, kind: str) -> Package:
        name, version, user, channel, rrev = parsed
        extra: dict[str, Any] = {"kind": kind}
        if rrev:
            extra["rrev"] = rrev
        return Package(
            name=name,
            version=version,
            type="conan",
            purl=purl("conan", name, version, qualifiers={"user": user, "channel": channel, "rrev": rrev}),
            path=path,
            cataloger=self.name,
            dev=dev,
            extra=extra,
        )


CATALOGERS: list[Cataloger] = [ConanLockCataloger()]
