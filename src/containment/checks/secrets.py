"""Secret scanning: credentials in layer files, image ENV, labels and history lines.

One analyzer of the walk's `secrets` group (`ANALYZERS`), immediate: a file's bytes are scanned
as it streams by and dropped. The raw secret never leaves this module: findings carry
`mask(secret)` only (the first 4 and last 2 chars of a secret of 16 chars or more, else
`********`), so reports, caches and logs never hold one.

How a file is scanned, cheapest test first:
1. `wants`: path and size only. Never read: images, archives, compiled objects, fonts;
   distribution-managed trees (usr/bin, usr/lib, usr/share, lib, the package databases) and
   installed third-party code (site-packages, node_modules, Go module cache, gems), as Trivy
   and gitleaks do; files above `MAX_SIZE`. Read: etc/, opt/, srv/, home/, root/, usr/local/
   (but its Python library), var/, app directories, everything else.
2. Content sniff: an ELF header, or a NUL byte in the first 8 KiB (UTF-16 with a BOM excepted),
   means binary: skipped.
3. Keyword prefilter: each rule runs its regex only when one of its keywords is in the
   lowercased text (plain `in` tests); most files run none.
4. Per-rule regex over the whole text (not per line, so a 1 MiB minified line is scanned,
   never skipped); shell/Dockerfile line continuations (backslash-newline) are joined first, so
   a secret split across them is found, at the line where it starts.
5. Placeholder and test values are dropped (AKIA...EXAMPLE, changeme, ${VAR}, {{ .Values }},
   <password>, password=password, low entropy), a checksum that holds (GitHub, npm) accepts a
   token outright, and a line marked `containment:allow` (or gitleaks:allow /
   `pragma: allowlist secret`) is skipped.

The allowlist file (`load_allowlist`) suppresses findings by rule id, path glob or fingerprint
(`path:rule-id:line`); it cannot match secret values, which findings no longer hold.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import yaml

from containment.analyzers import LayerAnalyzer
from containment.checks.secret_rules import BY_ID, GENERIC, PATTERNS, RULES, SecretPattern
from containment.model import ConfigError, Location, Rule, SecretFinding, Suppression

if TYPE_CHECKING:
    from containment.catalog.base import FileTree

MiB = 1024 * 1024
MAX_SIZE = 10 * MiB
MAX_FINDINGS = 1000  # per file: a generated file full of tokens is reported, boundedly

# ---------------------------------------------------------------------------- what is read

_SKIP_EXT = frozenset(
    ["png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tif", "tiff", "svg", "svgz", "psd", "xcf", "ttf", "otf", "woff", "woff2", "eot", "pfb", "pfa", "pcf", "afm", "gz", "tgz", "bz2", "xz", "lz", "lzma", "zst", "zip", "jar", "war", "ear", "whl", "egg", "tar", "7z", "rar", "deb", "rpm", "apk", "ipk", "cab", "iso", "img", "dmg", "so", "a", "o", "ko", "lo", "la", "obj", "dll", "exe", "pyc", "pyo", "pyd", "class", "dex", "wasm", "node", "mo", "gmo", "qm", "db", "sqlite", "sqlite3", "mp3", "mp4", "wav", "ogg", "flac", "avi", "mkv", "mov", "webm", "pdf", "ps", "eps", "dvi", "pack", "idx", "rev", "cache", "bin", "dat", "mat", "npy", "npz", "pkl", "pt", "onnx", "h5", "tflite", "gpg", "sig", "asc", "crt", "cer", "der", "p7b", "md5sums"]
)
# Distribution-managed trees (what dpkg/apk/rpm install: binaries, libraries, shared data) are
# not where an image's owner leaves credentials, and they are most of an image's bytes; the
# places that are (etc/, opt/, srv/, home/, root/, usr/local/, app dirs, var/) are all read.
_SKIP_PREFIX = (
    "usr/bin/", "usr/sbin/", "bin/", "sbin/", "usr/lib/", "usr/lib64/", "usr/libexec/", "lib/", "lib64/",
    "usr/share/", "usr/include/", "usr/src/", "var/lib/dpkg/", "var/lib/rpm/", "var/lib/apk/", "var/lib/apt/lists/",
    "var/cache/apt/", "usr/local/lib/python", "usr/local/go/", "proc/", "sys/", "dev/",
)
# Installed third-party code (language runtimes' standard libraries, site-packages, node_modules,
# Go module cache, gems): not the image owner's secrets, full of test keys, and most of an
# image's text. Trivy and gitleaks skip these trees too.
_LIB_DIRS = ("site-packages/", "dist-packages/", "node_modules/", "/go/pkg/mod/", "/gems/", ".dist-info/",
             ".egg-info/", "/vendor/bundle/")
_LIB_PREFIX = re.compile(r"(?:usr/(?:local/)?lib(?:64)?/(?:python[23][.\d]*|node_modules|jvm|go[\d.-]*|ruby|perl5?)/"
                         r"|usr/lib/(?:x86_64|aarch64)-linux-gnu/perl|usr/local/go/|opt/conda/pkgs/)")


def _wanted_path(path: str) -> bool:
    if path.startswith(_SKIP_PREFIX):
        return False
    name = path.rpartition("/")[2]
    if "." in name:
        ext = name.rpartition(".")[2].lower()
        if ext in _SKIP_EXT or ".so." in name:
            return False
    if any(d in path for d in _LIB_DIRS) or _LIB_PREFIX.match(path):
        return False
    # Go toolchain and other test data: fixture keys
    return not ("/testdata/" in path or path.startswith("testdata/"))


_CODE_EXT = frozenset(
    ["py", "pyi", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "java", "kt", "kts", "scala", "rb", "php", "cs", "c", "h", "cc", "cpp", "hpp", "rs", "swift", "m", "mm", "pl", "pm", "lua", "groovy", "dart", "ex", "exs", "clj", "r", "vb", "fs"]
)


def _is_code(path: str) -> bool:
    name = path.rpartition("/")[2]
    return "." in name and name.rpartition(".")[2].lower() in _CODE_EXT


def _decode(data: bytes) -> str | None:
    """The text of a file, or None for binary content."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if head.startswith(b"\x7fELF") or b"\0" in head:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# ---------------------------------------------------------------------------- masking


