"""Java archives: jar/war/ear and friends, read as zip files, nested archives included.

What identifies the packages in an archive:
- `META-INF/maven/<groupId>/<artifactId>/pom.properties` (written by Maven when it builds a jar):
  one package each. A shaded/uber jar carries one per embedded library, and a shading build that
  relocates them (`META-INF/shaded/maven/...`, `org/acme/shaded/META-INF/maven/...`, a bare
  `pom.properties`) leaves them elsewhere: every `pom.properties` in any directory counts (as syft
  and Trivy read them), those outside `META-INF/maven/` only with a groupId (a stray properties
  file of that name is not Maven coordinates). Coordinates seen twice in one archive (the
  archive's own pom also kept in a relocated copy) are one package.
- `META-INF/MANIFEST.MF` (main section): names the archive itself when no pom.properties does:
  name from the file name (`commons-io-2.11.0.jar` -> `commons-io`), else Name, Bundle-Name,
  Short-Name (Jenkins), Extension-Name, Implementation-Title; version from Implementation-Version,
  else the file name, else Specification-Version, Bundle-Version, Plugin-Version; group from
  Implementation-Vendor-Id, Bundle-SymbolicName or Automatic-Module-Name (reverse-domain values).
- nested archives (WEB-INF/lib/*.jar, BOOT-INF/lib/*.jar, ear modules, ...), recursively.

Which pom.properties is the archive itself (so it is reported once, not once from the manifest and
once from the pom): the one whose artifactId equals the name taken from the file name; else the one
whose artifactId equals the manifest's title/bundle name; else, when there is exactly one and its
version agrees with the file name / manifest version, that one. Other pom.properties are embedded
(shaded) packages. Like syft, an archive with neither pom.properties nor a manifest yields nothing
from its file name alone; unlike syft, an archive whose identity has no version is not reported
(nothing can be matched against it).

Every package's `path` is the outer file; `extra["virtual_path"]` locates it inside
(`app.war:WEB-INF/lib/foo-1.0.jar`, syft's notation).

Limits (hostile archives): nesting depth, a total decompression budget per outer file, a cap per
nested member, a cap on zip entries (checked from the end-of-central-directory record before
Python's zipfile builds its index), and bounded reads that never trust declared sizes.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

# syft's set of Java archive extensions (Maven/Jenkins/NiFi/Karaf/JBoss/Liferay packagings)
ARCHIVE_EXTENSIONS = (".jar", ".war", ".ear", ".par", ".sar", ".nar", ".jpi", ".hpi", ".kar", ".lpkg")

MAX_DEPTH = 8
TOTAL_BUDGET = 1024 * MiB  # bytes decompressed for one outer archive, all nesting levels together
MAX_NESTED = 256 * MiB  # one nested archive member
MAX_ENTRIES = 300_000  # zip entries in one archive (the largest real fat jars have ~100k)
MAX_META = 1 * MiB  # a MANIFEST.MF or pom.properties
MAX_POMS = 10_000

_TLDS = frozenset(
    {"com", "org", "net", "io", "dev", "edu", "gov", "mil", "int", "biz", "info", "eu", "uk", "de", "fr"}
    | {"nl", "be", "ch", "at", "it", "es", "se", "no", "fi", "dk", "jp", "cn", "ru", "us", "ca", "au"}
    | {"br", "in", "co", "me", "app", "cloud", "ai", "jakarta", "javax"}
)

# Common license URLs written into Bundle-License -> SPDX ids.
_LICENSE_URLS = {
    "apache.org/licenses/license-2.0": "Apache-2.0",
    "apache.org/licenses/license-2.0.txt": "Apache-2.0",
    "apache.org/licenses/license-2.0.html": "Apache-2.0",
    "opensource.org/licenses/apache-2.0": "Apache-2.0",
    "opensource.org/licenses/mit": "MIT",
    "opensource.org/licenses/mit-license.php": "MIT",
    "eclipse.org/legal/epl-v10.html": "EPL-1.0",
    "eclipse.org/legal/epl-2.0": "EPL-2.0",
    "eclipse.org/legal/epl-v20.html": "EPL-2.0",
    "opensource.org/licenses/bsd-license.php": "BSD-2-Clause",
    "opensource.org/licenses/bsd-3-clause": "BSD-3-Clause",
    "gnu.org/licenses/lgpl-2.1.html": "LGPL-2.1-only",
    "gnu.org/licenses/old-licenses/lgpl-2.1.html": "LGPL-2.1-only",
}


def is_archive_name(name: str) -> bool:
    return name[-5:].lower().endswith(ARCHIVE_EXTENSIONS)


# ----------------------------------------------------------------------------- small formats


def parse_properties(text: str) -> dict[str, str]:
    """java.util.Properties text format: comments (# !), `=`/`:`/space separators, backslash
    line continuation and escapes (\\t, \\n and \\u followed by four hex digits)."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].lstrip(" \t\f")
        i += 1
        if not line or line[0] in "#!":
            continue
        while _continues(line) and i < len(lines):
            line = line[:-1] + lines[i].lstrip(" \t\f")
            i += 1
        if _continues(line):
            line = line[:-1]
        # split key / value at the first unescaped separator
        j = 0
        while j < len(line):
            c = line[j]
            if c == "\\":
                j += 2
                continue
            if c in "=: \t\f":
                break
            j += 1
        key = line[:j]
        rest = line[j:].lstrip(" \t\f")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t\f")
        out[_unescape(key)] = _unescape(rest)
    return out


def _continues(line: str) -> bool:
    n = len(line) - len(line.rstrip("\\"))
    return n % 2 == 1


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\" or i + 1 >= len(s):
            out.append(c)
            i += 1
            continue
        n = s[i + 1]
        if n == "u" and i + 6 <= len(s):
            try:
                out.append(chr(int(s[i + 2 : i + 6], 16)))
                i += 6
                continue
            except ValueError:
                pass
        out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(n, n))
        i += 2
    return "".join(out)


