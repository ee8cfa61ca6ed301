"""purl matching for ignore rules and VEX products.

A pattern without a version matches every version; with a version only that exact version;
qualifiers are ignored unless the pattern gives them (then each must be equal). Type,
namespace and name compare after the purl spec's normalisation (type lower case; pypi names
lower case with runs of `-_.` as `-`; percent-decoding)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True)
class Purl:
    base: str  # pkg:type/namespace/name, normalised, no version
    version: str
    qualifiers: dict[str, str]


def _norm_name(type_: str, part: str) -> str:
    part = unquote(part)
    if type_ == "pypi":
        return re.sub(r"[-_.]+", "-", part).lower()
    return part


def parse(s: str) -> Purl | None:
    """Split a purl; None when `s` is not one."""
    s = s.strip()
    if not s.lower().startswith("pkg:"):
        return None
    rest = s[4:].lstrip("/")
    rest = rest.split("#", 1)[0]
    rest, _, query = rest.partition("?")
    version = ""
    slash = rest.rfind("/")
    at = rest.rfind("@")
    if at > slash and at > 0:
        rest, version = rest[:at], unquote(rest[at + 1 :])
    parts = [p for p in rest.split("/") if p]
    if len(parts) < 2:
        return None
    type_ = parts[0].lower()
    names = [_norm_name(type_, p) for p in parts[1:]]
    quals: dict[str, str] = {}
    for kv in query.split("&"):
        if not kv:
            continue
        k, _, val = kv.partition("=")
        quals[k.lower()] = unquote(val)
    return Purl("pkg:" + type_ + "/" + "/".join(names), version, quals)


def matches(pattern: str | Purl, purl: str, glob: bool = False) -> bool:
    """Does the package `purl` fall under `pattern`?

    With `glob`, the pattern's type/namespace/name may hold `*` wildcards (`pkg:npm/*`), and a
    pattern naming only a namespace (`pkg:maven/org.apache.logging.log4j`) matches every
    package in it."""
    pat = parse(pattern) if isinstance(pattern, str) else pattern
    got = parse(purl)
    if pat is None or got is None:
        return False
    if pat.base != got.base:
        if not glob:
            return False
        if not (fnmatch.fnmatchcase(got.base, pat.base) or got.base.startswith(pat.base + "/")):
            return False
    if pat.version and pat.version != got.version:
        return False
    return all(got.qualifiers.get(k) == val for k, val in pat.qualifiers.items())
