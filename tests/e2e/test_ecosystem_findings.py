"""Every language ecosystem, in every form we read, produces its findings end to end.

For each (ecosystem x form): a real published advisory (its `affected` ranges and ids copied from
the advisory database that published it, trimmed to the fields matching needs), a package file in
the real format of that form holding the vulnerable version, and beside it the same file with the
first version outside the range (the fixed version), which must not match. Each form's tree is
scanned with the real CLI twice: `scan fs DIR` and `scan image oci:...` with the tree as one image
layer. The DB is imported once per module with `db import`.

Where the advisories come from (all read 2026 from the publishers' repositories):
- github/advisory-database (GHSA, OSV format): npm, PyPI, Maven, RubyGems, Packagist, NuGet,
  crates.io, Pub, SwiftURL;
- golang/vulndb (GO ids, the corpus copy in ../shared/corpus/advisories/osv-go): Go;
- RConsortium/r-advisory-database (RSEC ids, as quoted in the OSV schema's documentation): CRAN;
- Hex: GHSA-pcxq-fjp3-r752 / EEF-CVE-2025-48044 (ash), ranges as in the EEF CNA record
  (github.com/erlef-cna/website _data/cves/CVE-2025-48044.json) and the GHSA summary;
- ConanCenter: OSV publishes no ConanCenter feed (google/osv-scanner#884: "there's actually no
  available vulnerability database for ConanCenter packages"), so these records put NVD's ranges
  for CVE-2022-37434 (zlib through 1.2.12) and CVE-2023-0286 (OpenSSL 1.1.1 before 1.1.1t,
  3.0.0 before 3.0.8) into OSV shape under the ConanCenter ecosystem, as a mirror or a
  hand-written feed would (`db import` / `db update --source`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci

pytestmark = pytest.mark.e2e


# --------------------------------------------------------------------------- advisories


def _rng(*events: dict[str, str]) -> list[dict]:
    return [{"type": "ECOSYSTEM", "events": list(events)}]


def _aff(ecosystem: str, name: str, *events: dict[str, str], kind: str = "ECOSYSTEM") -> dict:
    return {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": kind, "events": list(events)}],
    }


ADVISORIES: list[dict] = [
    {  # jquery.extend prototype pollution
        "id": "GHSA-6c3j-c64m-qhgq",
        "modified": "2022-02-08T22:08:08Z",
        "aliases": ["CVE-2019-11358"],
        "affected": [_aff("npm", "jquery", {"introduced": "0"}, {"fixed": "3.4.0"})],
    },
    {  # requests Proxy-Authorization leak
        "id": "GHSA-j8r2-6x86-q33q",
        "modified": "2023-09-20T19:19:30Z",
        "aliases": ["CVE-2023-32681"],
        "affected": [_aff("PyPI", "requests", {"introduced": "2.3.0"}, {"fixed": "2.31.0"})],
    },
    {  # golang.org/x/text/language ParseAcceptLanguage DoS
        "id": "GO-2022-1059",
        "modified": "0001-01-01T00:00:00Z",
        "aliases": ["CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"],
        "affected": [_aff("Go", "golang.org/x/text", {"introduced": "0"}, {"fixed": "0.3.8"}, kind="SEMVER")],
    },
    {  # Log4Shell
        "id": "GHSA-jfh8-c2jp-5v3q",
        "modified": "2022-03-25T20:56:18Z",
        "aliases": ["CVE-2021-44228"],
        "affected": [
            _aff(
                "Maven", "org.apache.logging.log4j:log4j-core", {"introduced": "2.13.0"}, {"fixed": "2.15.0"}
            ),
            _aff("Maven", "org.apache.logging.log4j:log4j-core", {"introduced": "0"}, {"fixed": "2.3.1"}),
            _aff("Maven", "org.apache.logging.log4j:log4j-core", {"introduced": "2.4"}, {"fixed": "2.12.2"}),
        ],
    },
    {  # rack shell escape sequence injection
        "id": "GHSA-wq4h-7r42-5hrr",
        "modified": "2022-05-27T16:36:51Z",
        "aliases": ["CVE-2022-30123"],
        "affected": [
            _aff("RubyGems", "rack", {"introduced": "0"}, {"fixed": "2.0.9.1"}),
            _aff("RubyGems", "rack", {"introduced": "2.1"}, {"fixed": "2.1.4.1"}),
            _aff("RubyGems", "rack", {"introduced": "2.2"}, {"fixed": "2.2.3.1"}),
        ],
    },
    {  # guzzlehttp/psr7 improper header parsing
        "id": "GHSA-q7rv-6hp3-vh96",
        "modified": "2023-04-10T19:48:39Z",
        "aliases": ["CVE-2022-24775"],
        "affected": [
            _aff("Packagist", "guzzlehttp/psr7", {"introduced": "0"}, {"fixed": "1.8.4"}),
            _aff("Packagist", "guzzlehttp/psr7", {"introduced": "2.0.0"}, {"fixed": "2.1.1"}),
        ],
    },
    {  # Newtonsoft.Json deep nesting DoS (no CVE)
        "id": "GHSA-5crp-9r3c-p9vr",
        "modified": "2022-07-12T03:46:43Z",
        "aliases": [],
        "affected": [_aff("NuGet", "Newtonsoft.Json", {"introduced": "0"}, {"fixed": "13.0.1"})],
    },
    {  # regex crate parse complexity DoS
        "id": "GHSA-m5pq-gvj9-9vr8",
        "modified": "2022-03-11T19:58:44Z",
        "aliases": ["CVE-2022-24713"],
        "affected": [_aff("crates.io", "regex", {"introduced": "0"}, {"fixed": "1.5.5"})],
    },
    {  # ash authorization bypass
        "id": "GHSA-pcxq-fjp3-r752",
        "modified": "2025-10-17T13:52:53Z",
        "aliases": ["CVE-2025-48044"],
        "affected": [_aff("Hex", "ash", {"introduced": "3.6.3"}, {"fixed": "3.7.1"})],
    },
    {  # dart http header injection
        "id": "GHSA-4rgh-jx4f-qfcq",
        "modified": "2022-08-04T21:05:04Z",
        "aliases": ["CVE-2020-35669"],
        "affected": [_aff("Pub", "http", {"introduced": "0"}, {"fixed": "0.13.3"})],
    },
    {  # swift-nio-http2 HEADERS padding DoS; the record's fix is spelled "1.20", as published
        "id": "GHSA-q36x-r5x4-h4q6",
        "modified": "2024-02-09T00:33:54Z",
        "aliases": ["CVE-2022-0618"],
        "affected": [
            _aff("SwiftURL", "github.com/apple/swift-nio-http2", {"introduced": "1.0.0"}, {"fixed": "1.20"})
        ],
    },
    {  # readxl: libxls xls_getWorkSheet DoS
        "id": "RSEC-2023-2",
        "modified": "2023-10-20T00:00:00Z",
        "aliases": [],
        "affected": [
            {**_aff("CRAN", "readxl", {"introduced": "1.4.1"}, {"fixed": "1.4.2"}), "versions": ["1.4.1"]}
        ],
    },
    {  # zlib inflateGetHeader heap overflow (NVD range; see the module docstring)
        "id": "CVE-2022-37434",
        "modified": "2023-07-19T00:00:00Z",
        "aliases": [],
        "affected": [_aff("ConanCenter", "zlib", {"introduced": "0"}, {"fixed": "1.2.13"})],
    },
    {  # OpenSSL X.400 type confusion (NVD ranges)
        "id": "CVE-2023-0286",
        "modified": "2023-07-19T00:00:00Z",
        "aliases": [],
        "affected": [
            _aff("ConanCenter", "openssl", {"introduced": "1.0.2"}, {"fixed": "1.0.2zg"}),
            _aff("ConanCenter", "openssl", {"introduced": "1.1.1"}, {"fixed": "1.1.1t"}),
            _aff("ConanCenter", "openssl", {"introduced": "3.0.0"}, {"fixed": "3.0.8"}),
        ],
    },
]


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Expect:
    """One finding a form must produce for `vuln`, and not for `clean`."""

    id: str  # the finding's id (the CVE when the advisory has one)
    advisory: str  # the record it came from
    name: str  # package name as reported
    vuln: str  # installed version, as the package file spells it
    clean: str  # first version outside the range
    fixed: tuple[str, ...]  # fixed versions the finding reports
    ecosystem: str
    installed: str = ""  # installed_version in the finding when the matcher normalizes it

    @property
    def installed_version(self) -> str:
        return self.installed or self.vuln


NPM = Expect("CVE-2019-11358", "GHSA-6c3j-c64m-qhgq", "jquery", "3.3.1", "3.4.0", ("3.4.0",), "npm")
PYPI = Expect("CVE-2023-32681", "GHSA-j8r2-6x86-q33q", "requests", "2.30.0", "2.31.0", ("2.31.0",), "PyPI")
GO = Expect("CVE-2022-32149", "GO-2022-1059", "golang.org/x/text", "v0.3.7", "v0.3.8", ("0.3.8",), "Go")
MAVEN = Expect(
    "CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q", "log4j-core", "2.14.1", "2.15.0", ("2.15.0",), "Maven"
)
GEM = Expect("CVE-2022-30123", "GHSA-wq4h-7r42-5hrr", "rack", "2.2.3", "2.2.3.1", ("2.2.3.1",), "RubyGems")
COMPOSER = Expect(
    "CVE-2022-24775", "GHSA-q7rv-6hp3-vh96", "guzzlehttp/psr7", "2.1.0", "2.1.1", ("2.1.1",), "Packagist"
)
NUGET = Expect(
    "GHSA-5crp-9r3c-p9vr", "GHSA-5crp-9r3c-p9vr", "Newtonsoft.Json", "12.0.3", "13.0.1", ("13.0.1",), "NuGet"
)
CARGO = Expect("CVE-2022-24713", "GHSA-m5pq-gvj9-9vr8", "regex", "1.5.4", "1.5.5", ("1.5.5",), "crates.io")
HEX = Expect("CVE-2025-48044", "GHSA-pcxq-fjp3-r752", "ash", "3.7.0", "3.7.1", ("3.7.1",), "Hex")
PUB = Expect("CVE-2020-35669", "GHSA-4rgh-jx4f-qfcq", "http", "0.13.2", "0.13.3", ("0.13.3",), "Pub")
SWIFT = Expect(
    "CVE-2022-0618",
    "GHSA-q36x-r5x4-h4q6",
    "github.com/apple/swift-nio-http2",
    "1.19.2",
    "1.20.0",
    ("1.20",),
    "SwiftURL",
)
CRAN = Expect("RSEC-2023-2", "RSEC-2023-2", "readxl", "1.4.1", "1.4.2", ("1.4.2",), "CRAN")
CONAN_ZLIB = Expect(
    "CVE-2022-37434", "CVE-2022-37434", "zlib", "1.2.12", "1.2.13", ("1.2.13",), "ConanCenter"
)
CONAN_OPENSSL = Expect(
    "CVE-2023-0286", "CVE-2023-0286", "openssl", "1.1.1s", "1.1.1t", ("1.1.1t",), "ConanCenter"
)


# --------------------------------------------------------------------------- package files
# Each builder gets the versions to write (one per Expect of its form) and a slot, "vuln" or
# "clean", and returns {path: bytes} (path relative to the scanned root). Both slots go into one
# tree, so the clean copy must sit where it is read as a package of its own.

Files = dict[str, bytes]
Builder = Callable[[list[str], str], Files]


def _j(doc: object) -> bytes:
    return json.dumps(doc, indent=2).encode()


def _sri(name: str, version: str) -> str:
    return "sha512-" + (name + version).encode().hex()[:86] + "=="


# -- npm


def npm_node_modules(v: list[str], slot: str) -> Files:
    return {
        f"{slot}/node_modules/jquery/package.json": _j(
            {"name": "jquery", "version": v[0], "main": "dist/jquery.js"}
        )
    }


def npm_debian_nodejs(v: list[str], slot: str) -> Files:
    # Debian's node-jquery installs /usr/share/nodejs/jquery; the clean copy goes to the other
    # directory Debian uses, /usr/lib/nodejs
    d = "usr/share/nodejs" if slot == "vuln" else "usr/lib/nodejs"
    return {f"{d}/jquery/package.json": _j({"name": "jquery", "version": v[0], "main": "dist/jquery.js"})}


def _npm_tgz(version: str) -> str:
    return f"https://registry.npmjs.org/jquery/-/jquery-{version}.tgz"


def _package_json() -> bytes:
    return _j({"name": "app", "version": "1.0.0", "private": True, "dependencies": {"jquery": "^3.0.0"}})


def npm_lock_v1(v: list[str], slot: str) -> Files:
    return {
        f"{slot}/package-lock.json": _j(
            {
                "name": "app",
                "version": "1.0.0",
                "lockfileVersion": 1,
                "requires": True,
                "dependencies": {
                    "jquery": {"version": v[0], "resolved": _npm_tgz(v[0]), "integrity": _sri("jquery", v[0])}
                },
            }
        ),
        f"{slot}/package.json": _package_json(),
    }


def npm_lock_v2(v: list[str], slot: str) -> Files:
    return {
        f"{slot}/package-lock.json": _j(
            {
                "name": "app",
                "version": "1.0.0",
                "lockfileVersion": 2,
                "requires": True,
                "packages": {
                    "": {"name": "app", "version": "1.0.0", "dependencies": {"jquery": f"^{v[0]}"}},
                    "node_modules/jquery": {
                        "version": v[0],
                        "resolved": _npm_tgz(v[0]),
                        "integrity": _sri("jquery", v[0]),
                    },
                },
                "dependencies": {
                    "jquery": {"version": v[0], "resolved": _npm_tgz(v[0]), "integrity": _sri("jquery", v[0])}
                },
            }
        ),
        f"{slot}/package.json": _package_json(),
    }


def npm_lock_v3(v: list[str], slot: str) -> Files:
    return {
        f"{slot}/package-lock.json": _j(
            {
                "name": "app",
                "version": "1.0.0",
                "lockfileVersion": 3,
                "requires": True,
                "packages": {
                    "": {"name": "app", "version": "1.0.0", "dependencies": {"jquery": f"^{v[0]}"}},
                    "node_modules/jquery": {
                        "version": v[0],
                        "resolved": _npm_tgz(v[0]),
                        "integrity": _sri("jquery", v[0]),
                    },
                },
            }
        ),
        f"{slot}/package.json": _package_json(),
    }


def yarn_v1(v: list[str], slot: str) -> Files:
    lock = (
        "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n"
        "# yarn lockfile v1\n\n\n"
        "jquery@^3.0.0:\n"
        f'  version "{v[0]}"\n'
        f'  resolved "https://registry.yarnpkg.com/jquery/-/jquery-{v[0]}.tgz#0123456789abcdef0123456789abcdef01234567"\n'
        f"  integrity {_sri('jquery', v[0])}\n"
    )
    return {f"{slot}/yarn.lock": lock.encode(), f"{slot}/package.json": _package_json()}


def yarn_berry(v: list[str], slot: str) -> Files:
    lock = (
        '# This file is generated by running "yarn install" inside your project.\n'
        "# Manual changes might be lost - proceed with caution!\n\n"
        "__metadata:\n  version: 8\n  cacheKey: 10c0\n\n"
        '"app@workspace:.":\n'
        "  version: 0.0.0-use.local\n"
        '  resolution: "app@workspace:."\n'
        '  dependencies:\n    jquery: "npm:^3.0.0"\n'
        "  languageName: unknown\n  linkType: soft\n\n"
        '"jquery@npm:^3.0.0":\n'
        f"  version: {v[0]}\n"
        f'  resolution: "jquery@npm:{v[0]}"\n'
        "  checksum: 10c0/0123456789abcdef\n"
        "  languageName: node\n  linkType: hard\n"
    )
    return {f"{slot}/yarn.lock": lock.encode(), f"{slot}/package.json": _package_json()}


def pnpm_lock(v: list[str], slot: str) -> Files:
    lock = (
        "lockfileVersion: '6.0'\n\n"
        "settings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n"
        "dependencies:\n"
        "  jquery:\n    specifier: ^3.0.0\n"
        f"    version: {v[0]}\n\n"
        "packages:\n\n"
        f"  /jquery@{v[0]}:\n"
        f"    resolution: {{integrity: {_sri('jquery', v[0])}}}\n"
        "    dev: false\n"
    )
    return {f"{slot}/pnpm-lock.yaml": lock.encode(), f"{slot}/package.json": _package_json()}


def pnpm_lock_v9(v: list[str], slot: str) -> Files:
    lock = (
        "lockfileVersion: '9.0'\n\n"
        "settings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n"
        "importers:\n\n"
        "  .:\n"
        "    dependencies:\n"
        "      jquery:\n        specifier: ^3.0.0\n"
        f"        version: {v[0]}\n\n"
        "packages:\n\n"
        f"  jquery@{v[0]}:\n"
        f"    resolution: {{integrity: {_sri('jquery', v[0])}}}\n\n"
        "snapshots:\n\n"
        f"  jquery@{v[0]}: {{}}\n"
    )
    return {f"{slot}/pnpm-lock.yaml": lock.encode(), f"{slot}/package.json": _package_json()}


def bun_lock(v: list[str], slot: str) -> Files:
    lock = (
        "{\n"
        '  "lockfileVersion": 1,\n'
        '  "workspaces": {\n'
        '    "": {\n'
        '      "name": "app",\n'
        '      "dependencies": {\n'
        '        "jquery": "^3.0.0",\n'
        "      },\n"
        "    },\n"
        "  },\n"
        '  "packages": {\n'
        f'    "jquery": ["jquery@{v[0]}", "", {{}}, "{_sri("jquery", v[0])}"],\n'
        "  }\n"
        "}\n"
    )
    return {f"{slot}/bun.lock": lock.encode(), f"{slot}/package.json": _package_json()}


# -- PyPI

_SITE = "usr/lib/python3/dist-packages"


def py_dist_info(v: list[str], slot: str) -> Files:
    meta = f"Metadata-Version: 2.1\nName: requests\nVersion: {v[0]}\nSummary: Python HTTP for Humans.\nLicense: Apache 2.0\n\n"
    return {f"{slot}/{_SITE}/requests-{v[0]}.dist-info/METADATA": meta.encode()}


def py_egg_info(v: list[str], slot: str) -> Files:
    meta = f"Metadata-Version: 2.1\nName: requests\nVersion: {v[0]}\nSummary: Python HTTP for Humans.\n"
    return {f"{slot}/{_SITE}/requests-{v[0]}-py3.11.egg-info/PKG-INFO": meta.encode()}


def py_requirements(v: list[str], slot: str) -> Files:
    return {f"{slot}/requirements.txt": f"# pinned\nrequests=={v[0]}\n".encode()}


def py_pipfile_lock(v: list[str], slot: str) -> Files:
    doc = {
        "_meta": {
            "hash": {"sha256": "0" * 64},
            "pipfile-spec": 6,
            "requires": {"python_version": "3.11"},
            "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}],
        },
        "default": {
            "requests": {
                "hashes": ["sha256:" + "1" * 64],
                "index": "pypi",
                "markers": "python_version >= '3.7'",
                "version": f"=={v[0]}",
            }
        },
        "develop": {},
    }
    return {f"{slot}/Pipfile.lock": _j(doc)}


def py_poetry(v: list[str], slot: str) -> Files:
    lock = (
        "# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n\n"
        "[[package]]\n"
        'name = "requests"\n'
        f'version = "{v[0]}"\n'
        'description = "Python HTTP for Humans."\n'
        "optional = false\n"
        'python-versions = ">=3.7"\n'
        "files = [\n"
        f'    {{file = "requests-{v[0]}-py3-none-any.whl", hash = "sha256:{"2" * 64}"}},\n'
        "]\n\n"
        "[metadata]\n"
        'lock-version = "2.0"\n'
        'python-versions = "^3.11"\n'
        f'content-hash = "{"3" * 64}"\n'
    )
    pyproject = (
        '[tool.poetry]\nname = "app"\nversion = "0.1.0"\ndescription = ""\nauthors = []\n\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\n'
        f'requests = "{v[0]}"\n'
    )
    return {f"{slot}/poetry.lock": lock.encode(), f"{slot}/pyproject.toml": pyproject.encode()}


def py_uv(v: list[str], slot: str) -> Files:
    lock = (
        "version = 1\nrevision = 2\n"
        'requires-python = ">=3.11"\n\n'
        "[[package]]\n"
        'name = "app"\nversion = "0.1.0"\n'
        'source = { virtual = "." }\n'
        'dependencies = [\n    { name = "requests" },\n]\n\n'
        "[package.metadata]\n"
        f'requires-dist = [{{ name = "requests", specifier = "=={v[0]}" }}]\n\n'
        "[[package]]\n"
        'name = "requests"\n'
        f'version = "{v[0]}"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    )
    return {f"{slot}/uv.lock": lock.encode()}


def py_pylock(v: list[str], slot: str) -> Files:
    lock = (
        'lock-version = "1.0"\n'
        'requires-python = ">=3.11"\n'
        'created-by = "pip"\n\n'
        "[[packages]]\n"
        'name = "requests"\n'
        f'version = "{v[0]}"\n'
        'index = "https://pypi.org/simple"\n\n'
        "[[packages.wheels]]\n"
        f'name = "requests-{v[0]}-py3-none-any.whl"\n'
        f'url = "https://files.pythonhosted.org/packages/requests-{v[0]}-py3-none-any.whl"\n'
        f'hashes = {{sha256 = "{"4" * 64}"}}\n'
    )
    return {f"{slot}/pylock.toml": lock.encode()}


# -- Go


def go_mod(v: list[str], slot: str) -> Files:
    mod = f"module example.com/app\n\ngo 1.19\n\nrequire golang.org/x/text {v[0]}\n"
    s = f"golang.org/x/text {v[0]} h1:{'a' * 43}=\ngolang.org/x/text {v[0]}/go.mod h1:{'b' * 43}=\n"
    return {f"{slot}/go.mod": mod.encode(), f"{slot}/go.sum": s.encode()}


GO_BIN = shutil.which("go")


def _build_go_binary(root: Path, version: str) -> bytes:
    """A real `go build` of a program importing golang.org/x/text at `version` (vendored, offline)."""
    src = root / version
    (src / "vendor/golang.org/x/text/language").mkdir(parents=True)
    (src / "go.mod").write_text(f"module example.com/app\n\ngo 1.16\n\nrequire golang.org/x/text {version}\n")
    (src / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\n\t"golang.org/x/text/language"\n)\n\n'
        "func main() { fmt.Println(language.Und) }\n"
    )
    (src / "vendor/golang.org/x/text/language/language.go").write_text(
        'package language\n\n// Und is the undetermined language.\nconst Und = "und"\n'
    )
    (src / "vendor/modules.txt").write_text(
        f"# golang.org/x/text {version}\n## explicit\ngolang.org/x/text/language\n"
    )
    env = {
        **os.environ,
        "GOFLAGS": "-mod=vendor",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
        "GOOS": "linux",
        "GOARCH": "amd64",
    }
    r = subprocess.run(
        ["go", "build", "-o", str(src / "app"), "."],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if r.returncode != 0:
        pytest.fail(f"go build failed: {r.stderr[-2000:]}")
    return (src / "app").read_bytes()


_go_cache: dict[str, bytes] = {}


def go_binary(v: list[str], slot: str) -> Files:
    if GO_BIN is None:
        pytest.skip("the go toolchain is not installed (apt-get install golang-go): no Go binary to read")
    if v[0] not in _go_cache:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            _go_cache[v[0]] = _build_go_binary(Path(d), v[0])
    return {f"{slot}/usr/local/bin/app": _go_cache[v[0]]}


# -- Maven


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def _log4j_manifest(version: str) -> str:
    # the main section of log4j-core's own MANIFEST.MF
    return (
        "Manifest-Version: 1.0\r\n"
        "Bundle-Description: The Apache Log4j Implementation\r\n"
        "Implementation-Title: Apache Log4j Core\r\n"
        "Bundle-SymbolicName: org.apache.logging.log4j.core\r\n"
        f"Implementation-Version: {version}\r\n"
        "Specification-Vendor: The Apache Software Foundation\r\n"
        "Bundle-Name: Apache Log4j Core\r\n"
        "Implementation-Vendor-Id: org.apache.logging.log4j\r\n"
        f"Bundle-Version: {version}\r\n"
        "Implementation-Vendor: The Apache Software Foundation\r\n"
        "Specification-Title: Apache Log4j Core\r\n"
        f"Specification-Version: {version}\r\n"
        "\r\n"
    )


def jar_pom_properties(v: list[str], slot: str) -> Files:
    jar = _zip(
        {
            "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nCreated-By: Apache Maven\r\n\r\n",
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties": (
                "#Created by Apache Maven 3.6.3\n"
                f"version={v[0]}\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n"
            ),
            "org/apache/logging/log4j/core/Logger.class": "\xca\xfe\xba\xbe",
        }
    )
    # renamed as an application server would deploy it, so the pom.properties is what names it
    return {f"{slot}/opt/app/lib/logging.jar": jar}


def jar_manifest(v: list[str], slot: str) -> Files:
    jar = _zip(
        {
            "META-INF/MANIFEST.MF": _log4j_manifest(v[0]),
            "org/apache/logging/log4j/core/Logger.class": "\xca\xfe\xba\xbe",
        }
    )
    return {f"{slot}/opt/app/lib/log4j-core-{v[0]}.jar": jar}


def maven_pom(v: list[str], slot: str) -> Files:
    pom = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>com.example</groupId>\n  <artifactId>app</artifactId>\n  <version>1.0.0</version>\n"
        f"  <properties>\n    <log4j2.version>{v[0]}</log4j2.version>\n  </properties>\n"
        "  <dependencies>\n"
        "    <dependency>\n"
        "      <groupId>org.apache.logging.log4j</groupId>\n"
        "      <artifactId>log4j-core</artifactId>\n"
        "      <version>${log4j2.version}</version>\n"
        "    </dependency>\n"
        "  </dependencies>\n"
        "</project>\n"
    )
    return {f"{slot}/pom.xml": pom.encode()}


def gradle_lockfile(v: list[str], slot: str) -> Files:
    lock = (
        "# This is a Gradle generated file for dependency locking.\n"
        "# Manual edits can break the build and are not advised.\n"
        "# This file is expected to be part of source control.\n"
        f"org.apache.logging.log4j:log4j-core:{v[0]}=compileClasspath,runtimeClasspath\n"
        "empty=annotationProcessor\n"
    )
    return {f"{slot}/gradle.lockfile": lock.encode()}


def sbt_lock(v: list[str], slot: str) -> Files:
    doc = {
        "lockVersion": 1,
        "timestamp": "2023-10-02T09:51:24.716Z",
        "configurations": ["compile", "optional", "provided", "runtime", "test"],
        "dependencies": [
            {
                "org": "org.apache.logging.log4j",
                "name": "log4j-core",
                "version": v[0],
                "artifacts": [{"name": "log4j-core.jar", "hash": "sha1:" + "5" * 40}],
                "configurations": ["compile", "runtime", "test"],
            }
        ],
    }
    return {f"{slot}/build.sbt.lock": _j(doc)}


# -- RubyGems


def gemspec(v: list[str], slot: str) -> Files:
    spec = (
        "# -*- encoding: utf-8 -*-\n"
        f"# stub: rack {v[0]} ruby lib\n\n"
        "Gem::Specification.new do |s|\n"
        '  s.name = "rack".freeze\n'
        f'  s.version = "{v[0]}"\n\n'
        '  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=\n'
        '  s.require_paths = ["lib".freeze]\n'
        '  s.authors = ["Leah Neukirchen".freeze]\n'
        '  s.summary = "a modular Ruby webserver interface".freeze\n'
        '  s.licenses = ["MIT".freeze]\n'
        "end\n"
    )
    return {f"{slot}/usr/local/bundle/specifications/rack-{v[0]}.gemspec": spec.encode()}


def gemfile_lock(v: list[str], slot: str) -> Files:
    lock = (
        "GEM\n  remote: https://rubygems.org/\n  specs:\n"
        f"    rack ({v[0]})\n\n"
        "PLATFORMS\n  ruby\n\n"
        "DEPENDENCIES\n"
        f"  rack (= {v[0]})\n\n"
        "BUNDLED WITH\n   2.3.7\n"
    )
    return {
        f"{slot}/Gemfile.lock": lock.encode(),
        f"{slot}/Gemfile": f'source "https://rubygems.org"\ngem "rack", "{v[0]}"\n'.encode(),
    }


# -- Packagist


def _composer_pkg(version: str) -> dict:
    return {
        "name": "guzzlehttp/psr7",
        "version": version,
        "version_normalized": f"{version}.0",
        "source": {
            "type": "git",
            "url": "https://github.com/guzzle/psr7.git",
            "reference": "c0dcda9f54d145bd4d062a6d15f54931a67732f9",
        },
        "dist": {
            "type": "zip",
            "url": "https://api.github.com/repos/guzzle/psr7/zipball/c0dcda9f54d145bd4d062a6d15f54931a67732f9",
            "reference": "c0dcda9f54d145bd4d062a6d15f54931a67732f9",
            "shasum": "",
        },
        "require": {"php": "^7.2.5 || ^8.0", "psr/http-message": "^1.0"},
        "type": "library",
        "license": ["MIT"],
        "description": "PSR-7 message implementation that also provides common utility methods",
    }


def composer_installed_v1(v: list[str], slot: str) -> Files:
    return {f"{slot}/vendor/composer/installed.json": _j([_composer_pkg(v[0])])}


def composer_installed_v2(v: list[str], slot: str) -> Files:
    pkg = {**_composer_pkg(v[0]), "install-path": "../guzzlehttp/psr7"}
    doc = {"packages": [pkg], "dev": True, "dev-package-names": []}
    return {f"{slot}/vendor/composer/installed.json": _j(doc)}


def composer_lock(v: list[str], slot: str) -> Files:
    doc = {
        "_readme": ["This file locks the dependencies of your project to a known state"],
        "content-hash": "6" * 32,
        "packages": [_composer_pkg(v[0])],
        "packages-dev": [],
        "aliases": [],
        "minimum-stability": "stable",
        "stability-flags": [],
        "prefer-stable": False,
        "prefer-lowest": False,
        "platform": {"php": "^8.1"},
        "platform-dev": [],
        "plugin-api-version": "2.3.0",
    }
    return {f"{slot}/composer.lock": _j(doc)}


# -- NuGet


def deps_json(v: list[str], slot: str) -> Files:
    fw = ".NETCoreApp,Version=v6.0"
    doc = {
        "runtimeTarget": {"name": fw, "signature": ""},
        "compilationOptions": {},
        "targets": {
            fw: {
                "app/1.0.0": {"dependencies": {"Newtonsoft.Json": v[0]}, "runtime": {"app.dll": {}}},
                f"Newtonsoft.Json/{v[0]}": {
                    "runtime": {
                        "lib/netstandard2.0/Newtonsoft.Json.dll": {
                            "assemblyVersion": "12.0.0.0",
                            "fileVersion": "12.0.3.23909",
                        }
                    }
                },
            }
        },
        "libraries": {
            "app/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
            f"Newtonsoft.Json/{v[0]}": {
                "type": "package",
                "serviceable": True,
                "sha512": "sha512-" + "7" * 86 + "==",
                "path": f"newtonsoft.json/{v[0]}",
                "hashPath": f"newtonsoft.json.{v[0]}.nupkg.sha512",
            },
        },
    }
    return {f"{slot}/app/app.deps.json": _j(doc)}


def nuget_packages_lock(v: list[str], slot: str) -> Files:
    doc = {
        "version": 1,
        "dependencies": {
            "net6.0": {
                "Newtonsoft.Json": {
                    "type": "Direct",
                    "requested": f"[{v[0]}, )",
                    "resolved": v[0],
                    "contentHash": "8" * 86 + "==",
                }
            }
        },
    }
    return {f"{slot}/packages.lock.json": _j(doc)}


def nuget_central_props(v: list[str], slot: str) -> Files:
    props = (
        "<Project>\n"
        "  <PropertyGroup>\n    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>\n  </PropertyGroup>\n"
        "  <ItemGroup>\n"
        f'    <PackageVersion Include="Newtonsoft.Json" Version="{v[0]}" />\n'
        "  </ItemGroup>\n"
        "</Project>\n"
    )
    return {f"{slot}/Directory.Packages.props": props.encode()}


def nuget_packages_config(v: list[str], slot: str) -> Files:
    cfg = (
        '<?xml version="1.0" encoding="utf-8"?>\n<packages>\n'
        f'  <package id="Newtonsoft.Json" version="{v[0]}" targetFramework="net472" />\n'
        "</packages>\n"
    )
    return {f"{slot}/packages.config": cfg.encode()}


# -- crates.io


def cargo_lock(v: list[str], slot: str) -> Files:
    lock = (
        "# This file is automatically @generated by Cargo.\n"
        "# It is not intended for manual editing.\n"
        "version = 3\n\n"
        '[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = [\n "regex",\n]\n\n'
        '[[package]]\nname = "regex"\n'
        f'version = "{v[0]}"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        f'checksum = "{"9" * 64}"\n'
    )
    manifest = (
        f'[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nregex = "{v[0]}"\n'
    )
    return {f"{slot}/Cargo.lock": lock.encode(), f"{slot}/Cargo.toml": manifest.encode()}


_rust_cache: dict[str, bytes] = {}


def cargo_auditable(v: list[str], slot: str) -> Files:
    """A real linked ELF with the `.dep-v0` section cargo-auditable's linker step embeds."""
    if not (shutil.which("gcc") and shutil.which("objcopy")):
        pytest.skip("gcc/objcopy not installed (apt-get install gcc binutils): no ELF to embed audit data in")
    if v[0] not in _rust_cache:
        import tempfile

        audit = {
            "packages": [
                {"name": "app", "version": "0.1.0", "source": "local", "dependencies": [1], "root": True},
                {"name": "regex", "version": v[0], "source": "crates.io"},
            ]
        }
        with tempfile.TemporaryDirectory() as d:
            t = Path(d)
            (t / "m.c").write_text("int main(void){return 0;}\n")
            subprocess.run(["gcc", "-O0", "-o", str(t / "m"), str(t / "m.c")], check=True, timeout=120)
            (t / "dep.bin").write_bytes(zlib.compress(json.dumps(audit).encode()))
            subprocess.run(
                [
                    "objcopy",
                    "--add-section",
                    f".dep-v0={t / 'dep.bin'}",
                    "--set-section-flags",
                    ".dep-v0=noload,readonly",
                    str(t / "m"),
                    str(t / "app"),
                ],
                check=True,
                timeout=120,
            )
            _rust_cache[v[0]] = (t / "app").read_bytes()
    return {f"{slot}/usr/local/bin/app": _rust_cache[v[0]]}


