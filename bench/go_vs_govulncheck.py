#!/usr/bin/env python3
"""Go binary vulnerabilities against govulncheck (binary mode) on the corpus images.

For every Go binary in an image (found by streaming the layers through containment's own walk,
last writer wins, whiteouts applied; nothing else is extracted), govulncheck -mode=binary is run
against a local Go vulnerability DB built from corpus/advisories/osv-go, and its findings are
compared with ours (`containment scan image --format json`) as sets of (GO id, module path):

    govulncheck: every `finding` message at any trace level (module, package or symbol; the
                 binaries are stripped, so deeper levels only repeat the module-level ones)
    ours:        findings whose package.path is the binary, GO ids from advisory_ids + id + aliases

Printed per binary: counts, common, only-govulncheck, only-ours (with the reason when known, see
EXPLAINED), then agreement both ways: common/|govulncheck| and common/|ours| (goal >= 0.98). When our
side is not available yet (no `db import` / `scan image` commands) govulncheck's side is printed
alone, with what it dropped and why (platform, withdrawn, version), and the script exits 0.

govulncheck: bookworm's 2023 build cannot read stripped or PIE binaries, so trixie's 1.0.4 is taken
(../shared/tools/trixie-deb.sh, private apt state, unpacked once under
~/.cache/containment-bench/tools; $GOVULNCHECK overrides). Run with the project's venv:

    .venv/bin/python bench/go_vs_govulncheck.py [--image NAME] [--show N] [--runs N]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import ROOT, containment_cmd, corpus_images, measure_rss, median  # noqa: E402

try:
    from containment.image.target import open_target
    from containment.image.walk import Entry, walk_tar
    from containment.versions.golang import compare as go_compare
    from containment.versions.golang import go_tag_to_semver
except ImportError:  # run with the system python from a checkout
    sys.path.insert(0, str(ROOT / "src"))
    from containment.image.target import open_target
    from containment.image.walk import Entry, walk_tar
    from containment.versions.golang import compare as go_compare
    from containment.versions.golang import go_tag_to_semver

CORPUS = Path(os.environ.get("CONTAINMENT_CORPUS", ROOT.parent / "shared" / "corpus"))
OSV_GO = CORPUS / "advisories" / "osv-go"
TRIXIE_DEB = ROOT.parent / "shared" / "tools" / "trixie-deb.sh"
TOOLS = Path(
    os.environ.get("CONTAINMENT_BENCH_TOOLS", Path.home() / ".cache" / "containment-bench" / "tools")
)
GO_MAGIC = b"\xff Go buildinf:"

# Differences we have looked at, with the reason. The regex is matched against a description of
# the (GO id, module) pair in that binary, made from the record and the binary's build info:
#   "GO-2023-2185 stdlib@go1.19.8 role=stdlib platform=excluded(goos=windows) withdrawn replaced"
# role is main (the binary's main module), stdlib, dep (a dependency) or absent (not in the binary).
EXPLAINED: list[tuple[str, str, str]] = [
    # (side, regex on the description, reason)
    (
        "only-ours",
        r" platform=excluded",
        "OURS SHOULD FILTER: every import path the record lists for this module is limited to GOOS/GOARCH "
        "values other than the binary's build settings (e.g. Windows-only path/filepath, ppc64le-only "
        "crypto/internal/nistec); govulncheck drops such an affected block (affectingVulnerabilities -> "
        "matchesPlatform), and the code is not in a linux/amd64 binary",
    ),
    (
        "only-ours",
        r" withdrawn",
        "OURS SHOULD FILTER: the record is withdrawn (withdrawn date in the past); govulncheck skips it",
    ),
    (
        "only-ours",
        r"@(\(devel\)|) role=main\b",
        "OURS SHOULD NOT MATCH: (devel), or no version at all (GOPATH-mode builds), says nothing; and govulncheck's binary mode never queries the main "
        "module at all (it asks the DB only for the build info's deps and stdlib)",
    ),
    (
        "only-ours",
        r" role=main\b",
        "govulncheck's binary mode never checks the main module (only deps and stdlib); our main-module "
        "version comes from -ldflags -X (a heuristic), so this finding is ours alone by design",
    ),
    (
        "only-govulncheck",
        r" replaced\b",
        "a replaced dependency: govulncheck asks the DB for the replacement's path and version; we report "
        "the module as the binary names it",
    ),
]


# ----------------------------------------------------------------------------- govulncheck


def govulncheck_path() -> str:
    """govulncheck 1.0.4 from Debian trixie, unpacked once under TOOLS (or $GOVULNCHECK)."""
    exe = os.environ.get("GOVULNCHECK") or str(TOOLS / "usr" / "bin" / "govulncheck")
    if not os.access(exe, os.X_OK):
        if not TRIXIE_DEB.exists():
            sys.exit(f"govulncheck not found at {exe} and no {TRIXIE_DEB} to fetch it; set GOVULNCHECK")
        print(f"fetching Debian trixie's govulncheck into {TOOLS} ...", file=sys.stderr)
        subprocess.run(["bash", str(TRIXIE_DEB), str(TOOLS), "govulncheck"], check=True, stdout=sys.stderr)
    return exe


def govulncheck_version(exe: str, db_url: str, cwd: str) -> str:
    # -version also runs a (source-mode) scan of the working directory: run it in an empty one.
    p = subprocess.run([exe, "-db", db_url, "-version"], capture_output=True, text=True, cwd=cwd, timeout=120)
    if p.returncode:
        sys.exit(f"{exe} -version failed ({p.returncode}): {p.stderr.strip()[-300:]}")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith(("Scanner:", "DB updated:"))]
    if not any(ln.startswith("DB updated:") for ln in lines):
        sys.exit(f"{exe} did not read {db_url}/index/db.json: {_tail(p.stdout + p.stderr)}")
    debs = sorted((TOOLS / ".apt" / "debs").glob("govulncheck_*.deb"))
    return "; ".join(lines) + (f"; package {debs[-1].name}" if debs else "")


def build_vulndb(src: Path, dest: Path) -> dict[str, dict]:
    """The Go vulndb v1 layout govulncheck 1.0.4 reads from file:// (internal/client):

        index/db.json       {"modified": RFC3339}                  -> LastModifiedTime, "DB updated"
        index/modules.json  [{path, vulns: [{id, modified, fixed?}]}] -> which IDs to fetch per module
        index/vulns.json    [{id, modified, aliases}]               -> (alias lookups; not used by scans)
        ID/<id>.json        the OSV record

    The client checks for index/modules.json to pick this layout. Records are linked, not rewritten.

    Dates: the corpus records carry the placeholder 0001-01-01T00:00:00Z. That is Go's zero
    time.Time, valid RFC 3339, and govulncheck 1.0.4 accepts it ("DB updated: 0001-01-01"): the
    index dates only feed the DB-modified line and HTTP caching, never matching. So they are copied
    as they are; a record without a parseable date gets the snapshot's month instead.

    `fixed` is left out on purpose: the client uses it only to skip records whose latest fix is
    at or below the requested version, and 1.0.4's binary mode requests modules without a version
    anyway. Leaving it out means "always fetch the record and let the full ranges decide", which
    is right whatever the ranges look like (computing it would need our own version code).
    """
    fallback = "2026-08-01T00:00:00Z"
    (dest / "index").mkdir(parents=True)
    (dest / "ID").mkdir()
    records: dict[str, dict] = {}
    modules: dict[str, list[dict]] = defaultdict(list)
    vulns = []
    newest = datetime.min.replace(tzinfo=UTC)
    for f in sorted(src.glob("*.json")):
        rec = json.loads(f.read_text())
        rid = rec.get("id")
        if not isinstance(rid, str) or not rid:
            continue
        records[rid] = rec
        modified = rec.get("modified") or fallback
        try:
            when = datetime.fromisoformat(modified.replace("Z", "+00:00"))
        except ValueError:
            modified, when = fallback, datetime.fromisoformat(fallback.replace("Z", "+00:00"))
        newest = max(newest, when)
        target = dest / "ID" / f"{rid}.json"
        try:
            target.symlink_to(f.resolve())
        except OSError:
            shutil.copyfile(f, target)
        vulns.append({"id": rid, "modified": modified, "aliases": rec.get("aliases") or []})
        seen = set()
        for a in rec.get("affected") or []:
            path = (a.get("package") or {}).get("name")
            if path and path not in seen:
                seen.add(path)
                modules[path].append({"id": rid, "modified": modified})
    index = [{"path": p, "vulns": sorted(v, key=lambda x: x["id"])} for p, v in sorted(modules.items())]
    (dest / "index" / "modules.json").write_text(json.dumps(index))
    (dest / "index" / "vulns.json").write_text(json.dumps(sorted(vulns, key=lambda x: x["id"])))
    # Not strftime("%Y"): glibc writes year 1 as "1", which Go rejects, and govulncheck then drops
    # the DB date silently.
    stamp = f"{newest.year:04d}-{newest:%m-%dT%H:%M:%SZ}"
    (dest / "index" / "db.json").write_text(json.dumps({"modified": stamp}))
    return records


def parse_stream(out: bytes) -> list[dict]:
    """govulncheck -json writes a stream of indented JSON objects, not one document."""
    dec = json.JSONDecoder()
    s = out.decode()
    i, msgs = 0, []
    while True:
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            return msgs
        obj, i = dec.raw_decode(s, i)
        msgs.append(obj)


def run_govulncheck(exe: str, db_url: str, binary: str, runs: int) -> tuple[list[dict], float, int, str]:
    """Messages of one binary's scan, median wall time, peak RSS (KiB), and the scan level used.

    The RSS is not printed: ru_maxrss survives exec, so a forked child reports the parent's own
    size (this process holds the binaries and records: ~100 MiB) instead of govulncheck's ~14 MiB.
    """
    attempts = [["-scan", "module"], []]  # -scan appeared in 1.0.0; fall back for older builds
    last: Exception | None = None
    for extra in attempts:
        cmd = [exe, "-mode=binary", *extra, "-db", db_url, "-json", binary]
        try:
            walls, rss, out = [], 0, b""
            for _ in range(max(1, runs)):
                wall, r, out = measure_rss(cmd)
                walls.append(wall)
                rss = max(rss, r)
            return parse_stream(out), median(walls), rss, "module" if extra else "symbol"
        except RuntimeError as e:
            last = e
    raise RuntimeError(f"govulncheck failed on {binary}: {last}")


# ----------------------------------------------------------------------------- Go binaries


class _GoBinaries:
    """Visitor for one layer: keeps executables that carry Go build info; notes deletions."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.touched: set[str] = set()  # every path this layer writes (replaces lower versions)
        self.whiteouts: set[str] = set()
        self.opaque: set[str] = set()
        self.links: dict[str, str] = {}  # hardlink -> target

    def entry(self, e: Entry) -> None:
        if e.kind == "whiteout":
            self.whiteouts.add(e.path)
        elif e.kind == "opaque":
            self.opaque.add(e.path)
        else:
            self.touched.add(e.path)
            if e.kind == "hardlink":
                self.links[e.path] = e.link

    def wants(self, path: str, mode: int, size: int) -> bool:
        return bool(mode & 0o111) and (size == 0 or size > 4096)

    def file(self, path: str, data: bytes) -> None:
        if data[:4] == b"\x7fELF" and GO_MAGIC in data:
            self.files[path] = data


