"""Kubernetes checks against Checkov: per Checkov id one of our rules aliases, agreement at file + resource.

Corpus: real manifests read at run time from repository snapshots (the `fetch` tool puts them under
/work/.mirror/<owner>+<name>/repo; never committed), plus the hand-written bench/manifests/. Helm
templates (`{{`) are left out: neither tool reads them unrendered. Checkov must be installed apart
(never a project dependency): `python -m venv /tmp/checkov && /tmp/checkov/bin/pip install checkov`,
then CHECKOV=/tmp/checkov/bin/checkov (else `checkov` on PATH or in .venv/bin).

    .venv/bin/python bench/k8s_vs_checkov.py [--mirror DIR]... [--show N]

For each Checkov id (PSS-related ones marked *): resources failed by both, only by Checkov, only by
us, and agreement = both / (both + only one side). Our side of an id is every rule aliasing it; ids
we do not claim (our condition differs on purpose, see the rule's rationale) are shown apart, marked
"-", and left out of the totals. Files we refuse as invalid (duplicate keys, which kubectl refuses
too) are left out of the comparison; the number of Checkov findings on them is printed.

Known disagreements, where Checkov is wrong or checks something else (each rule's rationale says so):
- CKV_K8S_12 only us: Checkov answers UNKNOWN, not FAILED, when `resources` has limits but no requests.
- CKV_K8S_8 only us: `livenessProbe: {}` (refused by the API server) passes Checkov, whose parser adds
  line markers to every mapping, so an empty one is not empty.
- CKV_K8S_14/15/43 only Checkov: kubeadm patches whose container has no image (not a runnable pod).
- CKV_K8S_20/28/31/37 only Checkov: Windows pods (spec.os.name: windows), exempt from these Linux-only
  controls in the Pod Security Standards.
- CKV_K8S_23/31 only Checkov: runAsUser > 0 without runAsNonRoot, Localhost seccomp profiles; only us:
  the seccomp annotation PSS no longer reads.
- CKV_K8S_27/28/39 only us: runtime socket directories (/, /run), NET_RAW added back, CAP_SYS_ADMIN.
- kustomize deletion patches (`$patch: delete`) are objects to Checkov, nothing to us.
- CKV_K8S_49 (not claimed): Checkov reads only a role's first rule.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from containment.checks import kubernetes  # noqa: E402
from containment.model import ConfigError  # noqa: E402

MIRRORS = Path("/work/.mirror")
DEFAULT_REPOS = (
    "kubernetes+examples",
    "GoogleCloudPlatform+microservices-demo",
    "argoproj+argocd-example-apps",
    "prometheus-operator+kube-prometheus",
    "kubernetes+ingress-nginx",
)
MAX_FILE = 1024 * 1024
# Checkov ids that check a Pod Security Standards control (the rest: hygiene).
PSS_IDS = {"CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_26", "CKV_K8S_31", "CKV_K8S_37", "CKV_K8S_39"}  # fmt: skip

# Checkov ids one of our rules checks differently on purpose (not aliased): id -> our rule.
NOT_CLAIMED = {"CKV_K8S_49": "CTM-K8S-048"}  # Checkov reads only a role's first rule

Key = tuple[str, str, str]  # (file, kind, name)


def checkov_exe() -> str:
    for c in (os.environ.get("CHECKOV"), "/tmp/h2-checkov/bin/checkov", str(ROOT / ".venv/bin/checkov")):
        if c and Path(c).exists():
            return c
    exe = shutil.which("checkov")
    if not exe:
        sys.exit("checkov not found: install it apart (see the module docstring) and set CHECKOV")
    return exe


def repo_files(git_dir: Path) -> list[tuple[str, bytes]]:
    """(path, bytes) of the manifest-looking files at HEAD of a bare snapshot, via one cat-file batch."""
    names = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-l", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    wanted: list[tuple[str, str]] = []
    for line in names:
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) < 4 or parts[1] != "blob" or not path.endswith((".yaml", ".yml", ".json")):
            continue
        if (
            parts[3] == "-"
            or int(parts[3]) > MAX_FILE
            or "/templates/" in f"/{path}"
            or "/charts/" in f"/{path}"
        ):
            continue
        wanted.append((parts[2], path))
    if not wanted:
        return []
    p = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        input="".join(f"{sha}\n" for sha, _ in wanted).encode(),
        capture_output=True,
        check=True,
    )
    out: list[tuple[str, bytes]] = []
    buf, pos = p.stdout, 0
    for _sha, path in wanted:
        nl = buf.index(b"\n", pos)
        size = int(buf[pos:nl].split()[2])
        data = buf[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1
        if b"apiVersion" in data and b"kind" in data and b"{{" not in data:
            out.append((path, data))
    return out


def our_findings(
    files: dict[str, bytes],
) -> tuple[dict[str, set[Key]], dict[tuple[str, Key], list[str]], int, set[str]]:
    """CKV id -> resources our aliasing rules fail; resource -> our messages; objects; files refused."""
    hits: dict[str, set[Key]] = defaultdict(set)
    msgs: dict[tuple[str, Key], list[str]] = defaultdict(list)
    objects = 0
    refused: set[str] = set()
    unclaimed = {rule: cid for cid, rule in NOT_CLAIMED.items()}
    for name, data in files.items():
        try:
            doc = kubernetes.parse(name, data)
        except ConfigError:
            refused.add(name)
            continue
        if doc is None:
            continue
        objects += len(doc.inputs)
        for m in kubernetes.check(doc):
            kind, _, rname = m.resource.split(" container ")[0].partition("/")
            key = (name, kind, rname)
            for a in m.rule.aliases + ((unclaimed[m.rule.id],) if m.rule.id in unclaimed else ()):
                if a.startswith("CKV_K8S_"):
                    hits[a].add(key)
                    msgs[(a, key)].append(f"{m.rule.id} {m.message} (line {m.location.start_line})")
    return hits, msgs, objects, refused


def checkov_findings(directory: Path) -> tuple[dict[str, set[Key]], set[Key]]:
    """CKV id -> failed resources; and every resource Checkov evaluated (passed or failed)."""
    p = subprocess.run(
        [
            checkov_exe(),
            "-d",
            str(directory),
            "--framework",
            "kubernetes",
            "-o",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    if not p.stdout.strip():
        sys.exit(f"checkov printed nothing (exit {p.returncode}): {p.stderr[-2000:]}")
    data = json.loads(p.stdout)
    reports = data if isinstance(data, list) else [data]
    failed: dict[str, set[Key]] = defaultdict(set)
    seen: set[Key] = set()
    for rep in reports:
        res = rep.get("results", {})
        for status in ("failed_checks", "passed_checks"):
            for c in res.get(status, []):
                kind, _ns, name = (c.get("resource", "").split(".", 2) + ["", ""])[:3]
                key = (c.get("file_path", "").lstrip("/"), kind, name)
                seen.add(key)
                if status == "failed_checks":
                    failed[c["check_id"]].add(key)
    return failed, seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror", action="append", help="a snapshot git dir (repeatable); default: known ones")
    ap.add_argument("--show", type=int, default=3, help="disagreements shown per check")
    args = ap.parse_args()
    dirs = [Path(m) for m in args.mirror] if args.mirror else [MIRRORS / r / "repo" for r in DEFAULT_REPOS]
    files: dict[str, bytes] = {}
    for d in dirs:
        if not d.exists():
            print(f"skip {d}: not fetched", file=sys.stderr)
            continue
        repo = d.parent.name
        for path, data in repo_files(d):
            files[f"{repo}__{path.replace('/', '__')}"] = data
    for p in sorted((HERE / "manifests").glob("*.y*ml")):
        files[f"own__{p.name}"] = p.read_bytes()
    with tempfile.TemporaryDirectory(prefix="k8s-bench-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        theirs, seen = checkov_findings(Path(tmp))
    ours, msgs, objects, refused = our_findings(files)
    on_refused = sum(1 for keys in theirs.values() for k in keys if k[0] in refused)
    seen = {k for k in seen if k[0] not in refused}
    print(
        f"corpus: {len(files)} files, {objects} objects, {len(seen)} resources checkov evaluated; "
        f"{len(refused)} files we refuse as invalid YAML (left out; checkov reports {on_refused} findings on them)"
    )
    print(f"{'check':<12} {'pss':<4}{'both':>6}{'only ckv':>10}{'only us':>9}{'agree':>8}")
    ids = sorted(
        set(ours) | {c for c in theirs if c in {a for r in kubernetes.RULES for a in r.aliases}},
        key=lambda c: (c in NOT_CLAIMED, int(c.rsplit("_", 1)[1])),
    )
    total = [0, 0, 0]
    pss_total = [0, 0, 0]
    detail: list[str] = []
    for cid in ids:
        t = {k for k in theirs.get(cid, set()) if k in seen}
        o = {k for k in ours.get(cid, set()) if k in seen}  # resources checkov also read
        both, only_t, only_o = len(t & o), len(t - o), len(o - t)
        denom = both + only_t + only_o
        ratio = both / denom if denom else 1.0
        mark = "*" if cid in PSS_IDS else "-" if cid in NOT_CLAIMED else ""
        print(f"{cid:<12} {mark:<4}{both:>6}{only_t:>10}{only_o:>9}{ratio:>8.3f}")
        for acc in (total, pss_total) if mark == "*" else (total,) if not mark else ():
            acc[0] += both
            acc[1] += only_t
            acc[2] += only_o
        for k in sorted(t - o)[: args.show]:
            detail.append(f"  {cid} only checkov: {k[0]} {k[1]}/{k[2]}")
        for k in sorted(o - t)[: args.show]:
            why = next(iter(msgs[(cid, k)]), "")
            detail.append(f"  {cid} only us: {k[0]} {k[1]}/{k[2]}: {why}")
    for label, acc in (("all aliased", total), ("PSS-related", pss_total)):
        n = sum(acc)
        print(
            f"{label}: both {acc[0]}, only checkov {acc[1]}, only us {acc[2]}, agreement {acc[0] / n if n else 1:.3f}"
        )
    if detail:
        print("disagreements (first per side and check):")
        print("\n".join(detail))


if __name__ == "__main__":
    main()
