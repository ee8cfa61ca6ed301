#!/usr/bin/env python3
"""Speed and memory of `containment sbom` (cold and warm layer cache) against syft.

Per corpus image: median wall time and peak RSS over --runs runs of
  - containment, cold: an empty cache directory each run
  - containment, warm: the cache filled by a previous run
  - syft (same image, OCI layout, JSON output)
and the ratios against syft (goals: cold <= 0.5x, warm <= 0.05x, memory <= 0.5x).

    python bench/sbom_speed.py [--runs 3] [--image NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from _common import containment_cmd, corpus_images, measure_rss, median, syft_cmd, syft_env  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--syft-runs", type=int, default=0, help="syft runs (default: --runs)")
    ap.add_argument("--image", action="append")
    ap.add_argument("--format", default="cyclonedx")
    args = ap.parse_args()
    cache_root = os.environ.get("CORPUS_CACHE", os.path.expanduser("~/.cache/containment-corpus"))
    rows = []
    for im in corpus_images():
        if args.image and im["name"] not in args.image:
            continue
        ref = im["refs"]["oci"]
        oci_dir = os.path.join(cache_root, im["name"], "oci")
        ours = [*containment_cmd(), "sbom", ref, "-f", args.format, "-q"]
        cold_t, cold_m, warm_t, warm_m = [], [], [], []
        for _ in range(args.runs):
            d = tempfile.mkdtemp(prefix="containment-bench-")
            env = {**os.environ, "CONTAINMENT_CACHE_DIR": d}
            t, m, _ = measure_rss(ours, env)
            cold_t.append(t)
            cold_m.append(m)
            t, m, _ = measure_rss(ours, env)
            warm_t.append(t)
            warm_m.append(m)
            shutil.rmtree(d, ignore_errors=True)
        syft_t, syft_m = [], []
        for _ in range(args.syft_runs or args.runs):
            t, m, _ = measure_rss(
                [*syft_cmd(), "-q", f"oci-dir:{oci_dir}", "-o", "cyclonedx-json"], syft_env()
            )
            syft_t.append(t)
            syft_m.append(m)
        r = {
            "image": im["name"],
            "mb": im.get("size_uncompressed_layers_bytes", 0) / 1e6,
            "cold": median(cold_t),
            "warm": median(warm_t),
            "syft": median(syft_t),
            "cold_rss": max(cold_m) / 1024,
            "warm_rss": max(warm_m) / 1024,
            "syft_rss": median(syft_m) / 1024,
        }
        rows.append(r)
        print(
            f"{r['image']:15} {r['mb']:7.0f} MB  cold {r['cold']:6.2f}s  warm {r['warm']:5.2f}s  syft {r['syft']:6.2f}s  "
            f"| cold/syft {r['cold'] / r['syft']:.3f}  warm/syft {r['warm'] / r['syft']:.3f}  "
            f"| RSS cold {r['cold_rss']:.0f} MB warm {r['warm_rss']:.0f} MB syft {r['syft_rss']:.0f} MB  "
            f"mem/syft {r['cold_rss'] / r['syft_rss']:.3f}",
            flush=True,
        )
    if rows:
        tc = sum(r["cold"] for r in rows)
        tw = sum(r["warm"] for r in rows)
        ts = sum(r["syft"] for r in rows)
        print(
            f"\ntotal over {len(rows)} images: cold {tc:.2f}s warm {tw:.2f}s syft {ts:.2f}s  "
            f"ratios cold {tc / ts:.3f} warm {tw / ts:.3f}  (goals <= 0.5, <= 0.05, memory <= 0.5)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