def _under(path: str, roots: set[str], strict: bool = False) -> bool:
    """path is one of roots (unless strict) or inside one; "" is the root directory."""
    return any(r == "" or (not strict and path == r) or path.startswith(r + "/") for r in roots)


def go_binaries(ref: str) -> dict[str, bytes]:
    """path -> bytes of every Go ELF binary the image's final filesystem holds."""
    target = open_target(ref)
    if isinstance(target, str):
        sys.exit(f"{ref}: give an image reference, not a directory")
    acc: dict[str, bytes] = {}
    with target:
        for layer in target.layers:
            v = _GoBinaries()
            with target.open_layer(layer) as blob:
                walk_tar(blob, v, f"{ref} layer {layer.index}")
            for link, tgt in v.links.items():
                data = v.files.get(tgt, acc.get(tgt))
                if data is not None:
                    v.files[link] = data
            for p in list(acc):
                if p in v.touched or _under(p, v.whiteouts) or _under(p, v.opaque, strict=True):
                    del acc[p]
            acc.update(v.files)
    return acc


def buildinfo(data: bytes) -> dict:
    """Go version, main module, deps and settings from the inline build info (Go >= 1.18)."""
    info: dict = {"go": "", "main": ("", ""), "deps": {}, "replaced": set(), "settings": {}}
    at = data.find(GO_MAGIC)
    if at < 0 or not data[at + 15] & 2:  # flag 2: strings inline (pre-1.18 binaries use pointers)
        return info

    def varstr(i: int) -> tuple[str, int]:
        n = shift = 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return data[i : i + n].decode("utf-8", "replace"), i + n

    info["go"], i = varstr(at + 32)
    mod, _ = varstr(i)
    if len(mod) >= 33:
        mod = mod[16:-16]
    last = ""
    for line in mod.splitlines():
        f = line.split("\t")
        if f[0] == "path" and len(f) >= 2 and not info["main"][0]:
            info["main"] = (f[1], "")  # GOPATH-mode builds (Debian's) have no mod line: no version
        elif f[0] == "mod" and len(f) >= 3:
            info["main"] = (f[1], f[2])
        elif f[0] == "dep" and len(f) >= 3:
            info["deps"][f[1]] = f[2]
            last = f[1]
        elif f[0] == "=>" and last:
            info["replaced"].add(last)
        elif f[0] == "build" and len(f) >= 2 and "=" in f[1]:
            k, _, val = f[1].partition("=")
            info["settings"][k] = val
    return info


