#!/usr/bin/env python3
"""Whole `scan image` (inventory + matching + report) of the largest corpus image with a warm
layer cache, against syft's inventory alone on the same image. Goal: our whole scan is faster.

    python bench/scan_speed.py [--runs 5] [--db FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import containment_cmd, corpus_images, measure_rss, median, syft_cmd, syft_env  # noqa: E402

CORPUS = Path(os.environ.get("CONTAINMENT_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db")
    args = ap.parse_args()
    images = corpus_images()
    big = max(images, key=lambda im: im.get("size_uncompressed_layers_bytes", 0))
    tmp = tempfile.mkdtemp(prefix="containment-scan-bench-")
    env = {**os.environ, "CONTAINMENT_CACHE_DIR": os.path.join(tmp, "cache")}
    db = args.db or os.path.join(tmp, "advisories.db")
    if not args.db:
        measure_rss([*containment_cmd(), "db", "import", str(CORPUS / "advisories"), "--db", db, "-q"], env)
    scan = [*containment_cmd(), "scan", "image", big["refs"]["oci"], "--db", db, "-f", "json", "-q"]
    cold_t, _, out = measure_rss(scan, env)  # fills the layer cache
    ours = [measure_rss(scan, env) for _ in range(args.runs)]
    cache_root = os.environ.get("CORPUS_CACHE", os.path.expanduser("~/.cache/containment-corpus"))
    syft = [
        measure_rss([*syft_cmd(), "-q", f"oci-dir:{cache_root}/{big['name']}/oci", "-o", "json"], syft_env())
        for _ in range(args.runs)
    ]
    import json

    n = len(json.loads(out)["findings"])
    o_t, s_t = median([r[0] for r in ours]), median([r[0] for r in syft])
    print(
        f"{big['name']} ({big.get('size_uncompressed_layers_bytes', 0) / 1e6:.0f} MB uncompressed, {n} findings)"
    )
    print(f"  containment scan image, cold cache: {cold_t:.2f}s")
    print(
        f"  containment scan image, warm cache: {o_t:.2f}s median of {args.runs}, peak RSS {max(r[1] for r in ours) / 1024:.0f} MB"
    )
    print(
        f"  syft inventory only:                {s_t:.2f}s median of {args.runs}, peak RSS {median([r[1] for r in syft]) / 1024:.0f} MB"
    )
    print(f"  ratio (our whole scan / syft's inventory): {o_t / s_t:.3f}  (goal < 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