# -- Hex, Pub, SwiftURL, ConanCenter, CRAN, CocoaPods


def r_description(v: list[str], slot: str) -> Files:
    desc = (
        "Package: readxl\n"
        "Title: Read Excel Files\n"
        f"Version: {v[0]}\n"
        "License: MIT + file LICENSE\n"
        "Encoding: UTF-8\n"
        "NeedsCompilation: yes\n"
        "Repository: CRAN\n"
        "Date/Publication: 2022-08-17 10:32:02 UTC\n"
        "Built: R 4.3.1; x86_64-pc-linux-gnu; 2023-08-01 10:00:00 UTC; unix\n"
    )
    return {f"{slot}/usr/local/lib/R/site-library/readxl/DESCRIPTION": desc.encode()}


def mix_lock(v: list[str], slot: str) -> Files:
    lock = (
        "%{\n"
        f'  "ash": {{:hex, :ash, "{v[0]}", "{"a" * 64}", [:mix], '
        '[{:ecto, "~> 3.7", [hex: :ecto, repo: "hexpm", optional: false]}], "hexpm", '
        f'"{"b" * 64}"}},\n'
        '  "ecto": {:hex, :ecto, "3.12.4", "267c94d9f2969e6acc4dd5e3e3af5b05cdae89a4d549925f3008b2b7eb0b93c3", [:mix], [], "hexpm", "ef04e4101688a67d061e1b10d7bc1fbf00d1d13c17eef08b71d070ff9188f747"},\n'
        "}\n"
    )
    return {f"{slot}/mix.lock": lock.encode()}