# ----------------------------------------------------------------------------- describing pairs


def _in_ranges(ranges: list[dict], version: str) -> bool:
    """OSV SEMVER semantics (as govulncheck's internal/semver.Affects), with our Go version order."""
    sem = [r for r in ranges if r.get("type") == "SEMVER"]
    if not sem:
        return True

    def key(e: dict) -> str:
        return e.get("introduced") or e.get("fixed") or e.get("last_affected") or "0"

    def cmp(a: dict, b: dict) -> int:
        if a.get("introduced") == "0":
            return -1
        if b.get("introduced") == "0":
            return 1
        return go_compare(key(a), key(b))

    for r in sem:
        affected = False
        for e in sorted(r.get("events") or [], key=functools.cmp_to_key(cmp)):
            if not affected and "introduced" in e:
                affected = e["introduced"] == "0" or go_compare(version, e["introduced"]) >= 0
            elif affected and "fixed" in e:
                affected = go_compare(version, e["fixed"]) < 0
        if affected:
            return True
    return False


def describe(rid: str, module: str, bi: dict, records: dict[str, dict]) -> str:
    goos, goarch = bi["settings"].get("GOOS", ""), bi["settings"].get("GOARCH", "")
    if module == "stdlib":
        role, version = "stdlib", bi["go"]
    elif module == bi["main"][0]:
        role, version = "main", bi["main"][1]
    elif module in bi["deps"]:
        role, version = "dep", bi["deps"][module]
    else:
        role, version = "absent", "?"
    text = f"{rid} {module}@{version} role={role}"
    rec = records.get(rid)
    if rec is None:
        return text + " unknown-record"
    blocks = [a for a in rec.get("affected") or [] if (a.get("package") or {}).get("name") == module]
    imports = [i for a in blocks for i in (a.get("ecosystem_specific") or {}).get("imports") or []]

    def ok(i: dict) -> bool:
        return (not goos or not i.get("goos") or goos in i["goos"]) and (
            not goarch or not i.get("goarch") or goarch in i["goarch"]
        )

    if (
        blocks
        and all((a.get("ecosystem_specific") or {}).get("imports") for a in blocks)
        and not any(ok(i) for i in imports)
    ):
        oses = sorted({o for i in imports for o in i.get("goos") or []})
        arches = sorted({o for i in imports for o in i.get("goarch") or []})
        text += (
            " platform=excluded("
            + ",".join(
                [f"goos={'|'.join(oses)}"] * bool(oses) + [f"goarch={'|'.join(arches)}"] * bool(arches)
            )
            + ")"
        )
    if rec.get("withdrawn"):
        text += " withdrawn"
    if module in bi["replaced"]:
        text += " replaced"
    semver = go_tag_to_semver(version) if role == "stdlib" else version
    if semver and role != "absent" and version != "(devel)":
        try:
            if not any(_in_ranges(a.get("ranges") or [], semver) for a in blocks):
                text += " out-of-range"
        except Exception:  # noqa: BLE001 - a description only; never fail the bench on it
            text += " unparsed-version"
    return text


