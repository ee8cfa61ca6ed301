#!/usr/bin/env python3
"""The risk score of every corpus image, with its breakdown, without and with CISA's KEV catalog.

Advisories: the corpus feeds (``containment db import ../shared/corpus/advisories``) into a temp
database. KEV: CISA's real catalog read at run time from a snapshot of github.com/cisagov/kev-data
(``--kev-git``: its git directory, as the `fetch` tool returns it; or ``--kev FILE``); without
one, only the first table is printed. Every image is scored in-process through
``containment.service.score.score_target`` (the function `containment score` calls).

    python bench/corpus_scores.py [--kev-git /work/.mirror/cisagov+kev-data/repo] [--top 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import containment_cmd, corpus_images  # noqa: E402

CORPUS = Path(os.environ.get("CONTAINMENT_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
KEV_GIT = Path("/work/.mirror/cisagov+kev-data/repo")


def kev_file(args: argparse.Namespace, tmp: Path) -> Path | None:
    if args.kev:
        return Path(args.kev)
    git = Path(args.kev_git) if args.kev_git else KEV_GIT
    if not git.exists():
        return None
    r = subprocess.run(
        ["git", "--git-dir", str(git), "show", "HEAD:known_exploited_vulnerabilities.json"],
        capture_output=True,
    )
    if r.returncode != 0:
        print(f"no KEV catalog in {git}: {r.stderr.decode().strip()}", file=sys.stderr)
        return None
    p = tmp / "known_exploited_vulnerabilities.json"
    p.write_bytes(r.stdout)
    return p


def table(db: str, top: int) -> list[tuple[str, object, object]]:
    from containment.service import ScanOptions
    from containment.service.score import score_target

    rows = []
    hdr = (
        f"{'image':16} {'score':>5} {'grade':>5} {'vulns':>5} {'secr':>5} {'misc':>5} {'hyg':>5} "
        f"{'#vuln':>6} {'#secr':>5} {'#misc':>5} {'#hyg':>5} {'KEV':>4} {'secs':>6}  headline"
    )
    print(hdr)
    print("-" * len(hdr))
    for img in corpus_images():
        opts = ScanOptions(kind="image", db=db, default_ignorefiles=False)
        t0 = time.perf_counter()
        report, s = score_target(img["refs"]["oci"], opts)
        dt = time.perf_counter() - t0
        kinds = {
            k: sum(1 for c in s.contributions if c.kind == k)
            for k in ("vulnerability", "secret", "misconfiguration", "hygiene")
        }
        kev = sum(1 for c in s.contributions if any(f.startswith("KEV") for f in c.factors))
        comp = s.components
        print(
            f"{img['name']:16} {s.value:>5} {s.grade:>5} {comp['vulnerabilities']:>5} {comp['secrets']:>5} "
            f"{comp['misconfigurations']:>5} {comp['hygiene']:>5} {kinds['vulnerability']:>6} "
            f"{kinds['secret']:>5} {kinds['misconfiguration']:>5} {kinds['hygiene']:>5} {kev:>4} {dt:>6.1f}  "
            f"{s.headline.split(': ', 1)[1]}"
        )
        rows.append((img["name"], report, s))
    print()
    for name, _, s in rows:
        print(f"{name}: top actions")
        for a in s.actions[:top]:  # type: ignore[attr-defined]
            print(f"   {a.points:5.1f} pts (alone -{a.drop:4.1f})  {a.label}  ({a.findings} findings)")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kev", help="a known_exploited_vulnerabilities.json file")
    ap.add_argument("--kev-git", help=f"git dir of a cisagov/kev-data snapshot (default {KEV_GIT})")
    ap.add_argument("--top", type=int, default=5, help="actions listed per image")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db = str(tmp / "advisories.db")
        os.environ.setdefault("CONTAINMENT_CACHE_DIR", str(tmp / "cache"))
        t0 = time.perf_counter()
        r = subprocess.run(
            [*containment_cmd(), "db", "import", str(CORPUS / "advisories"), "--db", db, "-q"],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            sys.exit(f"db import failed: {r.stderr.strip()}")
        print(f"db import of {CORPUS / 'advisories'}: {time.perf_counter() - t0:.1f}s\n")
        print("== without exploit feeds ==")
        table(db, args.top)
        kev = kev_file(args, tmp)
        if kev is None:
            print("\n(no KEV catalog: give --kev FILE or --kev-git DIR for the second table)")
            return
        from containment.advisories.exploits import import_feed

        res = import_feed("kev", str(kev), db)
        f = res["feeds"][0]
        print(f"\n== with CISA KEV {f['version']} ({f['records']} CVEs) ==")
        table(db, args.top)


if __name__ == "__main__":
    main()