def pubspec_lock(v: list[str], slot: str) -> Files:
    lock = (
        "# Generated by pub\n# See https://dart.dev/tools/pub/glossary#lockfile\n"
        "packages:\n"
        "  http:\n"
        '    dependency: "direct main"\n'
        "    description:\n"
        "      name: http\n"
        f'      sha256: "{"c" * 64}"\n'
        '      url: "https://pub.dev"\n'
        "    source: hosted\n"
        f'    version: "{v[0]}"\n'
        "sdks:\n"
        '  dart: ">=2.12.0 <3.0.0"\n'
    )
    return {f"{slot}/pubspec.lock": lock.encode()}


def package_resolved_v1(v: list[str], slot: str) -> Files:
    doc = {
        "object": {
            "pins": [
                {
                    "package": "swift-nio-http2",
                    "repositoryURL": "https://github.com/apple/swift-nio-http2.git",
                    "state": {"branch": None, "revision": "d" * 40, "version": v[0]},
                }
            ]
        },
        "version": 1,
    }
    return {f"{slot}/Package.resolved": _j(doc)}


def package_resolved_v2(v: list[str], slot: str) -> Files:
    doc = {
        "pins": [
            {
                "identity": "swift-nio-http2",
                "kind": "remoteSourceControl",
                "location": "https://github.com/apple/swift-nio-http2.git",
                "state": {"revision": "d" * 40, "version": v[0]},
            }
        ],
        "version": 2,
    }
    return {f"{slot}/Package.resolved": _j(doc)}