def explain(side: str, text: str) -> str | None:
    for s, rx, why in EXPLAINED:
        if s == side and re.search(rx, text):
            return why
    return None


# ----------------------------------------------------------------------------- our side


def our_findings(ref: str, workdir: str) -> tuple[dict[str, set[tuple[str, str]]] | None, str]:
    """path -> {(GO id, module)} from `containment scan image`, or None and why not."""
    env = {**os.environ, "CONTAINMENT_CACHE_DIR": os.path.join(workdir, "cache")}
    db = os.path.join(workdir, "advisories.db")
    imp = subprocess.run(
        [*containment_cmd(), "db", "import", str(OSV_GO), "--db", db], capture_output=True, text=True, env=env
    )
    if imp.returncode:
        return None, f"`containment db import` failed ({imp.returncode}): {_tail(imp.stderr or imp.stdout)}"
    scan = subprocess.run(
        [*containment_cmd(), "scan", "image", ref, "--format", "json", "--db", db],
        capture_output=True,
        env=env,
    )
    if scan.returncode not in (0, 1):  # 1: findings above the threshold
        return None, f"`containment scan image` failed ({scan.returncode}): {_tail(scan.stderr.decode())}"
    try:
        doc = json.loads(scan.stdout)
    except ValueError as e:
        return None, f"`containment scan image` printed no JSON report ({e})"
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in doc.get("findings") or []:
        pkg = f.get("package") or {}
        if pkg.get("type") != "golang" or not pkg.get("path"):
            continue
        ids = {f.get("id") or "", *(f.get("advisory_ids") or []), *(f.get("aliases") or [])}
        for i in ids:
            if i.startswith("GO-"):
                out[pkg["path"].lstrip("/")].add((i, pkg.get("name", "")))
    return out, ""


