"""Rust binaries built with cargo-auditable: the dependency tree embedded in section `.dep-v0`.

Format (cargo-auditable / auditable-serde): the section holds zlib-compressed JSON
`{"packages": [{"name", "version", "source", "kind", "dependencies", "root"}, ...]}` where
`source` is "crates.io", "local", "git", "registry" or "other", `kind` is "runtime" (the default,
omitted) or "build" (build-dependencies and proc-macros: code run at compile time, not shipped
in the binary), `dependencies` are indices into `packages`, and `root` marks the crate the
binary was built from. The section is named `.dep-v0` in ELF and PE, and `.dep-v0` in segment
`__DATA` for Mach-O.

Every package is reported; `kind == "build"` ones are marked dev=True (compile-time only, the
way cargo-auditable documents them: not part of the shipped code, so a vulnerability in them
does not reach the binary), never dropped. syft and Trivy leave them out entirely.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import Any

from containment.catalog import _exe
from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.catalog.golang import executable_wanted
from containment.model import CatalogError, Package

SECTION = b".dep-v0"
_MAX_COMPRESSED = 16 * MiB
_MAX_JSON = 32 * MiB  # decompressed size cap (zlib bomb guard); real ones are a few KiB
_MAX_PACKAGES = 100_000


def read_audit_data(data: bytes, path: str = "") -> dict[str, Any] | None:
    """The decoded `.dep-v0` JSON of an executable, or None when there is none."""
    if data.find(SECTION) < 0:  # C-speed bail out: the section name is in the string table
        return None
    exe = _exe.parse(data)
    if exe is None:
        return None
    raw = exe.section_bytes(SECTION.decode())
    if not raw:
        return None
    if len(raw) > _MAX_COMPRESSED:
        raise CatalogError(f"{path}: .dep-v0 section is {len(raw)} bytes, too large to be audit data")
    d = zlib.decompressobj()
    try:
        text = d.decompress(raw, _MAX_JSON)
    except zlib.error as e:
        raise CatalogError(f"{path}: .dep-v0 section is not zlib data: {e}") from None
    if d.unconsumed_tail:
        raise CatalogError(f"{path}: .dep-v0 section inflates beyond {_MAX_JSON} bytes")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CatalogError(f"{path}: .dep-v0 section is not JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("packages"), list):
        raise CatalogError(f"{path}: .dep-v0 JSON has no packages list")
    return doc


class RustAuditableCataloger(Cataloger):
    name = "rust-cargo-auditable"
    version = 1
    max_size = 512 * MiB
    immediate = True

    def wants(self, path: str, mode: int, size: int) -> bool:
        return executable_wanted(path, mode, size, self.max_size)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        doc = read_audit_data(data, path)
        if doc is None:
            return []
        entries = doc["packages"][:_MAX_PACKAGES]
        root_names = [
            e["name"]
            for e in entries
            if isinstance(e, dict) and e.get("root") is True and isinstance(e.get("name"), str)
        ]
        out: list[Package] = []
        seen: set[tuple[str, str, str]] = set()
        for e in entries:
            if not isinstance(e, dict):
                continue
            name, version = e.get("name"), e.get("version")
            if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
                continue
            raw_source = e.get("source")
            source: str = raw_source if isinstance(raw_source, str) else ""
            kind = e.get("kind") if isinstance(e.get("kind"), str) else "runtime"
            key = (name, version, source)
            if key in seen:
                continue
            seen.add(key)
            extra: dict[str, Any] = {"source": source, "kind": kind}
            if e.get("root") is True:
                extra["root"] = True
            elif root_names:
                extra["root_crate"] = root_names[0]
            deps = e.get("dependencies")
            if isinstance(deps, list):
                names = []
                for i in deps[:10_000]:
                    if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(entries):
                        d = entries[i]
                        if isinstance(d, dict) and isinstance(d.get("name"), str):
                            names.append(d["name"])
                if names:
                    extra["dependencies"] = names
            out.append(
                Package(
                    name=name,
                    version=version,
                    type="cargo",
                    purl=purl("cargo", name, version),
                    path=path,
                    cataloger=self.name,
                    dev=kind == "build",
                    extra=extra,
                )
            )
        return out


CATALOGERS: list[Cataloger] = [RustAuditableCataloger()]
