"""Advisory import speed: `containment db import` on the whole advisory corpus and per feed.

Records, as counted: OSV records + Alpine secdb (package, id) pairs per secdb file + Debian
tracker (package, CVE) pairs. Each run imports into a NEW database file (the `db update` /
first-import path: temp file, journal and fsync off, process pool of cpu_quota() workers).
Prints records, seconds and records/s, the median of 3 runs. No peer tool: Trivy/Grype ship
prebuilt databases and have no comparable import step.

    python bench/db_import.py [--runs 3] [CORPUS_DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from containment.advisories.importer import build_new, collect  # noqa: E402
from containment.cpu import cpu_quota  # noqa: E402


def run(paths: list[Path], runs: int) -> tuple[int, float, int, int]:
    times = []
    records = skipped = files = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            items = collect(paths)
            st = build_new(Path(d) / "advisories.db", items)
            times.append(time.perf_counter() - t0)
            records, skipped, files = st.records, st.skipped, len(items)
    return records, statistics.median(times), skipped, files


def main() -> None:
    ap = argparse.ArgumentParser()
    default = (
        Path(os.environ.get("CONTAINMENT_CORPUS", HERE.parent.parent / "shared" / "corpus")) / "advisories"
    )
    ap.add_argument("corpus", nargs="?", default=str(default))
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    root = Path(a.corpus)
    if not root.is_dir():
        sys.exit(f"no advisory corpus at {root} (set CONTAINMENT_CORPUS)")
    feeds = sorted(p for p in root.iterdir() if p.is_dir())
    print(f"containment db import, median of {a.runs} runs, {cpu_quota()} CPU(s)")
    print("records = OSV records + Alpine (package, id) pairs per secdb file + Debian (package, CVE) pairs")
    print(f"{'input':<24} {'files':>6} {'records':>8} {'skipped':>7} {'seconds':>8} {'records/s':>10}")
    for name, paths in [("whole corpus", [root])] + [(p.name, [p]) for p in feeds]:
        recs, sec, skipped, files = run(paths, a.runs)
        print(f"{name:<24} {files:>6} {recs:>8} {skipped:>7} {sec:>8.3f} {recs / sec:>10.0f}")


if __name__ == "__main__":
    main()