def _compact(secret: str) -> str:
    return re.sub(r"\s+|\\[nr]", "", secret)


def mask(secret: str) -> str:
    """The form a secret is kept in: the first 4 and last 2 chars of a secret of 16 chars or
    more around at most 32 `*` (the length of long ones is not kept either), else `********`.
    (Trivy masks every char; we keep enough to recognise which key it was.)"""
    secret = _compact(secret)
    if len(secret) >= 16:
        return secret[:4] + "*" * min(len(secret) - 6, 32) + secret[-2:]
    return "********"


# ---------------------------------------------------------------------------- placeholders


def entropy(s: str) -> float:
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


_PLACEHOLDER_PARTS = (
    "example", "dummy", "placeholder", "changeme", "change_me", "change-me", "changeit", "your_", "your-",
    "yourpass", "yoursecret", "yourtoken", "redacted", "xxxx", "****", "....", "\u2026", "replace_me",
    "replaceme", "replace-me", "insert_", "insert-", "todo", "fixme", "${", "$(", "{{", "}}", "%(",
    "abcdefgh", "12345678", "qwertyui", "0000000", "1111111", "secret_here", "token_here", "key_here",
)
_TEMPLATE = re.compile(r"<[A-Za-z_][\w .\-]{0,40}>|^\$[A-Za-z_]\w*$|^%\w+%$|^@\w+@$|^\$\d+$|^#\{")
_COMMON = frozenset(
    ["password", "passwd", "secret", "token", "none", "null", "nil", "true", "false", "undefined", "empty", "string", "test", "testing", "admin", "default", "pass", "pwd", "foo", "bar", "foobar", "value", "apikey", "api_key", "mypassword", "mysecret", "secretkey", "secret_key", "password1", "password123", "passw0rd", "letmein", "qwerty", "123456", "hunter2", "changeme", "notasecret", "not_a_secret", "fake", "dummy", "sample", "required", "optional"]
)


def is_placeholder(value: str) -> bool:
    """Documentation, template and test values no one can log in with."""
    low = value.lower()
    if low in _COMMON or any(p in low for p in _PLACEHOLDER_PARTS) or _TEMPLATE.search(value):
        return True
    return len(value) >= 8 and len(set(value)) <= 3


