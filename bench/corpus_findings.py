#!/usr/bin/env python3
"""Import every corpus advisory feed, scan every corpus image, print findings per ecosystem.

Then the Debian check: the images built from bookworm's point release must show exactly the
CVEs of corpus/advisories/osv-debian-changelog that apply to their source packages. The
expected set is computed here independently of containment's matcher: source packages from
the image's dpkg status, versions compared with `dpkg --compare-versions` (dpkg itself).

    python bench/corpus_findings.py [--db FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import containment_cmd, corpus_images  # noqa: E402

CORPUS = Path(os.environ.get("CONTAINMENT_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*containment_cmd(), *args], capture_output=True, text=True, env=env)
    if r.returncode not in (0, 1):
        sys.exit(f"containment {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


def expected_debian(inventory: dict) -> set[tuple[str, str]]:
    """(CVE, source package) pairs that must be reported, by dpkg's own comparison."""
    sources: dict[str, str] = {}
    for p in inventory["packages"]:
        if p["type"] == "deb":
            sources[p.get("source_name") or p["name"]] = p.get("source_version") or p["version"]
    want = set()
    for f in sorted((CORPUS / "advisories" / "osv-debian-changelog").glob("*.json")):
        rec = json.loads(f.read_text())
        if rec.get("withdrawn"):
            continue
        cves = [a for a in rec.get("aliases", []) if a.startswith("CVE-")] or [rec["id"]]
        for aff in rec.get("affected", []):
            if aff["package"]["ecosystem"] != "Debian:12":
                continue
            src = aff["package"]["name"]
            if src not in sources:
                continue
            for rng in aff.get("ranges", []):
                fixed = [e["fixed"] for e in rng["events"] if "fixed" in e]
                if fixed and dpkg_lt(sources[src], fixed[0]):
                    want.update((c, src) for c in cves)
    return want


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="use this database (default: a fresh one in a temp dir)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="containment-corpus-")
    db = args.db or os.path.join(tmp, "advisories.db")
    if not args.db:
        t0 = time.perf_counter()
        r = run("db", "import", str(CORPUS / "advisories"), "--db", db)
        print(f"db import of {CORPUS / 'advisories'}: {time.perf_counter() - t0:.2f}s")
        print("   " + r.stdout.strip().replace("\n", "\n   "))
    env = {**os.environ, "CONTAINMENT_CACHE_DIR": os.path.join(tmp, "cache")}
    ok = True
    for im in corpus_images():
        ref = im["refs"]["oci"]
        r = run("scan", "image", ref, "--db", db, "-f", "json", "-q", env=env)
        doc = json.loads(r.stdout)
        findings = doc["findings"]
        per = Counter(f["ecosystem"] for f in findings)
        sev = Counter(f["severity"] for f in findings)
        print(
            f"\n== {im['name']}: {len(findings)} findings  by ecosystem {dict(per)}  by severity {dict(sev)}"
        )
        for f in findings[:12]:
            fix = ",".join(f["fixed_versions"]) or "-"
            print(
                f"   {f['id']:22} {f['severity']:9} {f['package']['name']} {f['installed_version']} -> {fix}"
            )
        if len(findings) > 12:
            print(f"   ... {len(findings) - 12} more")
        if im["name"].startswith("debian"):
            inv = json.loads(run("inventory", ref, "-f", "json", "-q", env=env).stdout)
            want = expected_debian(inv)
            got = set()
            for f in findings:
                if f["ecosystem"] != "Debian:12":
                    continue
                ids = [f["id"], *f["aliases"]]
                for c in ids:
                    if c.startswith("CVE-"):
                        got.add((c, f["package"].get("source_name") or f["package"]["name"]))
            missing, extra = sorted(want - got), sorted(got - want)
            print(
                f"   Debian check: expected {len(want)} (CVE, source) pairs by dpkg --compare-versions; "
                f"reported {len(got)}; missing {missing or 'none'}; extra {extra or 'none'}"
            )
            ok &= not missing and not extra
    print("\nDebian exactness:", "OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