def conan_lock_v1(v: list[str], slot: str) -> Files:
    doc = {
        "graph_lock": {
            "nodes": {
                "0": {"options": "", "requires": ["1", "2"], "path": "conanfile.txt", "context": "host"},
                "1": {
                    "ref": f"zlib/{v[0]}#3b9e037ae1c615d045a06c67d88491ae",
                    "options": "fPIC=True\nshared=False",
                    "package_id": "d50a0d523d98c15bb147b18fa7d203887c38be8b",
                    "prev": "0",
                    "context": "host",
                },
                "2": {
                    "ref": f"openssl/{v[1]}#fa3f1ea5ad1ba1b6e2f4e2cc6cde96dc",
                    "options": "shared=False",
                    "package_id": "6af9cc7cb931c5ad942174fd7838eb655717c709",
                    "prev": "0",
                    "context": "host",
                },
            },
            "revisions_enabled": True,
        },
        "version": "0.4",
        "profile_host": "[settings]\narch=x86_64\nos=Linux\n",
    }
    return {f"{slot}/conan.lock": _j(doc)}


def conan_lock_v2(v: list[str], slot: str) -> Files:
    doc = {
        "version": "0.5",
        "requires": [
            f"zlib/{v[0]}#b3b71bfe8dd07abc7b82ff2bd0eac021%1692672717.68",
            f"openssl/{v[1]}#f2eb8e67d3f5513e8a9b5e3b62d87ea1%1692690000.123",
        ],
        "build_requires": [],
        "python_requires": [],
        "config_requires": [],
    }
    return {f"{slot}/conan.lock": _j(doc)}