# ---------------------------------------------------------------------------- the generic rule

_GKEY = re.compile(
    r"(?i)passw(?:or)?d|passphrase|pass(?![a-z])|pwd(?![a-z])|secret|token|api[_.\-]?key|access[_.\-]?key"
    r"|auth[_.\-]?key|private[_.\-]?key|client[_.\-]?secret|credentials?"
)
_GKEYWORDS = ("pass", "pwd", "secret", "token", "key", "credential")
_KEYCHAR = re.compile(r"[\w.\-]")
_KEY_REST = re.compile(
    r"(?i)s?(?:[_.\-]?(?:key|value|val|string|str|text|data|plain|plaintext|raw|b64|base64|enc|secret|token|pw))?[_.\-]?\d{0,2}"
)
_KEY_NOT = re.compile(r"(?i)public|^pub[_.\-]|^(?:is|has|no|use|min|max|num|show|enable|disable|reset|forgot)[_.\-A-Z]")
_OP = re.compile(r"[\"']?[ \t]{0,4}(?::=|=>|\?=|\|\|=|=(?!=)|:(?![:/\\]))[ \t]{0,4}")
_NEXT_VALUE = re.compile(r"[\"']?[ \t]*\r?\n[ \t]*(?:-[ \t]*)?value:[ \t]*")
_XML_VALUE = re.compile(r"[\"'][ \t]{1,4}value[ \t]*=[ \t]*")
_WS = re.compile(r"[ \t]+")
_UNQUOTED = re.compile(r"[^\s\"'`<>;,(\[]{1,300}")
_IDENT = re.compile(
    r"[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z]+(?:[_\-][a-z]+)+|\d+(?:\.\d+)?"
)
_NOT_VALUE_START = ("/", "./", "../", "~/", "http://", "https://", "file:", "s3://", "arn:", "vault:", "-----",
                    "&", "*", "!", "|", ">", "%", "$")


def _generic(text: str, code: bool, low: str | None = None) -> Iterable[tuple[int, int, str]]:
    """(start, end, key) of literal values assigned to a password/secret/token-like name.
    `low`: the text lowercased with the same offsets (a case-sensitive search is ~10x faster)."""
    n = len(text)
    for m in _GKEY_LOW.finditer(low) if low is not None else _GKEY.finditer(text):
        ks, ke = m.span()
        kw = text[ks:ke]
        if len(kw) <= 4 and ks > 0 and text[ks - 1].isalpha() and not (text[ks - 1].islower() and kw[0].isupper()):
            continue  # bypass, compass
        a = ks
        while a > 0 and ks - a < 60 and _KEYCHAR.match(text[a - 1]):
            a -= 1
        rest = _KEY_REST.match(text, ke)
        b = rest.end() if rest else ke
        if b < n and _KEYCHAR.match(text[b]):
            continue  # token_url, password_hash, secretary: a name that holds no secret
        key = text[a:b].lstrip(".-")
        if not key or _KEY_NOT.search(key):
            continue
        line_start = text.rfind("\n", 0, a) + 1
        before = text[line_start:a]
        v: int | None = None
        xml = before.endswith("<")
        if xml and text.startswith(">", b):
            v = b + 1
        elif (op := _OP.match(text, b)) is not None and not (code and text.startswith("::", b)):
            v = op.end()
        elif re.fullmatch(r"[ \t]*(?:ENV|ARG)[ \t]+", before, re.IGNORECASE) and b < n and text[b] in " \t":
            v = _WS.match(text, b).end()  # type: ignore[union-attr]
        elif re.search(r"name:[ \t]*[\"']?$", before) and (nv := _NEXT_VALUE.match(text, b)) is not None:
            v = nv.end()
        elif re.search(r"key[ \t]*=[ \t]*[\"']$", before) and (xv := _XML_VALUE.match(text, b)) is not None:
            v = xv.end()
        if v is None or v >= n:
            continue
        q = text[v]
        if q in "\"'`":
            end = text.find(q, v + 1, min(n, v + 302))
            nl = text.find("\n", v + 1, end if end > 0 else v + 1)
            if end < 0 or nl >= 0:
                continue
            s, e, quoted = v + 1, end, True
        elif xml:
            end = text.find("<", v, min(n, v + 302))
            if end < 0:
                continue
            s, e, quoted = v, end, False
        else:
            um = _UNQUOTED.match(text, v)
            if um is None:
                continue
            s, e, quoted = v, um.end(), False
            if code or (e < n and text[e] in "([{"):
                continue  # an expression, not a literal
        raw = text[s:e]
        value = raw.strip()
        if _generic_value_ok(key, value, quoted):
            s += len(raw) - len(raw.lstrip())
            yield s, s + len(value), key


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _random_path_like(value: str) -> bool:
    """Base64 that happens to start with `/`: symbols a path never has, or a share of
    capitals no path has."""
    if not value.startswith("/"):
        return False
    if not re.fullmatch(r"[\w.\-/~@]+", value):
        return bool(re.fullmatch(r"[A-Za-z0-9+/=]+", value))
    return sum(c.isupper() for c in value) > len(value) // 4 and entropy(value) >= 4.0


