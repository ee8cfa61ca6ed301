#!/usr/bin/env python3
"""Wall time each scanner adds to `scan image`, on every corpus image, cold (no layer cache):
vuln alone, then vuln+secret, vuln+config and all three, all from the one walk of the layers.
Goal (issue 9): secret scanning adds <= 30 % to the scan of the largest image. Peer: syft's
inventory of the same image, in the same run, as the yardstick for "reading the image once".

    python bench/scanners_walltime.py [--runs 3] [--db FILE] [--image NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import containment_cmd, corpus_images, measure_rss, median, syft_cmd, syft_env  # noqa: E402

CORPUS = Path(os.environ.get("CONTAINMENT_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
SETS = ("vuln", "vuln,secret", "vuln,config", "vuln,secret,config")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", help="advisory DB (default: the corpus advisories, imported once)")
    ap.add_argument("--image", help="only this corpus image")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="containment-scanners-bench-")
    try:
        db = args.db or os.path.join(tmp, "advisories.db")
        if not args.db:
            subprocess.run(
                [*containment_cmd(), "db", "import", str(CORPUS / "advisories"), "--db", db, "-q"], check=True
            )
        images = [im for im in corpus_images() if not args.image or im["name"] == args.image]
        print(f"{'image':<16} {'scanners':<20} {'wall s':>7} {'added':>7} {'RSS MiB':>8}")
        for im in images:
            ref = im["refs"]["oci"]
            base = 0.0
            for scanners in SETS:
                walls, rss = [], 0
                for _ in range(args.runs):
                    cache = tempfile.mkdtemp(dir=tmp)  # cold: every layer read
                    env = {**os.environ, "CONTAINMENT_CACHE_DIR": cache}
                    cmd = [
                        *containment_cmd(),
                        "scan",
                        "image",
                        ref,
                        "--db",
                        db,
                        "--scanners",
                        scanners,
                        "-q",
                        "-f",
                        "json",
                    ]
                    wall, kib, _ = measure_rss(cmd, env)
                    walls.append(wall)
                    rss = max(rss, kib)
                    shutil.rmtree(cache, ignore_errors=True)
                w = median(walls)
                if scanners == "vuln":
                    base = w
                added = f"{(w / base - 1) * 100:+.0f}%" if scanners != "vuln" and base else ""
                print(f"{im['name']:<16} {scanners:<20} {w:7.2f} {added:>7} {rss / 1024:8.0f}")
            try:
                walls = [
                    measure_rss(
                        [*syft_cmd(), "scan", f"oci-dir:{ref[4:].rsplit(':', 1)[0]}", "-o", "json", "-q"],
                        syft_env(),
                    )[0]
                    for _ in range(args.runs)
                ]
                print(f"{im['name']:<16} {'syft (inventory)':<20} {median(walls):7.2f}")
            except SystemExit as e:
                print(f"{im['name']:<16} syft not run: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