def podfile_lock(v: list[str], slot: str) -> Files:
    lock = (
        "PODS:\n"
        f"  - AFNetworking ({v[0]}):\n"
        f"    - AFNetworking/NSURLSession (= {v[0]})\n"
        f"  - AFNetworking/NSURLSession ({v[0]})\n\n"
        "DEPENDENCIES:\n"
        f"  - AFNetworking (= {v[0]})\n\n"
        "SPEC REPOS:\n  trunk:\n    - AFNetworking\n\n"
        "SPEC CHECKSUMS:\n"
        f"  AFNetworking: {'e' * 40}\n\n"
        f"PODFILE CHECKSUM: {'f' * 40}\n\n"
        "COCOAPODS: 1.11.3\n"
    )
    return {f"{slot}/Podfile.lock": lock.encode()}


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Form:
    id: str
    kind: str  # "installed" | "lockfile"
    build: Builder
    expects: tuple[Expect, ...] = field(default=())
    executable: bool = False  # the files are binaries (mode 0755)


FORMS: list[Form] = [
    # npm
    Form("npm/node_modules", "installed", npm_node_modules, (NPM,)),
    Form("npm/usr-share-nodejs", "installed", npm_debian_nodejs, (NPM,)),
    Form("npm/package-lock-v1", "lockfile", npm_lock_v1, (NPM,)),
    Form("npm/package-lock-v2", "lockfile", npm_lock_v2, (NPM,)),
    Form("npm/package-lock-v3", "lockfile", npm_lock_v3, (NPM,)),
    Form("npm/yarn-v1", "lockfile", yarn_v1, (NPM,)),
    Form("npm/yarn-berry", "lockfile", yarn_berry, (NPM,)),
    Form("npm/pnpm-lock-v6", "lockfile", pnpm_lock, (NPM,)),
    Form("npm/pnpm-lock-v9", "lockfile", pnpm_lock_v9, (NPM,)),
    Form("npm/bun-lock", "lockfile", bun_lock, (NPM,)),
    # PyPI
    Form("pypi/dist-info", "installed", py_dist_info, (PYPI,)),
    Form("pypi/egg-info", "installed", py_egg_info, (PYPI,)),
    Form("pypi/requirements", "lockfile", py_requirements, (PYPI,)),
    Form("pypi/pipfile-lock", "lockfile", py_pipfile_lock, (PYPI,)),
    Form("pypi/poetry-lock", "lockfile", py_poetry, (PYPI,)),
    Form("pypi/uv-lock", "lockfile", py_uv, (PYPI,)),
    Form("pypi/pylock", "lockfile", py_pylock, (PYPI,)),
    # Go
    Form("go/binary", "installed", go_binary, (GO,), executable=True),
    Form("go/go-mod", "lockfile", go_mod, (GO,)),
    # Maven
    Form("maven/jar-pom-properties", "installed", jar_pom_properties, (MAVEN,)),
    Form("maven/jar-manifest", "installed", jar_manifest, (MAVEN,)),
    Form("maven/pom-xml", "lockfile", maven_pom, (MAVEN,)),
    Form("maven/gradle-lockfile", "lockfile", gradle_lockfile, (MAVEN,)),
    Form("maven/sbt-lock", "lockfile", sbt_lock, (MAVEN,)),
    # RubyGems
    Form("rubygems/gemspec", "installed", gemspec, (GEM,)),
    Form("rubygems/gemfile-lock", "lockfile", gemfile_lock, (GEM,)),
    # Packagist
    Form("packagist/installed-json-v1", "installed", composer_installed_v1, (COMPOSER,)),
    Form("packagist/installed-json-v2", "installed", composer_installed_v2, (COMPOSER,)),
    Form("packagist/composer-lock", "lockfile", composer_lock, (COMPOSER,)),
    # NuGet
    Form("nuget/deps-json", "installed", deps_json, (NUGET,)),
    Form("nuget/packages-lock", "lockfile", nuget_packages_lock, (NUGET,)),
    Form("nuget/directory-packages-props", "lockfile", nuget_central_props, (NUGET,)),
    Form("nuget/packages-config", "lockfile", nuget_packages_config, (NUGET,)),
    # crates.io
    Form("cargo/cargo-auditable", "installed", cargo_auditable, (CARGO,), executable=True),
    Form("cargo/cargo-lock", "lockfile", cargo_lock, (CARGO,)),
    # Hex, Pub, SwiftURL, ConanCenter
    Form("hex/mix-lock", "lockfile", mix_lock, (HEX,)),
    Form("pub/pubspec-lock", "lockfile", pubspec_lock, (PUB,)),
    Form("swift/package-resolved-v1", "lockfile", package_resolved_v1, (SWIFT,)),
    Form("swift/package-resolved-v2", "lockfile", package_resolved_v2, (SWIFT,)),
    Form("cran/description", "installed", r_description, (CRAN,)),
    Form("conan/conan-lock-v1", "lockfile", conan_lock_v1, (CONAN_ZLIB, CONAN_OPENSSL)),
    Form("conan/conan-lock-v2", "lockfile", conan_lock_v2, (CONAN_ZLIB, CONAN_OPENSSL)),
]


