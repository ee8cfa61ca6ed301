"""Installed Python distributions.

Where installers leave metadata (core metadata, email-header format):
- wheels (pip, uv, installer): `<site>/<name>-<ver>.dist-info/METADATA`
- setuptools / distutils / Debian: `<site>/<name>-<ver>.egg-info/PKG-INFO` (a directory) or a
  single file `<site>/<name>-<ver>-py3.11.egg-info` whose content is the PKG-INFO itself
- eggs: `<site>/<name>-<ver>-py3.11.egg/EGG-INFO/PKG-INFO` (unzipped egg directory)

Only the header block is read (up to the first blank line); the long description that
Metadata-Version >= 2.1 puts in the body is never touched. Beside a METADATA file the
cataloger also claims `direct_url.json` (PEP 610) and `INSTALLER` (PEP 376), both tiny, to
record how the distribution was installed. Debian/Ubuntu reserve `usr/lib/python3*/dist-packages`
for dpkg (pip installs under `usr/local`); packages found there get `extra["distro_packaged"]`.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

# Header fields kept; everything else (Description above all) is skipped while parsing.
_FIELDS = frozenset({"name", "version", "license", "license-expression", "classifier", "metadata-version"})
_SIBLINGS = ("direct_url.json", "INSTALLER")
_SIBLING_MAX = 64 * 1024
_TAILS = ("METADATA", "PKG-INFO", ".egg-info", *_SIBLINGS)
# A `License:` value longer than this, or spanning lines, is the license text, not its name.
_LICENSE_NAME_MAX = 100
_NO_LICENSE = frozenset({"", "unknown", "none", "n/a", "na", "other", "license", "see license"})


def _header_block(data: bytes) -> str:
    """The header lines of an email-format metadata file, decoded (body dropped)."""
    if data.startswith((b"\n", b"\r\n")):
        return ""
    ends = [i for i in (data.find(b"\n\n"), data.find(b"\r\n\r\n")) if i >= 0]
    head = data[: min(ends)] if ends else data
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")


def parse_metadata(data: bytes) -> dict[str, list[str]]:
    """Header fields (lower-cased names) -> values, continuation lines joined with newlines."""
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None  # the value list of the field being continued
    for raw in _header_block(data).split("\n"):
        line = raw.rstrip("\r")
        if line[:1] in (" ", "\t"):
            if current is not None and current:
                current[-1] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            current = None
            continue
        key = key.strip().lower()
        if key not in _FIELDS:
            current = None
            continue
        current = fields.setdefault(key, [])
        current.append(value.strip())
    return fields


def _first(fields: dict[str, list[str]], key: str) -> str:
    values = fields.get(key)
    return values[0].strip() if values else ""


def licenses_from(fields: dict[str, list[str]]) -> tuple[str, ...]:
    """PEP 639 License-Expression, else a short License, else the License :: classifiers."""
    expression = _first(fields, "license-expression")
    if expression and "\n" not in expression:
        return (expression,)
    text = _first(fields, "license")
    if text and "\n" not in text and len(text) <= _LICENSE_NAME_MAX and text.lower() not in _NO_LICENSE:
        return (text,)
    found: list[str] = []
    for classifier in fields.get("classifier", ()):
        parts = [p.strip() for p in classifier.split("::")]
        # "License :: OSI Approved :: MIT License" -> "MIT License"; bare "License :: OSI Approved" says nothing.
        if len(parts) < 2 or parts[0] != "License" or parts[1:] == ["OSI Approved"]:
            continue
        name = parts[-1]
        if name and name not in found:
            found.append(name)
    return tuple(found)


def _direct_url(data: bytes | None) -> dict[str, Any] | None:
    """PEP 610 direct_url.json, reduced to url (credentials removed), vcs, commit, editable."""
    if not data or len(data) > _SIBLING_MAX:
        return None
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
        return None
    out: dict[str, Any] = {}
    try:
        parts = urlsplit(doc["url"])
        netloc = parts.netloc.rpartition("@")[2]
        out["url"] = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    except ValueError:
        return None
    vcs = doc.get("vcs_info")
    if isinstance(vcs, dict):
        for key in ("vcs", "commit_id", "requested_revision"):
            if isinstance(vcs.get(key), str):
                out[key] = vcs[key]
    dir_info = doc.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable") is True:
        out["editable"] = True
    return out


def _layout(path: str) -> tuple[str, str]:
    """(format, site-packages dir) for a wanted metadata path."""
    parent, _, base = path.rpartition("/")
    if base != "METADATA" and base != "PKG-INFO":
        return "egg-info-file", parent
    grandparent = posixpath.dirname(parent)
    if base == "PKG-INFO" and parent.rpartition("/")[2] == "EGG-INFO":
        return "egg", posixpath.dirname(grandparent)
    return ("dist-info" if base == "METADATA" else "egg-info"), grandparent


class PythonInstalledCataloger(Cataloger):
    """Python distributions installed in site-packages / dist-packages (any prefix, venvs too)."""

    name = "python-installed"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith(_TAILS):  # one C-level test rejects almost every path
            return False
        if path.endswith("METADATA"):
            parent, _, base = path.rpartition("/")
            return base == "METADATA" and parent[-10:].lower() == ".dist-info"
        if path.endswith("PKG-INFO"):
            parent, _, base = path.rpartition("/")
            return base == "PKG-INFO" and (
                parent[-9:].lower() == ".egg-info" or parent.rpartition("/")[2] == "EGG-INFO"
            )
        if path.endswith(".egg-info"):  # a regular file: the single-file PKG-INFO form
            return True
        if path.endswith(_SIBLINGS):
            parent, _, base = path.rpartition("/")
            return base in _SIBLINGS and parent[-10:].lower() == ".dist-info" and size <= _SIBLING_MAX
        return False

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if path.rpartition("/")[2] in _SIBLINGS:
            return []  # read as a sibling of METADATA
        fields = parse_metadata(data)
        name = _first(fields, "name")
        version = _first(fields, "version")
        if not name or not version or "\n" in name or "\n" in version:
            raise CatalogError(f"{path}: not Python package metadata (no Name/Version header)")
        layout, site = _layout(path)
        extra: dict[str, Any] = {"site_packages": site, "format": layout}
        if site.startswith("usr/lib/python") and site.endswith("/dist-packages"):
            extra["distro_packaged"] = True  # Debian/Ubuntu: only dpkg installs here (pip uses usr/local)
        metadata_version = _first(fields, "metadata-version")
        if metadata_version:
            extra["metadata_version"] = metadata_version
        if layout == "dist-info":
            installer = tree.sibling(path, "INSTALLER")
            if installer and len(installer) <= 256:
                text = installer.decode("utf-8", errors="replace").strip()
                if text and "\n" not in text:
                    extra["installer"] = text
            direct = _direct_url(tree.sibling(path, "direct_url.json"))
            if direct:
                extra["direct_url"] = direct
        try:
            package_url = purl("pypi", name, version)
        except (ValueError, TypeError):
            raise CatalogError(
                f"{path}: Name/Version unusable in a package URL: {name!r} {version!r}"
            ) from None
        return [
            Package(
                name=name,
                version=version,
                type="pypi",
                purl=package_url,
                path=path,
                cataloger=self.name,
                licenses=licenses_from(fields),
                extra=extra,
            )
        ]


CATALOGERS: list[Cataloger] = [PythonInstalledCataloger()]
