"""Small hand-written feeds: OSV records, an Alpine secdb file, a Debian tracker JSON, zips,
and a local HTTP mirror of OSV's bucket layout."""

from __future__ import annotations

import http.server
import json
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def osv(rid: str, eco: str = "PyPI", name: str = "Django", **kw: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": rid,
        "modified": "2024-01-02T00:00:00Z",
        "published": "2023-05-01T00:00:00Z",
        "aliases": kw.pop("aliases", []),
        "summary": kw.pop("summary", f"{rid} in {name}"),
        "affected": kw.pop(
            "affected",
            [
                {
                    "package": {"ecosystem": eco, "name": name, "purl": f"pkg:{eco.lower()}/{name}"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.2.1"}]}],
                }
            ],
        ),
        "references": [{"type": "WEB", "url": f"https://example.org/{rid}"}],
    }
    rec.update(kw)
    return rec


SECDB_V311 = """---
distroversion: v3.11
reponame: main
archs:
  - x86_64
urlprefix: http://dl-cdn.alpinelinux.org/alpine
packages:
  - pkg:
      name: openssl
      secfixes:
        1.1.1g-r0:
          - CVE-2020-1967
        1.1.1d-r2:
          - CVE-2019-1547
          - CVE-2019-1549 CVE-2019-1563
        1.1.1a-r0:
          - CVE-2018-0734 (partially fixed)
          - CVE-2018-0735
  - pkg:
      name: xen
      secfixes:
        4.13.0-r0:
          - CVE-2019-17343 XSA-310
          - XSA-311
        0:
          - CVE-2017-0001
  - pkg:
      name: musl
      secfixes:
  - pkg:
      name: Busybox
      secfixes:
        1.31.1-r9:
          - CVE_2019-5747
"""

TRACKER: dict[str, Any] = {
    "openssl": {
        "CVE-2023-0286": {
            "description": "X.400 address type confusion in X.509 GeneralName",
            "scope": "remote",
            "debianbug": 1031320,
            "releases": {
                "bookworm": {
                    "status": "resolved",
                    "repositories": {"bookworm": "3.0.11-1~deb12u2"},
                    "fixed_version": "3.0.8-1",
                    "urgency": "not yet assigned",
                },
                "bullseye": {
                    "status": "resolved",
                    "repositories": {"bullseye": "1.1.1w-0+deb11u1"},
                    "fixed_version": "1.1.1n-0+deb11u4",
                    "urgency": "not yet assigned",
                },
                "sid": {
                    "status": "resolved",
                    "repositories": {"sid": "3.1.4-2"},
                    "fixed_version": "3.0.8-1",
                    "urgency": "not yet assigned",
                },
            },
        },
        "CVE-2007-6755": {
            "description": "The NIST SP 800-90A default statement of the Dual EC DRBG ...",
            "scope": "remote",
            "releases": {
                "bookworm": {
                    "status": "open",
                    "repositories": {"bookworm": "3.0.11-1~deb12u2"},
                    "urgency": "unimportant",
                },
                "trixie": {
                    "status": "resolved",
                    "repositories": {"trixie": "3.5.1-1"},
                    "fixed_version": "0",
                    "urgency": "unimportant",
                },
            },
        },
    },
    "linux": {
        "CVE-2024-26600": {
            "description": "phy: ti: phy-omap-usb2: Fix NULL pointer dereference",
            "scope": "local",
            "releases": {
                "bookworm": {
                    "status": "open",
                    "repositories": {"bookworm": "6.1.76-1"},
                    "urgency": "medium**",
                    "nodsa": "Minor issue",
                    "nodsa_reason": "postponed",
                },
                "bullseye": {
                    "status": "open",
                    "repositories": {"bullseye": "5.10.209-2"},
                    "urgency": "low",
                    "nodsa": "Minor issue",
                    "nodsa_reason": "ignored",
                },
                "buster": {
                    "status": "undetermined",
                    "repositories": {"buster": "4.19.304-1"},
                    "urgency": "end-of-life",
                },
                "experimental": {
                    "status": "resolved",
                    "repositories": {},
                    "fixed_version": "6.8-1~exp1",
                    "urgency": "medium",
                },
            },
        },
    },
}


def write_json(p: Path, doc: Any) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc, indent=1))
    return p