# --------------------------------------------------------------------------- running the CLI


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def advisory_db(tmp_path_factory) -> str:
    feed = tmp_path_factory.mktemp("feed")
    for rec in ADVISORIES:
        (feed / f"{rec['id']}.json").write_text(json.dumps({"schema_version": "1.4.0", **rec}))
    db = tmp_path_factory.mktemp("db") / "advisories.db"
    r = cli("db", "import", str(feed), "--db", str(db), "-q")
    assert r.returncode == 0, r.stderr
    return str(db)


def form_files(form: Form) -> Files:
    files: Files = {}
    files.update(form.build([e.vuln for e in form.expects], "vuln"))
    files.update(form.build([e.clean for e in form.expects], "clean"))
    return files


def write_tree(root: Path, files: Files, executable: bool) -> None:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        if executable:
            p.chmod(0o755)


def write_image(root: Path, files: Files, executable: bool) -> str:
    entries = [
        TarEntry(rel, data, mode=0o755 if executable else 0o644) for rel, data in sorted(files.items())
    ]
    write_oci(str(root), ImageSpec(layers=[layer_tar(entries)]))
    return f"oci:{root}"


def scan(advisory_db: str, kind: str, target: str) -> dict:
    r = cli("scan", kind, target, "--db", advisory_db, "-f", "json", "-q")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def check_findings(doc: dict, form: Form) -> None:
    findings = doc["findings"]
    for e in form.expects:
        mine = [f for f in findings if f["package"]["name"] == e.name]
        vuln = [f for f in mine if f["package"]["version"] == e.vuln]
        assert len(vuln) == 1, (
            f"{form.id}: expected one finding for {e.name} {e.vuln}, got {mine} in {findings}"
        )
        f = vuln[0]
        assert f["package"]["path"].startswith(("vuln/", "usr/share/nodejs/")), f["package"]["path"]
        assert (f["id"], f["ecosystem"], f["installed_version"], tuple(f["fixed_versions"])) == (
            e.id,
            e.ecosystem,
            e.installed_version,
            e.fixed,
        )
        assert e.advisory in f["advisory_ids"]
        clean = [f for f in mine if f["package"]["version"] == e.clean]
        assert clean == [], f"{form.id}: {e.name} {e.clean} is outside the range but matched: {clean}"
    assert len(findings) == len(form.expects), findings


