#!/usr/bin/env python3
"""Who rates the findings on the corpus images, and how many stay UNKNOWN, with and without NVD.

Imports the corpus advisories into a temp database, scans every corpus image, prints findings
per severity source; then, with --nvd DIR (NVD CVE JSON 2.0 files: nvdcve-2.0-*.json(.gz|.zip),
or one CVE object per .json file), imports them too and scans again. Also prints how many
UNKNOWN findings carry a CVE id (what NVD could rate at most).

    python bench/severity_sources.py [--nvd DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import containment_cmd, corpus_images  # noqa: E402

CORPUS = Path(os.environ.get("CONTAINMENT_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


def run(*args: str) -> str:
    r = subprocess.run([*containment_cmd(), *args], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"containment {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def table(db: str, label: str) -> None:
    print(f"\n== {label}")
    print(f"{'image':<16} {'findings':>8} {'UNKNOWN':>8} {'share':>6} {'with CVE':>8}  severity sources")
    for im in corpus_images():
        doc = json.loads(
            run("scan", "image", im["refs"]["oci"], "--db", db, "-f", "json", "-q", "--skip-db-update")
        )
        fs = doc["findings"]
        unknown = [f for f in fs if f["severity"] == "UNKNOWN"]
        with_cve = sum(1 for f in unknown if any(i.startswith("CVE-") for i in [f["id"], *f["aliases"]]))
        share = f"{100 * len(unknown) / len(fs):.0f}%" if fs else "-"
        sources = Counter(f["severity_source"] or "(none)" for f in fs)
        print(
            f"{im['name']:<16} {len(fs):>8} {len(unknown):>8} {share:>6} {with_cve:>8}  "
            + ", ".join(f"{k} {n}" for k, n in sources.most_common())
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nvd", help="a folder of NVD CVE JSON 2.0 files to import for the second pass")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "advisories.db")
        run("db", "import", str(CORPUS / "advisories"), "--db", db, "-q")
        table(db, "corpus advisories only")
        if args.nvd:
            run("db", "import", args.nvd, "--db", db, "-q")
            table(db, f"corpus advisories + NVD from {args.nvd}")


if __name__ == "__main__":
    main()