def make_zip(p: Path, members: dict[str, Any]) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for name, doc in members.items():
            z.writestr(name, doc if isinstance(doc, (str, bytes)) else json.dumps(doc))
    return p


@pytest.fixture
def feeds(tmp_path: Path) -> Path:
    """A folder of mixed feeds: OSV JSON and YAML, an OSV zip, Alpine secdb, Debian tracker."""
    d = tmp_path / "feeds"
    write_json(
        d / "osv" / "PYSEC-2024-1.json", osv("PYSEC-2024-1", aliases=["CVE-2024-1111", "GHSA-aaaa-bbbb-cccc"])
    )
    (d / "osv" / "yaml").mkdir(parents=True)
    (d / "osv" / "yaml" / "PYSEC-2024-2.yaml").write_text(
        "id: PYSEC-2024-2\nmodified: 2024-02-01T00:00:00Z\naffected:\n- package:\n    ecosystem: PyPI\n"
        "    name: Zope.Interface\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '1.0'\n"
        "    - fixed: '1.10'\n  versions:\n  - '1.0'\n  - '1.9'\n"
    )
    make_zip(
        d / "Go" / "all.zip",
        {
            "GO-2024-0001.json": osv(
                "GO-2024-0001",
                affected=[
                    {
                        "package": {"ecosystem": "Go", "name": "stdlib"},
                        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.21.8"}]}],
                        "ecosystem_specific": {"imports": [{"path": "net/http", "symbols": ["Get"]}]},
                    },
                    {
                        "package": {"ecosystem": "Go", "name": "github.com/Example/Mod"},
                        "ranges": [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]}],
                    },
                ],
            ),
            "GHSA-xxxx-yyyy-zzzz.json": osv(
                "GHSA-xxxx-yyyy-zzzz",
                eco="npm",
                name="Lodash",
                database_specific={"severity": "MODERATE", "github_reviewed": True},
                severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            ),
            "WITHDRAWN-1.json": osv("PYSEC-2020-9", withdrawn="2021-01-01T00:00:00Z"),
        },
    )
    (d / "alpine" / "v3.11").mkdir(parents=True)
    (d / "alpine" / "v3.11" / "main.yaml").write_text(SECDB_V311)
    write_json(d / "debian" / "tracker.json", TRACKER)
    (d / "README.md").write_text("not a feed")
    return d


# ------------------------------------------------------------------------- HTTP mirror


class Mirror:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.truncate: set[str] = set()  # paths served with a short body
        self.status: dict[str, int] = {}  # paths answered with this HTTP status (500, 503, ...)
        mirror = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                mirror.requests.append((self.path, dict(self.headers)))
                if self.path in mirror.status:
                    self.send_response(mirror.status[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                p = mirror.root / self.path.lstrip("/").replace("%3A", ":")
                if not p.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = p.read_bytes()
                etag = f'"{len(data)}-{hash(data) & 0xFFFF}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.end_headers()
                if self.path in mirror.truncate:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    root = tmp_path / "mirror"
    make_zip(
        root / "PyPI" / "all.zip",
        {"PYSEC-2024-1.json": osv("PYSEC-2024-1"), "PYSEC-2024-3.json": osv("PYSEC-2024-3", name="requests")},
    )
    make_zip(root / "Go" / "all.zip", {"GO-2024-0001.json": osv("GO-2024-0001", eco="Go", name="stdlib")})
    m = Mirror(root)
    yield m
    m.close()


ROOT_CORPUS = Path(
    os.environ.get("CONTAINMENT_CORPUS", Path(__file__).resolve().parents[4] / "shared" / "corpus")
).resolve()
