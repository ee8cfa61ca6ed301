"""PHP extensions and libraries installed with `pecl` / `pear`: the PEAR registry.

The PEAR installer (which `pecl install` is) records every installed package as one file of
PHP `serialize()` output in its registry, `<php_dir>/.registry/`: packages of the default
channel pear.php.net as `.registry/<name>.reg`, those of other channels as
`.registry/.channel.<channel>/<name>.reg` (`.channel.pecl.php.net/redis.reg`,
`.channel.__uri/` for packages installed from a URL). `php_dir` is `usr/share/php` (Debian,
Ubuntu), `usr/share/pear` (Fedora, RHEL), `usr/local/lib/php` (the Docker `php` images, where
`docker-php-ext-install`/`pecl` put it). `.registry/.channels/` holds channel definitions, not
packages, and is not read.

Each file is an array with the package.xml fields: `name`, `channel` (absent in the registry
format of PEAR 1.3, as syft notes), `version` (`['release' => '3.2.0', 'api' => '3.2.0']`, a
plain string in package.xml 1.0 registries), `license` (`['attribs' => [...], '_content' =>
'PHP License']` or a string), `summary`, `stability`, `date`, plus the file lists. The
serialized data is read by a small bounded reader of PHP's format (`s:<bytes>:"...";`, `i:`,
`d:`, `b:`, `N;`, `a:<n>:{...}`, `O:`/`C:`/`E:` objects, references), never unserialized by PHP.

purl: syft's form, `pkg:pear/<channel>/<name>@<version>` (purl-spec candidate `pear` type for
PEAR and PECL). OSV publishes no PECL/PEAR advisories: inventoried, not matched.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

DEFAULT_CHANNEL = "pear.php.net"
_MAX_DEPTH = 64
_MAX_ITEMS = 1_000_000


class PhpSerializeError(ValueError):
    pass


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.d = data
        self.i = 0
        self.items = 0

    def _until(self, stop: bytes) -> bytes:
        j = self.d.find(stop, self.i, self.i + 64)
        if j < 0:
            raise PhpSerializeError(f"expected {stop!r} at {self.i}")
        out = self.d[self.i : j]
        self.i = j + len(stop)
        return out

    def _int(self, stop: bytes) -> int:
        raw = self._until(stop)
        try:
            n = int(raw)
        except ValueError:
            raise PhpSerializeError(f"bad number {raw[:20]!r}") from None
        return n

    def _expect(self, b: bytes) -> None:
        if self.d[self.i : self.i + len(b)] != b:
            raise PhpSerializeError(f"expected {b!r} at {self.i}")
        self.i += len(b)

    def _str(self) -> bytes:
        n = self._int(b":")
        if n < 0 or self.i + n + 2 > len(self.d):
            raise PhpSerializeError("string length past the end")
        self._expect(b'"')
        s = self.d[self.i : self.i + n]
        self.i += n
        self._expect(b'"')
        return s

    def value(self, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise PhpSerializeError("nested too deeply")
        self.items += 1
        if self.items > _MAX_ITEMS:
            raise PhpSerializeError("too many values")
        t = self.d[self.i : self.i + 2]
        self.i += 2
        if t == b"N;":
            return None
        if t == b"b:":
            return self._int(b";") != 0
        if t == b"i:":
            return self._int(b";")
        if t == b"d:":
            raw = self._until(b";")
            try:
                return float(raw)
            except ValueError:
                raise PhpSerializeError("bad float") from None
        if t in (b"r:", b"R:"):
            self._int(b";")
            return None  # a back-reference: not needed for the fields read here
        if t == b"s:":
            s = self._str()
            self._expect(b";")
            return s.decode("utf-8", "replace")
        if t == b"E:":
            s = self._str()
            self._expect(b";")
            return s.decode("utf-8", "replace")
        if t == b"a:":
            n = self._int(b":")
            self._expect(b"{")
            out = self._pairs(n, depth)
            self._expect(b"}")
            return out
        if t == b"O:":
            self._str()  # class name
            self._expect(b":")
            n = self._int(b":")
            self._expect(b"{")
            out = self._pairs(n, depth)
            self._expect(b"}")
            return out
        if t == b"C:":
            self._str()  # class name
            self._expect(b":")
            n = self._int(b":")
            if n < 0 or self.i + n + 2 > len(self.d):
                raise PhpSerializeError("custom data past the end")
            self._expect(b"{")
            self.i += n
            self._expect(b"}")
            return None
        raise PhpSerializeError(f"unknown type {t!r} at {self.i - 2}")

    def _pairs(self, n: int, depth: int) -> dict[Any, Any]:
        if n < 0 or n > len(self.d) - self.i:
            raise PhpSerializeError("bad element count")
        out: dict[Any, Any] = {}
        for _ in range(n):
            k = self.value(depth + 1)
            v = self.value(depth + 1)
            if isinstance(k, (str, int)):
                out.setdefault(k, v)
        return out


def php_unserialize(data: bytes) -> Any:
    """The value of PHP `serialize()` output; PhpSerializeError when it is not that."""
    r = _Reader(data)
    try:
        v = r.value()
    except RecursionError:
        raise PhpSerializeError("nested too deeply") from None
    if data[r.i :].strip():
        raise PhpSerializeError(f"trailing data at {r.i}")
    return v


def _text(v: Any) -> str:
    return " ".join(v.split())[:256] if isinstance(v, str) else ""


class PearRegistryCataloger(Cataloger):
    name = "php-pear-installed"
    version = 1
    max_size = 8 * MiB

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith(".reg") or ("/.registry/" not in path and not path.startswith(".registry/")):
            return False
        parent = posixpath.basename(posixpath.dirname(path))
        return parent == ".registry" or (parent.startswith(".channel.") and len(parent) > 9)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        try:
            doc = php_unserialize(data)
        except PhpSerializeError as e:
            raise CatalogError(f"{path}: not a PEAR registry entry (PHP serialized data: {e})") from None
        if not isinstance(doc, dict):
            raise CatalogError(f"{path}: not a PEAR registry entry (not a serialized array)")
        name = _text(doc.get("name") or doc.get("package"))
        version = doc.get("version")
        if isinstance(version, dict):
            version = version.get("release")
        version = _text(version)
        if not name or not version or " " in name or " " in version or "/" in name:
            return []
        parent = posixpath.basename(posixpath.dirname(path))
        channel = _text(doc.get("channel")) or (
            parent[9:] if parent.startswith(".channel.") else DEFAULT_CHANNEL
        )
        lic = doc.get("license")
        if isinstance(lic, dict):
            lic = lic.get("_content")
        license_name = _text(lic)
        extra: dict[str, Any] = {"channel": channel}
        summary = _text(doc.get("summary"))
        if summary:
            extra["summary"] = summary
        stability = doc.get("stability")
        if isinstance(stability, dict) and _text(stability.get("release")):
            extra["stability"] = _text(stability.get("release"))
        if _text(doc.get("providesextension")):
            extra["extension"] = _text(doc.get("providesextension"))
        try:
            package_url = purl("pear", name, version, namespace=channel)
        except ValueError:
            return []
        return [
            Package(
                name=name,
                version=version,
                type="pear",
                purl=package_url,
                path=path,
                cataloger=self.name,
                licenses=(license_name,) if license_name else (),
                extra=extra,
            )
        ]


CATALOGERS: list[Cataloger] = [PearRegistryCataloger()]
