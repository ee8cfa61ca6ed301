"""NVD's CVE JSON 2.0 -> CVSS rows for the severity fallback (``match.severity_of``).

Read: the feed files NVD publishes (``nvdcve-2.0-<year|modified|recent>.json``, plain, ``.gz``
or inside a ``.zip``) and anything of the API 2.0 response shape; also a bare CVE object (one
item's ``cve``, as the API returns one CVE and mirrors keep one per file)::

    {"format": "NVD_CVE", "version": "2.0", "timestamp": ..., "vulnerabilities": [
      {"cve": {"id": "CVE-2023-0286", "vulnStatus": "Modified", "metrics": {
        "cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary",
                           "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/...", ...}}],
        "cvssMetricV30": [...], "cvssMetricV40": [...], "cvssMetricV2": [...]}, ...}}]}

Kept: every metric's vector with its rater (``source``: nvd@nist.gov for NVD's own, a CNA's id or
address otherwise) and ``type`` (Primary = NVD's, Secondary = a CNA's); which one rates a
finding is the matcher's choice. Not kept: CPE configurations (matching is by package, from
OSV and the distributions' feeds) and the texts. A Rejected CVE keeps no vectors.

Each CVE is one unit (feed ``nvd``, key = CVE id), so a later feed (the modified one, imported
after the year feeds: files are read in name order) replaces what an earlier one said.

Feed files are large (a year is hundreds of MB of JSON): they are parsed as a stream, one CVE at
a time (``parse_stream``), never loaded whole.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from lzma import LZMAError
from typing import IO, Any

from containment.advisories.feed import CvssRow, Malformed, Sink, Unit
from containment.model import FeedError

FEED = "nvd"
SOURCE = "nvd"
METRICS = (
    ("cvssMetricV40", "4.0"),
    ("cvssMetricV31", "3.1"),
    ("cvssMetricV30", "3.0"),
    ("cvssMetricV2", "2.0"),
)
FEED_NAME = re.compile(r"(?:^|/)nvdcve-2\.0-[^/]*\.json(?:\.gz)?$", re.IGNORECASE)
MAX_FEED_CHARS = 4 << 30  # one decompressed feed file (a year is well under 1 GB)
MAX_ITEM_CHARS = 64 << 20  # one CVE item


def is_feed_name(name: str) -> bool:
    """Is this a file name NVD gives its CVE JSON 2.0 feeds (read as a stream)?"""
    return bool(FEED_NAME.search(name))


def _is_cve(d: Any) -> bool:
    return (
        isinstance(d, dict)
        and isinstance(d.get("id"), str)
        and d["id"].startswith("CVE-")
        and ("sourceIdentifier" in d or "vulnStatus" in d)
    )


def is_nvd(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    vulns = doc.get("vulnerabilities")
    if isinstance(vulns, list):
        return (
            doc.get("format") == "NVD_CVE" or bool(vulns) and isinstance(vulns[0], dict) and "cve" in vulns[0]
        )
    return _is_cve(doc)


def _list(v: Any, field: str) -> list[Any]:
    if v is None:
        return []
    if isinstance(v, list):
        return v
    raise Malformed(field, f"expected a list, got {type(v).__name__}")


def parse_cve(cve: Any) -> Unit:
    if not isinstance(cve, dict):
        raise Malformed("cve", "missing or not an object")
    cid = cve.get("id")
    if not isinstance(cid, str) or not cid.strip().startswith("CVE-"):
        raise Malformed("id", "missing or not a CVE id")
    cid = cid.strip()
    rows: list[CvssRow] = []
    if cve.get("vulnStatus") != "Rejected":
        metrics = cve.get("metrics")
        if metrics is not None and not isinstance(metrics, dict):
            raise Malformed("metrics", "not an object")
        for key, version in METRICS:
            for i, m in enumerate(_list((metrics or {}).get(key), f"metrics.{key}")):
                data = m.get("cvssData") if isinstance(m, dict) else None
                if not isinstance(data, dict):
                    raise Malformed(f"metrics.{key}[{i}].cvssData", "missing or not an object")
                vector = data.get("vectorString")
                if not isinstance(vector, str) or not vector.strip():
                    raise Malformed(f"metrics.{key}[{i}].cvssData.vectorString", "missing or not a string")
                ver = data.get("version")
                rater, typ = m.get("source"), m.get("type")
                row = (
                    cid,
                    SOURCE,
                    rater if isinstance(rater, str) else "",
                    typ if isinstance(typ, str) else "",
                    ver if isinstance(ver, str) and ver else version,
                    vector.strip(),
                )
                if row not in rows:
                    rows.append(row)
    return Unit(FEED, cid, SOURCE, [], [], 1, cvss=rows).seal()


def _unit(item: Any, n: int, where: str, sink: Sink, origin: str) -> Unit | None:
    cve = item.get("cve") if isinstance(item, dict) and "cve" in item else item
    label = repr(cve["id"]) if isinstance(cve, dict) and isinstance(cve.get("id"), str) else f"CVE #{n}"
    try:
        u = parse_cve(cve)
    except Malformed as e:
        sink.skip(where, f"{label} field {e.field}", e.message)
        return None
    except (TypeError, ValueError, AttributeError) as e:
        sink.skip(where, label, f"malformed ({type(e).__name__}: {e})")
        return None
    u.origin = origin
    return u


def parse(doc: Any, where: str, sink: Sink, origin: str = "") -> list[Unit]:
    """Units from a parsed document (a feed / API response, or one CVE object)."""
    items = doc["vulnerabilities"] if isinstance(doc.get("vulnerabilities"), list) else [doc]
    out = []
    for n, item in enumerate(items):
        u = _unit(item, n, where, sink, origin)
        if u is not None:
            out.append(u)
    return out


# ------------------------------------------------------------------------------ streaming

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _StreamError(Exception):
    """The bytes underneath could not be read (damaged gzip/zip, cut short)."""


class _Reader:
    """JSON values read one at a time from a text stream (json's raw_decode over a window)."""

    def __init__(self, stream: IO[str], chunk: int = 1 << 20) -> None:
        self.stream = stream
        self.chunk = chunk
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.read = 0

    def more(self) -> bool:
        if self.eof:
            return False
        try:
            data = self.stream.read(self.chunk)
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile, LZMAError) as e:
            raise _StreamError(f"{type(e).__name__}: {e}") from None
        if not data:
            self.eof = True
            return False
        self.read += len(data)
        if self.read > MAX_FEED_CHARS:
            raise ValueError(f"larger than {MAX_FEED_CHARS >> 30} GiB decompressed")
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end), not consumed."""
        while True:
            m = _WS.match(self.buf, self.pos)
            self.pos = m.end() if m else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def take(self, allowed: str) -> str:
        c = self.peek()
        if not c or c not in allowed:
            raise ValueError(
                f"expected one of {allowed!r} at character {self.read - len(self.buf) + self.pos}"
            )
        self.pos += 1
        return c

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                v, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if len(self.buf) - self.pos > MAX_ITEM_CHARS or not self.more():
                    raise
                continue
            if end == len(self.buf) and self.more():
                continue  # a number at the window's end may go on in the next chunk
            self.pos = end
            return v


def iter_items(stream: IO[str], chunk: int = 1 << 20) -> Iterator[Any]:
    """Each element of the top-level ``vulnerabilities`` array, one at a time; a top-level
    object without that key (a bare CVE object) is yielded whole."""
    r = _Reader(stream, chunk)
    if r.peek() != "{":
        raise ValueError("not a JSON object")
    r.take("{")
    whole: dict[str, Any] = {}
    streamed = False
    if r.peek() == "}":
        r.take("}")
    else:
        while True:
            key = r.value()
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            r.take(":")
            if key == "vulnerabilities" and r.peek() == "[":
                streamed = True
                r.take("[")
                if r.peek() == "]":
                    r.take("]")
                else:
                    while True:
                        yield r.value()
                        if r.take(",]") == "]":
                            break
            else:
                whole[key] = r.value()
            if r.take(",}") == "}":
                break
    if not streamed and _is_cve(whole):
        yield whole


def parse_stream(stream: IO[str], where: str, sink: Sink, origin: str = "") -> list[Unit]:
    """Units from a feed file read as a stream. JSON that breaks off is one skip warning (the CVEs
    before it are kept); bytes that cannot be read (a damaged gzip or zip) are a FeedError."""
    out: list[Unit] = []
    n = 0
    try:
        for item in iter_items(stream):
            u = _unit(item, n, where, sink, origin)
            n += 1
            if u is not None:
                out.append(u)
    except _StreamError as e:
        raise FeedError(f"{where}: damaged or truncated ({e}); download it again") from None
    except (ValueError, RecursionError) as e:  # json.JSONDecodeError and UnicodeDecodeError too
        sink.skip(where, "(file)", f"not NVD CVE JSON after {n} CVEs ({type(e).__name__}: {e})")
    return out