def parse_manifest(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """JAR manifest: (main attributes, per-entry sections). Continuation lines start with one
    space; sections are separated by blank lines; attribute names are case-insensitive (kept as
    first written, looked up through `_get`)."""
    sections: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    last = ""
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not raw:
            if cur:
                sections.append(cur)
                cur, last = {}, ""
            continue
        if raw[0] == " ":
            if last:
                cur[last] += raw[1:]
            continue
        k, sep, v = raw.partition(":")
        if not sep:
            continue
        last = k.strip()
        if last and last not in cur:
            cur[last] = v.strip()
        elif last:
            last = ""  # a repeated attribute: first one wins; ignore its continuations
    if cur:
        sections.append(cur)
    if not sections:
        return {}, []
    return sections[0], sections[1:1000]


def _get(attrs: dict[str, str], key: str) -> str:
    v = attrs.get(key)
    if v is None:
        kl = key.lower()
        for k, val in attrs.items():
            if k.lower() == kl:
                v = val
                break
    return (v or "").strip()


def parse_filename(filename: str) -> tuple[str, str]:
    """(name, version) from an archive file name: `jackson-databind-2.15.2.jar` ->
    (`jackson-databind`, `2.15.2`); the version starts at the first `-` followed by a digit (or
    by `build`/`rc` and a digit), as Maven file names are `<artifactId>-<version>.<ext>`."""
    base = filename.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    if dot > 0:
        base = base[:dot]
    parts = base.split("-")
    for i in range(1, len(parts)):
        p = parts[i]
        pl = p.lower()
        last = i == len(parts) - 1
        if (
            p[:1].isdigit()
            or (pl.startswith("build") and (len(pl) == 5 or pl[5:6].isdigit()))
            or (last and pl.startswith("rc") and pl[2:].isdigit())
            or (last and pl.startswith("r") and pl[1:].isdigit())
        ):
            return "-".join(parts[:i]), "-".join(parts[i:])
    return base, ""


def _group_from(value: str, name: str) -> str:
    """A reverse-domain group id from a manifest value, or ''."""
    v = value.split(";", 1)[0].strip()
    if not v or " " in v or "." not in v or v.split(".", 1)[0].lower() not in _TLDS:
        return ""
    # `<group>.<artifactId>` (com.fasterxml.jackson.core.jackson-databind), or the artifact's
    # last word as the last component (org.apache.commons.lang3 for commons-lang3)
    tail = name.rsplit("-", 1)[-1]
    for suffix in (name, tail):
        if suffix and v.endswith("." + suffix) and v.count(".") >= 2:
            return v[: -len(suffix) - 1]
    return v


def _manifest_group(main: dict[str, str], name: str) -> str:
    vid = _get(main, "Implementation-Vendor-Id")
    if vid and "." in vid and " " not in vid:
        return vid
    for key in ("Bundle-SymbolicName", "Automatic-Module-Name"):
        g = _group_from(_get(main, key), name)
        if g:
            return g
    return ""


def parse_licenses(value: str) -> tuple[str, ...]:
    """Bundle-License: a comma-separated list of SPDX ids or URLs, each maybe with `;` attributes."""
    out: list[str] = []
    depth = 0
    cur = ""
    for c in value:
        if c == '"':
            depth ^= 1
        if c == "," and not depth:
            out.append(cur)
            cur = ""
        else:
            cur += c
    out.append(cur)
    result: list[str] = []
    for item in out:
        lic = item.split(";", 1)[0].strip().strip('"').strip()
        if not lic:
            continue
        key = lic.lower().split("://", 1)[-1].removeprefix("www.").rstrip("/")
        lic = _LICENSE_URLS.get(key, lic)
        if lic not in result:
            result.append(lic)
    return tuple(result[:16])


# ----------------------------------------------------------------------------- zip handling


def _zip_entry_count(data: bytes) -> int | None:
    """Entries declared by the end-of-central-directory record (zip64 aware); None if absent."""
    tail_start = max(0, len(data) - (65535 + 22))
    i = data.rfind(b"PK\x05\x06", tail_start)
    if i < 0 or i + 22 > len(data):
        return None
    total = struct.unpack_from("<H", data, i + 10)[0]
    if total == 0xFFFF and i >= 20 and data[i - 20 : i - 16] == b"PK\x06\x07":
        z64 = struct.unpack_from("<Q", data, i - 20 + 8)[0]
        if z64 + 40 <= len(data) and data[z64 : z64 + 4] == b"PK\x06\x06":
            total = struct.unpack_from("<Q", data, z64 + 32)[0]
    return total


@dataclass
class _Budget:
    remaining: int
    skipped: list[str] = field(default_factory=list)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, budget: _Budget) -> bytes | None:
    """A member's bytes, or None when it is over `limit` / the budget or unreadable. The declared
    size is checked first, then the read itself is bounded (declared sizes can lie)."""
    limit = min(limit, budget.remaining)
    if info.file_size > limit or limit <= 0:
        return None
    try:
        with zf.open(info) as f:
            chunks = []
            got = 0
            while True:
                chunk = f.read(min(1 * MiB, limit + 1 - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
                if got > limit:
                    budget.remaining -= got
                    return None
    except Exception:  # zipfile raises BadZipFile, zlib.error, EOFError, NotImplementedError, ...
        return None
    budget.remaining -= got
    return b"".join(chunks)


def _decode(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


@dataclass
class _Pom:
    group: str
    artifact: str
    version: str
    entry: str  # path of pom.properties inside the archive


class JavaArchiveCataloger(Cataloger):
    name = "java-archive"
    version = 2
    max_size = 512 * MiB
    immediate = True

    def wants(self, path: str, mode: int, size: int) -> bool:
        return is_archive_name(path)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        out: list[Package] = []
        seen: set[tuple[str, str, str]] = set()
        budget = _Budget(TOTAL_BUDGET)
        ok = self._scan(path, path, data, 0, budget, out, seen)
        if not ok:
            raise CatalogError(f"{path}: not a readable zip archive")
        return out

    # One archive (outer or nested). Returns False when it is not a readable zip.
    def _scan(
        self,
        path: str,
        vpath: str,
        data: bytes,
        depth: int,
        budget: _Budget,
        out: list[Package],
        seen: set[tuple[str, str, str]],
    ) -> bool:
        count = _zip_entry_count(data)
        if count is None or count > MAX_ENTRIES:
            return False
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = zf.infolist()
        except Exception:  # BadZipFile, struct/ValueError/OverflowError on damaged directories
            return False
        manifest_info: zipfile.ZipInfo | None = None
        pom_infos: list[zipfile.ZipInfo] = []
        nested: list[zipfile.ZipInfo] = []
        for info in infos[:MAX_ENTRIES]:
            n = info.filename
            if n.endswith("/"):
                continue
            if manifest_info is None and n.upper() == "META-INF/MANIFEST.MF":
                manifest_info = info
                continue
            if n == "pom.properties" or n.endswith("/pom.properties"):
                # META-INF/maven/<g>/<a>/ where Maven writes it, or anywhere else a shading or
                # relocating build moved it (shaded/META-INF/maven/..., org/acme/shaded/...)
                if len(pom_infos) < MAX_POMS:
                    pom_infos.append(info)
                continue
            if is_archive_name(n) and depth + 1 <= MAX_DEPTH:
                nested.append(info)

        main: dict[str, str] | None = None
        if manifest_info is not None:
            raw = _read_member(zf, manifest_info, MAX_META, budget)
            if raw is not None:
                main = parse_manifest(_decode(raw))[0]

        poms: list[_Pom] = []
        for info in pom_infos:
            raw = _read_member(zf, info, MAX_META, budget)
            if raw is None:
                continue
            try:
                props = parse_properties(_decode(raw))
            except Exception:
                continue
            a, v = props.get("artifactId", "").strip(), props.get("version", "").strip()
            g = props.get("groupId", "").strip()
            if not a or not v or "${" in a or "${" in v or "${" in g:
                continue
            if not g and not info.filename.startswith("META-INF/maven/"):
                continue  # a stray properties file named pom.properties, not Maven coordinates
            poms.append(_Pom(g, a, v, info.filename))

        self._identify(path, vpath, main, poms, out, seen)

        for info in nested:
            if budget.remaining <= 0:
                break
            raw = _read_member(zf, info, MAX_NESTED, budget)
            if raw is None:
                budget.skipped.append(f"{vpath}:{info.filename}")
                continue
            self._scan(path, f"{vpath}:{info.filename}", raw, depth + 1, budget, out, seen)
        return True

    def _identify(
        self,
        path: str,
        vpath: str,
        main: dict[str, str] | None,
        poms: list[_Pom],
        out: list[Package],
        seen: set[tuple[str, str, str]],
    ) -> None:
        filename = vpath.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        fn_name, fn_version = parse_filename(filename)
        if main is not None and _get(main, "Weave-Classes"):
            main = None  # an instrumentation jar that describes its target, not itself (as syft)
        m = main or {}
        man_version = _get(m, "Implementation-Version")
        titles = {
            _get(m, k)
            for k in (
                "Implementation-Title",
                "Bundle-Name",
                "Bundle-SymbolicName",
                "Extension-Name",
                "Short-Name",
            )
        }
        titles.discard("")
        titles = {t.split(";", 1)[0].strip() for t in titles}

        own: _Pom | None = None
        if fn_name:
            matches = [p for p in poms if p.artifact == fn_name]
            if matches:
                own = next((p for p in matches if p.version == fn_version), matches[0])
        if own is None and titles:
            own = next((p for p in poms if p.artifact in titles), None)
        if own is None and len(poms) == 1:
            p = poms[0]
            versions = {v for v in (fn_version, man_version) if v}
            if not versions or p.version in versions:
                own = p

        licenses = parse_licenses(_get(m, "Bundle-License")) if m else ()

        if own is not None:
            self._emit(
                path,
                vpath,
                own.group,
                own.artifact,
                own.version,
                "pom.properties",
                licenses,
                out,
                seen,
                {"pom_properties": own.entry},
            )
        elif main is not None:
            name = fn_name
            for key in ("Name", "Bundle-Name", "Short-Name", "Extension-Name", "Implementation-Title"):
                if name:
                    break
                name = _get(m, key)
            version = man_version or fn_version
            for key in ("Specification-Version", "Bundle-Version", "Plugin-Version"):
                v = _get(m, key)
                if not version:
                    version = v
                elif version == fn_version and v and version.endswith("-" + v):
                    version = v  # distro file names: log4j-1.2-1.2.17.jar with Bundle-Version 1.2.17
                    break
            if name and version:
                self._emit(
                    path, vpath, _manifest_group(m, name), name, version, "manifest", licenses, out, seen, {}
                )
        for p in poms:
            if p is not own:
                self._emit(
                    path,
                    vpath,
                    p.group,
                    p.artifact,
                    p.version,
                    "pom.properties",
                    (),
                    out,
                    seen,
                    {"pom_properties": p.entry, "embedded": True},
                )

    def _emit(
        self,
        path: str,
        vpath: str,
        group: str,
        name: str,
        version: str,
        source: str,
        licenses: tuple[str, ...],
        out: list[Package],
        seen: set[tuple[str, str, str]],
        more: dict[str, Any],
    ) -> None:
        key = (group, name, version)
        if key in seen:
            return
        seen.add(key)
        extra: dict[str, Any] = {"virtual_path": vpath, "source": source, **more}
        if group:
            extra["group_id"] = group
        extra["artifact_id"] = name
        out.append(
            Package(
                name=name,
                version=version,
                type="maven",
                purl=purl("maven", name, version, group or None),
                path=path,
                cataloger=self.name,
                licenses=licenses,
                extra=extra,
            )
        )


CATALOGERS: list[Cataloger] = [JavaArchiveCataloger()]