def check_catalogued(root: Path, form: Form) -> None:
    """Both copies were read as packages (so the clean one's missing finding means something)."""
    from containment.cache import LayerCache
    from containment.layers import Analyzer

    inv = Analyzer(cache=LayerCache(enabled=False), prefer_installed=False).inventory_dir(
        str(root), str(root)
    )
    have = {(p.name, p.version) for p in inv.packages}
    for e in form.expects:
        assert (e.name, e.vuln) in have and (e.name, e.clean) in have, (form.id, sorted(have))


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_scan_fs_finds_each_form(form: Form, advisory_db: str, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write_tree(root, form_files(form), form.executable)
    check_catalogued(root, form)
    check_findings(scan(advisory_db, "fs", str(root)), form)


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_scan_image_finds_each_form(form: Form, advisory_db: str, tmp_path: Path) -> None:
    ref = write_image(tmp_path / "img", form_files(form), form.executable)
    doc = scan(advisory_db, "image", ref)
    check_findings(doc, form)
    assert all(f["layer"] for f in doc["findings"])


def test_cocoapods_is_catalogued_and_has_no_osv_ecosystem(advisory_db: str, tmp_path: Path) -> None:
    """CocoaPods: read (Podfile.lock), but OSV defines no CocoaPods ecosystem, so nothing can match;
    the ecosystem table says so instead of silently matching nothing."""
    from containment.ecosystems import BY_TYPE, osv_ecosystem

    form = Form("cocoapods/podfile-lock", "lockfile", podfile_lock)
    root = tmp_path / "tree"
    write_tree(root, {**podfile_lock(["2.5.1"], "vuln"), **podfile_lock(["4.0.1"], "clean")}, False)
    from containment.cache import LayerCache
    from containment.layers import Analyzer

    inv = Analyzer(cache=LayerCache(enabled=False), prefer_installed=False).inventory_dir(
        str(root), str(root)
    )
    pods = {(p.type, p.name, p.version) for p in inv.packages}
    assert pods == {("cocoapods", "AFNetworking", "2.5.1"), ("cocoapods", "AFNetworking", "4.0.1")}
    assert osv_ecosystem("cocoapods") == ""
    assert "CocoaPods" in BY_TYPE["cocoapods"].note
    assert scan(advisory_db, "fs", str(root))["findings"] == []
    assert form.kind == "lockfile"


def test_every_language_ecosystem_has_an_advisory_here() -> None:
    """Keeps this file honest: each OSV ecosystem a cataloger's purl type maps to has a form here."""
    from containment.ecosystems import LANGUAGES

    covered = {e.ecosystem for f in FORMS for e in f.expects}
    emitted = {e.osv for e in LANGUAGES if e.osv}
    assert emitted <= covered, emitted - covered