def _generic_value_ok(key: str, value: str, quoted: bool) -> bool:
    if value.startswith("pass:"):
        value = value[5:]  # OpenSSL's passphrase argument form
    if not 6 <= len(value) <= 300:
        return False
    if value.startswith(_NOT_VALUE_START) and not _random_path_like(value):
        return False  # a path, URL, reference or YAML tag; base64 may start with / too
    if is_placeholder(value) or value.lower().startswith("fake"):
        return False
    nv = _norm(value)
    if not nv or nv in _norm(key) or _norm(key).endswith(nv):
        return False  # password=password, DB_PASSWORD=db_password
    if _IDENT.fullmatch(value) or " " in value.strip():
        return False
    h = entropy(value)
    if h < 2.5:
        return False
    if value.isalpha() and value.islower():
        return len(value) >= 10 and h >= 3.0
    return not (not quoted and value.isalpha() and h < 3.0)


# ---------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class _Hit:
    rule: Rule
    start: int
    end: int
    shown: str  # masked
    priority: int


def _accept(p: SecretPattern, secret: str, text: str, s: int, e: int) -> bool:
    if p.boundary and s > 0 and (text[s - 1].isalnum() or text[s - 1] in "_-"):
        return False
    if p.context is not None and not p.context(text, s, e):
        return False
    if p.checksum is not None and p.checksum(secret):
        return True
    compact = _compact(secret)
    if is_placeholder(compact):
        return False
    if p.entropy and entropy(compact) < p.entropy:
        return False
    return p.validate is None or p.validate(secret)


def _join_continuations(text: str) -> tuple[str, list[int], list[int]]:
    """Text with backslash-newline removed; joined offsets of each removal and the cumulative
    number of chars removed up to it (to map offsets back to the original)."""
    parts: list[str] = []
    at: list[int] = []
    removed: list[int] = []
    last = 0
    total = 0
    for m in re.finditer(r"\\\r?\n", text):
        parts.append(text[last : m.start()])
        total += m.end() - m.start()
        at.append(m.start() - (total - (m.end() - m.start())))
        removed.append(total)
        last = m.end()
    parts.append(text[last:])
    return "".join(parts), at, removed


