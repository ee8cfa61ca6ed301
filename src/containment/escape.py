"""How text read from images reaches outputs that must be UTF-8 (every report format, stderr).

Tar member names and Linux file names are bytes, not text. The layer walk decodes them as
UTF-8 with `surrogateescape`, so a byte that is not UTF-8 (b"\\xff") travels through the
pipeline as the lone surrogate U+DCFF and nothing is lost. Outputs cannot carry a lone
surrogate, so every output writes it the same way, as the byte's percent-encoding:

    b"evil\\xff\\xfe-1.0.dist-info"  ->  "evil%FF%FE-1.0.dist-info"

- a lone surrogate U+DC80..U+DCFF (an undecodable byte NN) becomes `%NN` (upper-case hex);
- any other lone surrogate (only JSON input such as a package.json `"\\ud800"` can carry one)
  becomes the percent-encoding of its WTF-8 bytes (`%ED%A0%80`);
- where control characters are unsafe (text tables on a terminal, the one-line error on
  stderr), C0 controls, DEL and C1 controls become the percent-encoding of their UTF-8 bytes
  too, so a name cannot break a line, move the cursor or recolour the terminal;
- everything else, a literal `%` included, is written as is. URIs (SARIF) and purls
  percent-encode their components anyway, so there the escaped form is exact: a raw byte is
  `%FF` in a SARIF uri, and a purl's name decodes to exactly the `name` the SBOM shows.

This module imports nothing of the project: image, catalog, report and cli all use it.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SURROGATE_RUN = re.compile(r"([\ud800-\udfff])")
_UNSAFE = re.compile(r"[\ud800-\udfff\x00-\x1f\x7f-\x9f]")


def _pct(ch: str) -> str:
    c = ord(ch)
    if 0xDC80 <= c <= 0xDCFF:
        return f"%{c - 0xDC00:02X}"
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def _sub(m: re.Match[str]) -> str:
    return _pct(m.group())


def escape(text: str, control: bool = False) -> str:
    """`text` with lone surrogates (and, with `control`, control characters) percent-encoded."""
    pattern = _UNSAFE if control else _SURROGATE
    return pattern.sub(_sub, text) if pattern.search(text) else text


def to_utf8(text: str) -> bytes:
    """UTF-8 bytes of an output document: valid UTF-8 whatever the document's strings hold."""
    try:
        return text.encode("utf-8")  # the common case, at C speed
    except UnicodeEncodeError:
        return escape(text).encode("utf-8")


def raw_bytes(text: str) -> bytes:
    """The bytes a string stands for (undecodable bytes restored), for hashing and URIs."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # also a surrogate that is no escaped byte (from JSON input)
        return b"".join(
            (
                bytes([ord(part) - 0xDC00])
                if "\udc80" <= part <= "\udcff"
                else part.encode("utf-8", "surrogatepass")
            )
            for part in _SURROGATE_RUN.split(text)
            if part
        )


def one_line(text: str) -> str:
    """A message for stderr: one line, no control characters, valid UTF-8."""
    return escape(" ".join(text.split()), control=True)
