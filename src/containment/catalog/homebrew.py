"""Homebrew / Linuxbrew formulae installed in a Cellar.

Homebrew installs each formula version as a "keg", `<prefix>/Cellar/<formula>/<version>/`
(prefix `opt/homebrew` on Apple silicon, `usr/local` on Intel macOS, `home/linuxbrew/.linuxbrew`
on Linux). The keg directory names are the formula (`openssl@3`) and its package version
(`3.3.1`, with `_<revision>` when the formula was rebuilt: `3.3.1_1`). In the keg:

- `INSTALL_RECEIPT.json` (Homebrew's "tab"): `homebrew_version`, `installed_on_request`,
  `installed_as_dependency`, `poured_from_bottle`, `time`, `runtime_dependencies` (other kegs),
  `source: {tap, path, spec, versions: {stable, head, version_scheme}}`, `arch`, `built_on`.
- `.brew/<formula>.rb`: the formula source the keg was built from (`desc "..."`, `homepage
  "..."`, `license "MIT"` or `license any_of: [...]` / `all_of: [...]`).

One package per keg, from the receipt when there is one (the formula file then only adds
description, homepage and license), else from the formula file and the directory names (as syft
reads it). Formula files of taps (`Library/Taps/.../Formula/*.rb`) describe what could be
installed, not what is, and are not read.

purl (purl-spec `brew`): `pkg:brew/<formula>@<keg version>`, with the tap as namespace when it
is not the default `homebrew/core`. OSV publishes no Homebrew advisories: inventoried, not
matched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

RECEIPT = "INSTALL_RECEIPT.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9@+._-]*")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._~-]*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SYMBOL_LICENSES = {":public_domain": "Public Domain", ":cannot_represent": ""}


def _keg(path: str) -> tuple[str, str, str] | None:
    """(keg directory, formula, version) of a receipt or keg formula path, else None."""
    parts = path.split("/")
    if parts[-1] == RECEIPT:
        i = len(parts) - 4
    elif len(parts) >= 5 and parts[-2] == ".brew" and parts[-1].endswith(".rb"):
        i = len(parts) - 5
        if parts[-1] != parts[i + 1] + ".rb":
            return None
    else:
        return None
    if i < 0 or parts[i] != "Cellar":
        return None
    formula, version = parts[i + 1], parts[i + 2]
    if not _NAME.fullmatch(formula) or not _VERSION.fullmatch(version) or len(formula) + len(version) > 512:
        return None
    return "/".join(parts[: i + 3]), formula, version


def parse_formula(text: str) -> dict[str, str]:
    """desc, homepage and license of a formula file (class body lines; nothing is evaluated)."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines) and len(out) < 3:
        line = lines[i].strip()
        i += 1
        word, _, rest = line.partition(" ")
        if word in ("desc", "homepage") and word not in out:
            m = _QUOTED.match(rest.strip())
            if m:
                out[word] = m.group(1)[:1024]
        elif word == "license" and "license" not in out:
            text_ = rest
            depth = rest.count("[") - rest.count("]") + rest.count("{") - rest.count("}")
            while depth > 0 and i < len(lines) and len(text_) < 4096:
                nxt = lines[i].split("#", 1)[0]
                text_ += " " + nxt
                depth += nxt.count("[") - nxt.count("]") + nxt.count("{") - nxt.count("}")
                i += 1
            out["license"] = _license(text_)
    return {k: v for k, v in out.items() if v}


def _license(expr: str) -> str:
    expr = expr.split("#", 1)[0].strip()
    if expr in _SYMBOL_LICENSES:
        return _SYMBOL_LICENSES[expr]
    names = _QUOTED.findall(expr)
    if not names:
        return ""
    if expr.startswith("all_of"):
        joiner = " AND "
    elif expr.startswith("any_of"):
        joiner = " OR "
    else:
        if "=>" in expr and "with:" in expr and len(names) >= 2:  # "GPL-2.0-only" => { with: "..." }
            return f"{names[0]} WITH {names[1]}"
        return names[0]
    return joiner.join(names[:32])


class HomebrewCataloger(Cataloger):
    name = "homebrew-installed"
    version = 1
    max_size = 4 * MiB

    def wants(self, path: str, mode: int, size: int) -> bool:
        return (path.endswith("/" + RECEIPT) or path.endswith(".rb")) and _keg(path) is not None

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        keg = _keg(path)
        if keg is None:
            return []
        keg_dir, formula, version = keg
        receipt_path = f"{keg_dir}/{RECEIPT}"
        rb_path = f"{keg_dir}/.brew/{formula}.rb"
        if path == rb_path and receipt_path in tree:
            return []  # the receipt reports this keg
        receipt: dict[str, Any] = {}
        if path == receipt_path:
            try:
                doc = json.loads(data)
            except (ValueError, RecursionError) as e:
                raise CatalogError(f"{path}: not valid JSON ({e})") from None
            if not isinstance(doc, dict):
                raise CatalogError(f"{path}: not a Homebrew install receipt (not a JSON object)")
            receipt = doc
            rb = tree.get(rb_path)
        else:
            rb = data
        formula_info = parse_formula(rb.decode("utf-8", "replace")) if rb and b"\x00" not in rb[:4096] else {}
        src = receipt.get("source")
        source: dict[str, Any] = src if isinstance(src, dict) else {}
        tap = source.get("tap") if isinstance(source.get("tap"), str) else ""
        extra: dict[str, Any] = {}
        if tap:
            extra["tap"] = tap[:256]
        versions = source.get("versions")
        if isinstance(versions, dict) and isinstance(versions.get("stable"), str):
            extra["stable_version"] = versions["stable"][:256]
        for key in ("installed_on_request", "installed_as_dependency", "poured_from_bottle"):
            if isinstance(receipt.get(key), bool):
                extra[key] = receipt[key]
        for key in ("homebrew_version", "arch"):
            if isinstance(receipt.get(key), str):
                extra[key] = receipt[key][:64]
        if isinstance(receipt.get("time"), int):
            extra["install_time"] = receipt["time"]
        for key in ("desc", "homepage"):
            if key in formula_info:
                extra[key] = formula_info[key]
        lic = formula_info.get("license", "")
        namespace = tap.lower() if tap and tap.lower() != "homebrew/core" else None
        try:
            package_url = purl("brew", formula, version, namespace=namespace)
        except ValueError:
            return []
        return [
            Package(
                name=formula,
                version=version,
                type="brew",
                purl=package_url,
                path=path,
                cataloger=self.name,
                licenses=(lic,) if lic else (),
                extra=extra,
            )
        ]


CATALOGERS: list[Cataloger] = [HomebrewCataloger()]