def _tail(s: str) -> str:
    m = re.search(r"No such (command|option)[^│\n]*", s)
    if m:
        return m[0].strip()
    s = " ".join(s.strip().split())
    return s[-300:] if s else "(no output)"


# ----------------------------------------------------------------------------- main


def compare(
    theirs: set[tuple[str, str]], mine: set[tuple[str, str]], bi: dict, records: dict[str, dict], show: int
) -> int:
    """Print one binary's comparison; returns the number of unexplained differences."""
    common = theirs & mine
    print(
        f"   govulncheck {len(theirs)}, ours {len(mine)}, common {len(common)}, "
        f"only-govulncheck {len(theirs - mine)}, only-ours {len(mine - theirs)}"
    )
    unexplained = 0
    for side, diff in (("only-govulncheck", theirs - mine), ("only-ours", mine - theirs)):
        by_reason: dict[str, list[str]] = defaultdict(list)
        for rid, mod in sorted(diff):
            text = describe(rid, mod, bi, records)
            reason = explain(side, text)
            if reason is None:
                unexplained += 1
            by_reason[reason or "UNEXPLAINED"].append(text)
        for reason, items in by_reason.items():
            print(f"   {side} ({len(items)}) {reason}:")
            for it in items[:show]:
                print(f"      {it}")
    return unexplained


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", action="append", help="only these corpus images")
    ap.add_argument("--show", type=int, default=200, help="differences to list per binary and side")
    ap.add_argument("--runs", type=int, default=3, help="govulncheck runs per binary (median time)")
    args = ap.parse_args()
    if not OSV_GO.is_dir():
        sys.exit(f"no Go advisories at {OSV_GO}: set CONTAINMENT_CORPUS to the shared corpus")
    exe = govulncheck_path()
    tot = {"theirs": 0, "ours": 0, "common": 0}
    unexplained = 0
    ours_missing = ""
    with tempfile.TemporaryDirectory(prefix="go-vs-govulncheck-") as tmp:
        dbdir = Path(tmp) / "vulndb"
        records = build_vulndb(OSV_GO, dbdir)
        db_url = dbdir.as_uri()
        empty = Path(tmp) / "empty"
        empty.mkdir()
        print(f"govulncheck {exe}: {govulncheck_version(exe, db_url, str(empty))}")
        print(f"local vulndb {db_url}: {len(records)} records from {OSV_GO}")
        for im in corpus_images():
            if args.image and im["name"] not in args.image:
                continue
            ref = im["refs"]["oci"]
            bins = go_binaries(ref)
            print(f"\n== {im['name']}: {len(bins)} Go binaries")
            if not bins:
                continue
            ours, why = our_findings(ref, os.path.join(tmp, f"ours-{im['name']}"))
            if ours is None:
                ours_missing = why
                print(f"   ours: unavailable: {why}")
            for path, data in sorted(bins.items()):
                binfile = Path(tmp) / "bin" / im["name"] / path
                binfile.parent.mkdir(parents=True, exist_ok=True)
                binfile.write_bytes(data)
                binfile.chmod(0o755)
                bi = buildinfo(data)
                msgs, wall, _rss, level = run_govulncheck(exe, db_url, str(binfile), args.runs)
                theirs = {
                    (m["finding"]["osv"], (m["finding"].get("trace") or [{}])[0].get("module", ""))
                    for m in msgs
                    if "finding" in m
                }
                fetched = {m["osv"]["id"] for m in msgs if "osv" in m}
                deps = f", {len(bi['deps'])} deps" if bi["deps"] else ", no deps"
                plat = f"{bi['settings'].get('GOOS', '?')}/{bi['settings'].get('GOARCH', '?')}"
                print(
                    f"\n-- /{path}: {bi['go']} {plat}, main {bi['main'][0]}@{bi['main'][1]}{deps}; "
                    f"govulncheck {wall * 1000:.0f} ms (median of {args.runs}), scan level {level}"
                )
                by_mod: dict[str, list[str]] = defaultdict(list)
                for rid, mod in sorted(theirs):
                    by_mod[mod].append(rid)
                for mod, ids in sorted(by_mod.items()):
                    print(f"   govulncheck {mod}: {len(ids)}: {' '.join(ids)}")
                # What govulncheck fetched for the binary's modules but did not report, and why.
                dropped: dict[str, list[str]] = defaultdict(list)
                reported = {rid for rid, _ in theirs}
                for rid in sorted(fetched - reported):
                    mods = {
                        (a.get("package") or {}).get("name", "")
                        for a in records.get(rid, {}).get("affected") or []
                    }
                    mod = (
                        "stdlib"
                        if "stdlib" in mods
                        else next(iter(sorted(m for m in mods if m in bi["deps"])), "")
                    )
                    d = describe(rid, mod, bi, records)
                    tag = next(
                        (t for t in ("out-of-range", "withdrawn", "platform=excluded") if t in d), "OTHER"
                    )
                    dropped[tag].append(rid)
                print(
                    f"   govulncheck fetched {len(fetched)} records, reported {len(reported)}; dropped: "
                    + ", ".join(f"{k} {len(v)}" for k, v in sorted(dropped.items()))
                )
                for tag in ("platform=excluded", "withdrawn", "OTHER"):
                    if dropped.get(tag):
                        print(f"      {tag}: {' '.join(dropped[tag])}")
                odd = [
                    d
                    for rid, mod in sorted(theirs)
                    if " out-of-range" in (d := describe(rid, mod, bi, records))
                ]
                print(
                    f"   cross-check: {len(theirs) - len(odd)} of {len(theirs)} reported pairs are in range by "
                    "containment's Go version order" + (f"; NOT: {' | '.join(odd)}" if odd else "")
                )
                tot["theirs"] += len(theirs)
                if ours is None:
                    continue
                mine = ours.get(path, set())
                tot["ours"] += len(mine)
                tot["common"] += len(theirs & mine)
                unexplained += compare(theirs, mine, bi, records, args.show)
    if ours_missing:
        print(
            f"\noverall: govulncheck {tot['theirs']} (GO id, module) pairs; ours unavailable ({ours_missing})"
        )
        return 0
    agree_theirs = tot["common"] / tot["theirs"] if tot["theirs"] else 1.0
    agree_ours = tot["common"] / tot["ours"] if tot["ours"] else 1.0
    print(f"\noverall: govulncheck {tot['theirs']}, containment {tot['ours']}, common {tot['common']}")
    print(
        f"agreement: of govulncheck's {agree_theirs:.4f}, of ours {agree_ours:.4f} (goal >= 0.98 both ways; "
        f"unexplained differences: {unexplained})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
