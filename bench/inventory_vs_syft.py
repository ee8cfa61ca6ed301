#!/usr/bin/env python3
"""Inventory accuracy against syft on every corpus image.

For each image: syft's packages and ours, compared as (purl type, namespace/name, version)
without qualifiers, per type: missing (syft has, we do not) and extra (we have, syft does not),
then recall and precision of ours against syft's. Known, explained differences are listed with
the reason (see EXPLAINED); everything else is printed for a human to look at.

    python bench/inventory_vs_syft.py [--image NAME] [--show N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import defaultdict

from packageurl import PackageURL

sys.path.insert(0, os.path.dirname(__file__))
from _common import containment_cmd, corpus_images, measure_rss, syft_cmd, syft_env  # noqa: E402

# Differences we have looked at, with why we are right (or why it is not an error).
EXPLAINED: list[tuple[str, str, str]] = [
    # (side, regex on "type:name@version", reason)
    (
        "missing",
        r"^golang:github.com/evanw/esbuild@v0\.0\.0-",
        "syft invents a pseudo-version from vcs.revision/vcs.time; Go records (devel), and a v0.0.0-... version "
        "sorts before every release, so matching on it would report every advisory ever published for the module",
    ),
    (
        "extra",
        r"^golang:.*@\(devel\)$",
        "same module, version as Go recorded it ((devel)); see the matching 'missing' line",
    ),
    (
        "missing",
        r"^golang:stdlib@\d+\.\d+$",
        "syft strips 'go' from the toolchain tag (go1.19 -> 1.19); Go's rule (x/vuln, govulncheck, the Go "
        "vulnerability database) makes go1.19 release 1.19.0, which is what we write",
    ),
    ("extra", r"^golang:stdlib@\d+\.\d+\.0$", "same toolchain, version as Go spells it; see above"),
    (
        "missing",
        r"^golang:github.com/opencontainers/runc@v1\.1\.5\+ds1$",
        "the binary records (devel) and no -ldflags; syft takes the first NUL-delimited semver-looking string in "
        "the file, a guess that can pick up any embedded version; we report what the build info says",
    ),
    (
        "missing",
        r"^maven:org\.apache\.log4j/log4j@1\.2-1\.2\.17$",
        "syft parses the Debian file name log4j-1.2-1.2.17.jar; the jar's Bundle-Version says 1.2.17, the real "
        "release (neither tool can know Maven's group 'log4j' from a jar with no pom.properties)",
    ),
    ("extra", r"^maven:org\.apache/log4j@1\.2\.17$", "same jar, version from Bundle-Version; see above"),
]


def key(purl: str) -> tuple[str, str, str] | None:
    try:
        u = PackageURL.from_string(purl)
    except ValueError:
        return None
    name = f"{u.namespace}/{u.name}" if u.namespace and u.type not in ("deb", "apk", "rpm") else u.name
    if u.type == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()
    return u.type, name, u.version or ""


def syft_packages(oci_dir: str) -> set[tuple[str, str, str]]:
    _, _, out = measure_rss([*syft_cmd(), "-q", f"oci-dir:{oci_dir}", "-o", "json"], env=syft_env())
    doc = json.loads(out)
    return {k for a in doc.get("artifacts", []) if a.get("purl") and (k := key(a["purl"]))}


def our_packages(ref: str) -> set[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "CONTAINMENT_CACHE_DIR": cache}
        _, _, out = measure_rss([*containment_cmd(), "sbom", ref, "-f", "json", "-q"], env=env)
    doc = json.loads(out)
    return {k for p in doc["packages"] if (k := key(p["purl"]))}


def explain(side: str, k: tuple[str, str, str]) -> str | None:
    text = f"{k[0]}:{k[1]}@{k[2]}"
    for s, rx, why in EXPLAINED:
        if s == side and re.search(rx, text):
            return why
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", action="append", help="only these corpus images")
    ap.add_argument("--show", type=int, default=40, help="differences to list per image and side")
    args = ap.parse_args()
    tot_common = tot_syft = tot_ours = 0
    unexplained = 0
    for im in corpus_images():
        if args.image and im["name"] not in args.image:
            continue
        cache = os.environ.get("CORPUS_CACHE", os.path.expanduser("~/.cache/containment-corpus"))
        oci_dir = os.path.join(cache, im["name"], "oci")
        theirs = syft_packages(oci_dir)
        ours = our_packages(im["refs"]["oci"])
        common = theirs & ours
        tot_common += len(common)
        tot_syft += len(theirs)
        tot_ours += len(ours)
        print(f"\n== {im['name']}: syft {len(theirs)}, containment {len(ours)}, common {len(common)}")
        types = sorted({k[0] for k in theirs | ours})
        print(f"   {'type':10} {'syft':>5} {'ours':>5} {'missing':>8} {'extra':>6}")
        for t in types:
            th = {k for k in theirs if k[0] == t}
            ou = {k for k in ours if k[0] == t}
            print(f"   {t:10} {len(th):5} {len(ou):5} {len(th - ou):8} {len(ou - th):6}")
        for side, diff in (("missing", sorted(theirs - ours)), ("extra", sorted(ours - theirs))):
            if not diff:
                continue
            by_reason: dict[str, list[str]] = defaultdict(list)
            for k in diff:
                why = explain(side, k)
                if why is None:
                    unexplained += 1
                by_reason[why or "UNEXPLAINED"].append(f"{k[0]}:{k[1]}@{k[2]}")
            for why, items in by_reason.items():
                print(f"   {side} ({len(items)}) {why}:")
                for it in items[: args.show]:
                    print(f"      {it}")
    recall = tot_common / tot_syft if tot_syft else 1.0
    precision = tot_common / tot_ours if tot_ours else 1.0
    print(f"\noverall: syft {tot_syft}, containment {tot_ours}, common {tot_common}")
    print(
        f"recall {recall:.4f}  precision {precision:.4f}  (against syft; unexplained differences: {unexplained})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