def _trie(words: Iterable[str]) -> str:
    """One regex alternation of literal words, factored by common prefixes (re tries each
    branch at every position; a trie tries one or two)."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for w in words:
        node = root
        for c in w:
            node = node.setdefault(c, {})
        node[""] = {}

    def emit(node: dict) -> str:  # type: ignore[type-arg]
        alts = [re.escape(c) + emit(node[c]) for c in sorted(node) if c]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


# The prefilter: the keywords of every specific rule, minus those containing a shorter one (a
# keyword's "anchors" are the words of the trie it contains: a necessary condition).
_ALL_KW = sorted({k for p in PATTERNS for k in p.keywords})
_TRIE_WORDS = [k for k in _ALL_KW if not any(o != k and o in k for o in _ALL_KW)]
_KW_RE = re.compile(_trie(_TRIE_WORDS))
_ANCHORS: list[frozenset[str]] = [frozenset(w for k in p.keywords for w in _TRIE_WORDS if w in k) for p in PATTERNS]
_GKEY_LOW = re.compile(_GKEY.pattern.replace("(?i)", ""))

_ALLOW_MARKS = ("containment:allow", "gitleaks:allow", "pragma: allowlist secret")


def _find(text: str, code: bool) -> list[tuple[Rule, int, int, str]]:
    """(rule, start line, end line, masked) of every secret in the text."""
    at: list[int] = []
    removed: list[int] = []
    if "\\\n" in text or "\\\r\n" in text:
        scan, at, removed = _join_continuations(text)
    else:
        scan = text
    low = scan.lower()
    same = len(low) == len(scan)  # lowercasing kept every offset (always true for ASCII)
    present = set(_KW_RE.findall(low))
    hits: list[_Hit] = []
    for p, anchors in zip(PATTERNS, _ANCHORS, strict=True):
        if p.keywords and not (present & anchors):
            continue
        for m in p.regex.finditer(scan):
            g = "s" if m.group("s") is not None else "u"
            secret = m.group(g)
            s, e = m.span(g)
            if _accept(p, secret, scan, s, e):
                hits.append(_Hit(p.rule, s, e, mask(secret), p.priority))
            if len(hits) > MAX_FINDINGS:
                break
    if same or any(k in low for k in _GKEYWORDS):
        for s, e, key in _generic(scan, code, low if same else None):
            hits.append(_Hit(GENERIC, s, e, f"{key}={mask(scan[s:e])}", -1))
            if len(hits) > 2 * MAX_FINDINGS:
                break
    if not hits:
        return []
    hits.sort(key=lambda h: (-h.priority, h.start - h.end, h.start))
    kept: list[_Hit] = []
    for h in hits:
        if all(h.end <= k.start or h.start >= k.end for k in kept):
            kept.append(h)
        if len(kept) >= MAX_FINDINGS:
            break

    def orig(off: int) -> int:
        i = bisect_right(at, off) if at else 0
        return off + (removed[i - 1] if i else 0)

    out: list[tuple[Rule, int, int, str]] = []
    seen: set[tuple[str, int, str]] = set()
    for h in sorted(kept, key=lambda h: h.start):
        s, e = orig(h.start), orig(max(h.start, h.end - 1))
        ls = text.rfind("\n", 0, s) + 1
        le = text.find("\n", s)
        if any(mark in text[ls : le if le >= 0 else len(text)] for mark in _ALLOW_MARKS):
            continue
        first = text.count("\n", 0, s) + 1
        last = first + text.count("\n", s, e)
        k = (h.rule.id, first, h.shown)
        if k not in seen:
            seen.add(k)
            out.append((h.rule, first, last, h.shown))
    return out


def scan_text(text: str, location: Location) -> list[SecretFinding]:
    """Secrets in one string of the image config (an ENV entry, a label, a history line):
    `KEY=value` and `ENV KEY=value` count the key name as the assignment keyword."""
    text = text[:MAX_SIZE]
    out = []
    for rule, first, last, shown in _find(text, code=False):
        loc = location
        if location.start_line:
            loc = replace(location, start_line=location.start_line + first - 1, end_line=location.start_line + last - 1)
        out.append(SecretFinding(rule, shown, loc))
    return out


class SecretAnalyzer(LayerAnalyzer):
    """Credentials in every text file of a layer (or directory)."""

    name = "secrets"
    version = 1
    group = "secrets"
    immediate = True
    max_size = MAX_SIZE

    def wants(self, path: str, mode: int, size: int) -> bool:
        return 0 < size <= MAX_SIZE and _wanted_path(path)

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[SecretFinding]:
        text = _decode(data[:MAX_SIZE])
        if text is None:
            return []
        return [
            SecretFinding(rule, shown, Location(path=path, start_line=first, end_line=last))
            for rule, first, last, shown in _find(text, code=_is_code(path))
        ]


ANALYZERS = (SecretAnalyzer(),)


# ---------------------------------------------------------------------------- allowlist


def fingerprint(f: SecretFinding) -> str:
    """`path:rule-id:line` (or `field:rule-id:0` in the image config): what an allowlist's
    `fingerprints` entries name; no secret material in it."""
    return f"{f.location.path or f.location.field}:{f.rule.id}:{f.location.start_line}"


def _glob_re(glob: str) -> re.Pattern[str]:
    out = ""
    i = 0
    g = glob.lstrip("/")
    while i < len(g):
        if g.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif g.startswith("**", i):
            out += ".*"
            i += 2
        elif g[i] == "*":
            out += "[^/]*"
            i += 1
        elif g[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(g[i])
            i += 1
    if g.endswith("/"):
        out += ".*"
    return re.compile(out)


@dataclass(frozen=True)
class Allowlist:
    """Findings a user accepts: by rule id, path glob (`**` spans directories; a glob ending
    in `/` takes everything under it) or fingerprint."""

    source: str = ""
    rules: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()
    fingerprints: frozenset[str] = frozenset()

    def _why(self, f: SecretFinding) -> str:
        if f.rule.id in self.rules:
            return f"rule {f.rule.id} is allowlisted"
        p = f.location.path.lstrip("/")
        for g in self.paths:
            if p and _glob_re(g).fullmatch(p):
                return f"path matches {g}"
        if fingerprint(f) in self.fingerprints:
            return f"fingerprint {fingerprint(f)} is allowlisted"
        return ""

    def apply(self, findings: Sequence[SecretFinding]) -> list[SecretFinding]:
        out = []
        for f in findings:
            why = "" if f.suppressed is not None else self._why(f)
            out.append(replace(f, suppressed=Suppression("allowlist", why, self.source)) if why else f)
        return out


_ALLOW_KEYS = ("rules", "paths", "fingerprints")


def load_allowlist(path: str) -> Allowlist:
    """Read a YAML allowlist: `rules:` (rule ids), `paths:` (globs), `fingerprints:`
    (`path:rule-id:line`). Any problem is a ConfigError naming the file, the line and the fix."""
    fix = "(expected a YAML mapping with lists `rules:`, `paths:`, `fingerprints:`)"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MiB + 1)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the secret allowlist ({e.strerror or e}); check the path") from None
    if len(raw) > MiB:
        raise ConfigError(f"{path}: secret allowlist larger than 1 MiB; list rule ids, globs or fingerprints only")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file; the secret allowlist is YAML {fix}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = str(getattr(e, "problem", "") or "invalid YAML").replace("\n", " ")
        raise ConfigError(f"{path}:{line}: {problem}; fix the YAML syntax {fix}") from None
    except (RecursionError, ValueError) as e:
        raise ConfigError(f"{path}: unreadable YAML ({type(e).__name__}); fix the file {fix}") from None
    if root is None:
        return Allowlist(source=path)
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{path}: line {root.start_mark.line + 1}: top level is not a mapping {fix}")
    got: dict[str, list[str]] = {}
    for k, v in root.value:
        line = k.start_mark.line + 1
        if not isinstance(k, yaml.ScalarNode) or k.value not in _ALLOW_KEYS:
            name = k.value if isinstance(k, yaml.ScalarNode) else "?"
            hint = " (values cannot be allowlisted: findings keep only the masked secret; use fingerprints)" if name == "values" else ""
            raise ConfigError(f"{path}: line {line}: unknown key {name!r}{hint} {fix}")
        if not isinstance(v, yaml.SequenceNode) or any(not isinstance(i, yaml.ScalarNode) for i in v.value):
            raise ConfigError(f"{path}: line {v.start_mark.line + 1}: `{k.value}` must be a list of strings {fix}")
        items = [str(i.value) for i in v.value]
        if k.value == "rules":
            for i, node in zip(items, v.value, strict=True):
                if i not in BY_ID:
                    raise ConfigError(
                        f"{path}: line {node.start_mark.line + 1}: unknown secret rule id {i!r}; "
                        "use an id from `containment checks list` (CTM-SEC-nnn)"
                    )
        got[k.value] = items
    return Allowlist(
        source=path,
        rules=frozenset(got.get("rules", ())),
        paths=tuple(got.get("paths", ())),
        fingerprints=frozenset(got.get("fingerprints", ())),
    )


__all__ = [
    "ANALYZERS",
    "MAX_SIZE",
    "RULES",
    "Allowlist",
    "SecretAnalyzer",
    "entropy",
    "fingerprint",
    "is_placeholder",
    "load_allowlist",
    "mask",
    "scan_text",
]
