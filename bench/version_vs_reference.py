"""Compare containment.versions with the reference implementations available on this machine.

For each scheme with a reference here it generates >= N pairs (realistic and adversarial:
epochs, ``~``/``^``/``+``, letters, pre-releases, long numbers, loose spellings, and pairs that
differ by one small edit so the comparison is decided deep inside the strings), asks the
reference (one long-running process per scheme, pairs on stdin) and prints per scheme: pairs,
agreements, disagreements (first examples) and the agreement rate.

References: dpkg (``apt_pkg.version_compare`` from python3-apt, plus a sample through the real
``dpkg --compare-versions``), rpm (python3-rpm ``rpm.ver``), PEP 440 (``packaging``), npm
(node ``semver``, installed into a temporary directory), Maven (maven-artifact jar's
``ComparableVersion``). A reference that is missing is reported as skipped.

    python bench/version_vs_reference.py [--pairs 100000] [--seed 1] [--only dpkg,npm]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from containment.versions import InvalidVersion
from containment.versions import compare as ours_compare

SYSTEM_PYTHON = "/usr/bin/python3"
MAVEN_JAR = "/usr/share/maven/lib/maven-artifact-3.x.jar"
ERR = "E"

Pair = tuple[str, str]

# ----------------------------------------------------------------------------- references


def _run_lines(cmd: Sequence[str], pairs: Sequence[Pair], cwd: str | None = None) -> list[str]:
    data = "".join(f"{a}\t{b}\n" for a, b in pairs)
    proc = subprocess.run(cmd, input=data, capture_output=True, text=True, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"reference {cmd[0]} failed: {proc.stderr[-2000:]}")
    out = proc.stdout.split("\n")[: len(pairs)]
    if len(out) != len(pairs):
        raise RuntimeError(f"reference {cmd[0]} returned {len(out)} results for {len(pairs)} pairs")
    return out


_APT_DRIVER = r"""
import sys, apt_pkg
apt_pkg.init_system()
w = sys.stdout.write
for line in sys.stdin:
    a, b = line[:-1].split("\t")
    r = apt_pkg.version_compare(a, b)
    w("%d\n" % ((r > 0) - (r < 0)))
"""

_RPM_DRIVER = r"""
import sys, rpm
w = sys.stdout.write
for line in sys.stdin:
    a, b = line[:-1].split("\t")
    try:
        x, y = rpm.ver(a), rpm.ver(b)
        w("%d\n" % ((x > y) - (x < y)))
    except Exception:
        w("E\n")
"""

_NODE_DRIVER = r"""
const semver = require('semver');
const lines = require('fs').readFileSync(0, 'utf8').split('\n');
const out = [];
for (const line of lines) {
  if (!line) continue;
  const [a, b] = line.split('\t');
  try { out.push(String(semver.compare(a, b, true))); } catch (e) { out.push('E'); }
}
process.stdout.write(out.join('\n') + '\n');
"""

_JAVA_DRIVER = r"""
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;
public class MavenRef {
  public static void main(String[] args) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    PrintWriter w = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, "UTF-8")));
    String line;
    while ((line = r.readLine()) != null) {
      int t = line.indexOf('\t');
      try {
        int c = new ComparableVersion(line.substring(0, t)).compareTo(new ComparableVersion(line.substring(t + 1)));
        w.println(Integer.signum(c));
      } catch (Throwable e) { w.println("E"); }
    }
    w.flush();
  }
}
"""


def ref_dpkg_apt(pairs: Sequence[Pair]) -> list[str] | None:
    if not _system_module("apt_pkg"):
        return None
    return _run_lines([SYSTEM_PYTHON, "-c", _APT_DRIVER], pairs)


def ref_dpkg_binary(pairs: Sequence[Pair]) -> list[str] | None:
    if not shutil.which("dpkg"):
        return None
    out = []
    for a, b in pairs:
        if subprocess.run(["dpkg", "--compare-versions", a, "lt", b], capture_output=True).returncode == 0:
            out.append("-1")
        elif subprocess.run(["dpkg", "--compare-versions", a, "eq", b], capture_output=True).returncode == 0:
            out.append("0")
        else:
            out.append("1")
    return out


def ref_rpm(pairs: Sequence[Pair]) -> list[str] | None:
    if not _system_module("rpm"):
        return None
    return _run_lines([SYSTEM_PYTHON, "-c", _RPM_DRIVER], pairs)


def ref_pep440(pairs: Sequence[Pair]) -> list[str]:
    from packaging.version import InvalidVersion as PInvalid
    from packaging.version import Version

    out = []
    for a, b in pairs:
        try:
            x, y = Version(a), Version(b)
            out.append(str((x > y) - (x < y)))
        except PInvalid:
            out.append(ERR)
    return out


_npm_dir: str | None = None


def npm_semver_dir() -> str | None:
    """A temporary directory with node's ``semver`` installed (None without node/npm)."""
    global _npm_dir
    if _npm_dir:
        return _npm_dir
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    d = tempfile.mkdtemp(prefix="semver-ref-")
    proc = subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", "semver"], cwd=d, capture_output=True
    )
    if proc.returncode != 0:
        return None
    _npm_dir = d
    return d


def ref_npm(pairs: Sequence[Pair]) -> list[str] | None:
    d = npm_semver_dir()
    if d is None:
        return None
    return _run_lines(["node", "-e", _NODE_DRIVER], pairs, cwd=d)


def ref_maven(pairs: Sequence[Pair]) -> list[str] | None:
    if not (os.path.exists(MAVEN_JAR) and shutil.which("java") and shutil.which("javac")):
        return None
    d = Path(tempfile.mkdtemp(prefix="maven-ref-"))
    (d / "MavenRef.java").write_text(_JAVA_DRIVER)
    subprocess.run(["javac", "-cp", MAVEN_JAR, "-d", str(d), str(d / "MavenRef.java")], check=True)
    return _run_lines(["java", "-cp", f"{MAVEN_JAR}:{d}", "MavenRef"], pairs)


def _system_module(name: str) -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", f"import {name}"], capture_output=True).returncode == 0


# ----------------------------------------------------------------------------- generators


def _num(r: random.Random) -> str:
    x = r.random()
    if x < 0.55:
        return str(r.randint(0, 9))
    if x < 0.8:
        return str(r.randint(10, 99))
    if x < 0.88:
        return "0" * r.randint(1, 3) + str(r.randint(0, 99))  # leading zeros
    if x < 0.95:
        return str(r.randint(100, 99999))
    return str(r.randint(10**15, 10**30))  # long numbers


def _word(r: random.Random, alphabet: str, lo: int = 1, hi: int = 6) -> str:
    return "".join(r.choice(alphabet) for _ in range(r.randint(lo, hi)))


def _mutate(r: random.Random, s: str, alphabet: str, suffixes: Sequence[str]) -> str:
    """A small edit, so that the pair shares a long prefix."""
    op = r.random()
    if not s:
        return r.choice(alphabet)
    i = r.randrange(len(s))
    if op < 0.25:
        return s[:i] + r.choice(alphabet) + s[i + 1 :]
    if op < 0.45:
        return s[:i] + r.choice(alphabet) + s[i:]
    if op < 0.55 and len(s) > 1:
        return s[:i] + s[i + 1 :]
    if op < 0.8:
        return s + r.choice(suffixes)
    if op < 0.9:
        return s[:i]
    # bump a digit
    digits = [k for k, c in enumerate(s) if c.isdigit()]
    if digits:
        k = r.choice(digits)
        return s[:k] + str((int(s[k]) + r.randint(1, 9)) % 10) + s[k + 1 :]
    return s


def _pairs(
    r: random.Random, n: int, gen: Callable[[random.Random], str], mutate: Callable[[random.Random, str], str]
) -> list[Pair]:
    out: list[Pair] = []
    while len(out) < n:
        a = gen(r)
        x = r.random()
        if x < 0.6:
            b = mutate(r, a)
            if r.random() < 0.3:
                b = mutate(r, b)
        elif x < 0.65:
            b = a
        else:
            b = gen(r)
        if "\t" in a + b or "\n" in a + b:
            continue
        out.append((a, b) if r.random() < 0.5 else (b, a))
    return out


# dpkg ----------------------------------------------------------------------------------

_DPKG_ALPHA = "0123456789" * 3 + "abcxyzABZ" + ".+~" * 2 + "-"
_DPKG_SUFFIXES = [
    "~rc1",
    "~",
    "~~",
    "+dfsg",
    "+b1",
    ".0",
    "-1",
    "-0",
    "-0ubuntu1",
    "~deb12u1",
    "a",
    "+",
    "1",
    "-1~bpo1",
    ".",
    "+really1.0",
]


def gen_dpkg(r: random.Random) -> str:
    parts = []
    if r.random() < 0.2:
        parts.append(str(r.choice([0, 1, 2, 10, r.randint(0, 2**31 - 1)])) + ":")
    up = _num(r)
    for _ in range(r.randint(0, 4)):
        sep = r.choice([".", ".", ".", "+", "~", "", "-"] if r.random() < 0.9 else ["a", "b", "z", "Z"])
        up += sep + (_num(r) if r.random() < 0.8 else _word(r, "abcdefgxyzAZ", 1, 4))
    parts.append(up)
    if r.random() < 0.6:
        rev = _num(r) + r.choice(
            ["", "", "ubuntu" + _num(r), "+deb12u" + _num(r), "~bpo" + _num(r), ".1", "build1"]
        )
        parts.append("-" + rev)
    elif "-" in up:
        parts.append("-1")
    return "".join(parts)


def mutate_dpkg(r: random.Random, s: str) -> str:
    for _ in range(10):
        t = _mutate(r, s, _DPKG_ALPHA, _DPKG_SUFFIXES)
        try:
            ours_compare("dpkg", t, t)
            return t
        except InvalidVersion:
            continue
    return s


# rpm -----------------------------------------------------------------------------------

_RPM_ALPHA = "0123456789" * 3 + "abcxyzABZ" + "._+" * 2 + "~^" * 2 + "%"
_RPM_SUFFIXES = [
    "~rc1",
    "^",
    "^git1",
    "~",
    ".0",
    "a",
    ".a",
    "_1",
    "^20200101",
    "~~",
    ".",
    "..",
    "1",
    "-1",
    "-1.el8",
    ".el9_2",
]


def gen_rpm(r: random.Random) -> str:
    out = ""
    if r.random() < 0.25:
        out += str(r.choice([0, 1, 2, 10, 99])) + ":"
    v = _num(r) if r.random() < 0.95 else _word(r, "abcz", 1, 3)
    for _ in range(r.randint(0, 4)):
        v += r.choice([".", ".", ".", "_", "+", "~", "^", "", "."]) + (
            _num(r) if r.random() < 0.75 else _word(r, "abcdefgrczAZ", 1, 4)
        )
    out += v
    rel = _num(r) + r.choice(["", ".el8", ".el9_2", ".fc39", "~rc1", "^git", ".1", "a"])
    if r.random() < 0.9:
        out += "-" + rel
    return out


def mutate_rpm(r: random.Random, s: str) -> str:
    for _ in range(10):
        t = _mutate(r, s, _RPM_ALPHA, _RPM_SUFFIXES)
        # at most one release separator and a numeric epoch, so rpm.ver and ours split alike
        head = t.split(":")[0] if ":" in t else "0"
        if t.count("-") <= 1 and t.count(":") <= 1 and head.isdigit() and not t.startswith("-"):
            try:
                ours_compare("rpm", t, t)
                return t
            except InvalidVersion:
                continue
    return s


# PEP 440 -------------------------------------------------------------------------------

_PEP_ALPHA = "0123456789" * 2 + ".abcrpostdevl!+-_ " + "ABC"
_PEP_SUFFIXES = [
    "a1",
    "b2",
    "rc1",
    ".post1",
    "-1",
    ".dev0",
    "+local.1",
    "c1",
    "pre1",
    "preview2",
    "-post3",
    "_dev",
    "alpha",
    ".0",
    "+ubuntu1",
    "!",
    "1",
]


def gen_pep440(r: random.Random) -> str:
    s = ""
    if r.random() < 0.05:
        s += r.choice(["v", "V", " "])
    if r.random() < 0.1:
        s += str(r.randint(0, 3)) + "!"
    s += ".".join(_num(r) for _ in range(r.randint(1, 4)))
    if r.random() < 0.3:
        s += (
            r.choice(["", ".", "-", "_"])
            + r.choice(["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC"])
            + r.choice(["", _num(r)])
        )
    if r.random() < 0.2:
        s += r.choice([".post", "-post", "post", "-", ".rev", "r"]) + _num(r)
    if r.random() < 0.2:
        s += r.choice([".dev", "dev", "-dev", "_DEV"]) + r.choice(["", _num(r)])
    if r.random() < 0.15:
        s += "+" + ".".join(r.choice([_num(r), _word(r, "abcxyz", 1, 5)]) for _ in range(r.randint(1, 3)))
    return s


def mutate_pep440(r: random.Random, s: str) -> str:
    return _mutate(r, s, _PEP_ALPHA, _PEP_SUFFIXES)


# npm -----------------------------------------------------------------------------------

_NPM_ALPHA = "0123456789" * 2 + ".-+abcrz" + "v="
_NPM_SUFFIXES = [
    "-alpha",
    "-alpha.1",
    "-0",
    "-rc.1",
    "+build.5",
    ".1",
    "-beta.01",
    "beta",
    "-1.2",
    "-x.-",
    "-9007199254740993",
    "-9007199254740992",
    "+001",
]


def gen_npm(r: random.Random) -> str:
    s = r.choice(["", "", "", "", "v", "=", "v=", " v", "=v ", "  "])

    def n() -> str:
        x = r.random()
        if x < 0.97:
            return _num(r) if r.random() < 0.97 else "0" + str(r.randint(0, 9))
        return str(r.choice([2**53 - 1, 2**53, 2**53 + 1, 2**52, 10**16]))

    s += f"{n()}.{n()}.{n()}"
    if r.random() < 0.45:
        ids = []
        for _ in range(r.randint(1, 4)):
            x = r.random()
            ids.append(
                _num(r)
                if x < 0.4
                else _word(r, "abcdefghz-", 1, 6)
                if x < 0.8
                else r.choice(
                    ["alpha", "beta", "rc", "0a", "1-", "--", "9007199254740991", "9007199254740993", "00"]
                )
            )
        s += r.choice(["-", "-", "-", ""]) + ".".join(ids)
    if r.random() < 0.15:
        s += "+" + ".".join(_word(r, "abc019-", 1, 5) for _ in range(r.randint(1, 3)))
    if r.random() < 0.05:
        s += " "
    return s


def mutate_npm(r: random.Random, s: str) -> str:
    keep_valid = r.random() < 0.8
    for _ in range(10):
        t = _mutate(r, s, _NPM_ALPHA, _NPM_SUFFIXES)
        if not keep_valid:
            return t
        try:
            ours_compare("npm", t, t)
            return t
        except InvalidVersion:
            continue
    return s


# Maven ---------------------------------------------------------------------------------

_MVN_QUAL = ["alpha", "a", "beta", "b", "milestone", "m", "rc", "cr", "snapshot", "SNAPSHOT", "ga", "final", "Final",
             "GA", "sp", "release", "RELEASE", "foo", "RC", "M", "jre", "android", "x", "z", ""]  # fmt: skip
_MVN_ALPHA = "0123456789" * 2 + ".-" * 3 + "abmrcsz"
_MVN_SUFFIXES = [
    "-SNAPSHOT",
    ".0",
    "-1",
    "-alpha1",
    "RC1",
    ".Final",
    "-sp1",
    "-ga",
    ".RELEASE",
    "-",
    ".",
    "a",
    "-b2",
    "M1",
    "-jre",
]


def gen_maven(r: random.Random) -> str:
    s = _num(r)
    for _ in range(r.randint(0, 5)):
        sep = r.choice([".", ".", "-", ""])
        tok = _num(r) if r.random() < 0.6 else r.choice(_MVN_QUAL)
        if sep == "" and tok and (tok[0].isdigit() == s[-1].isdigit()):
            sep = "."
        s += sep + tok
    return s


def mutate_maven(r: random.Random, s: str) -> str:
    t = _mutate(r, s, _MVN_ALPHA, _MVN_SUFFIXES)
    return t if t.strip() else s


# ----------------------------------------------------------------------------- main

SCHEMES: dict[
    str,
    tuple[
        Callable[[random.Random], str],
        Callable[[random.Random, str], str],
        Callable[[Sequence[Pair]], list[str] | None],
        str,
    ],
] = {
    "dpkg": (gen_dpkg, mutate_dpkg, ref_dpkg_apt, "python3-apt apt_pkg.version_compare"),
    "rpm": (gen_rpm, mutate_rpm, ref_rpm, "python3-rpm rpm.ver"),
    "pep440": (gen_pep440, mutate_pep440, ref_pep440, "packaging.version"),
    "npm": (gen_npm, mutate_npm, ref_npm, "node semver.compare(a, b, loose=true)"),
    "maven": (gen_maven, mutate_maven, ref_maven, "maven-artifact ComparableVersion (jar)"),
}


def ours(scheme: str, pairs: Sequence[Pair]) -> list[str]:
    out = []
    for a, b in pairs:
        try:
            out.append(str(ours_compare(scheme, a, b)))
        except InvalidVersion:
            out.append(ERR)
    return out


def report(
    name: str, ref_name: str, pairs: Sequence[Pair], mine: list[str], theirs: list[str], secs: float
) -> bool:
    bad = [(p, m, t) for p, m, t in zip(pairs, mine, theirs, strict=True) if m != t]
    both_invalid = sum(1 for m, t in zip(mine, theirs, strict=True) if m == t == ERR)
    n = len(pairs)
    print(f"{name:8} ref={ref_name}")
    print(f"         pairs={n} agreements={n - len(bad)} disagreements={len(bad)} rate={100.0 * (n - len(bad)) / n:.4f}%"
          f" (both-invalid={both_invalid}, ours {secs:.1f}s)")  # fmt: skip
    for (a, b), m, t in bad[:5]:
        print(f"         DIFF {a!r} vs {b!r}: ours={m} ref={t}")
    return not bad


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--dpkg-sample", type=int, default=2000, help="pairs also run through the dpkg binary")
    args = ap.parse_args(argv)
    only = {s for s in args.only.split(",") if s}
    ok = True
    for name, (gen, mutate, ref, ref_name) in SCHEMES.items():
        if only and name not in only:
            continue
        r = random.Random(f"{args.seed}-{name}")
        pairs = _pairs(r, args.pairs, gen, mutate)
        t0 = time.perf_counter()
        mine = ours(name, pairs)
        secs = time.perf_counter() - t0
        theirs = ref(pairs)
        if theirs is None:
            print(f"{name:8} SKIPPED (reference {ref_name} not available)")
            continue
        agreed = report(name, ref_name, pairs, mine, theirs, secs)
        if name == "dpkg" and not agreed:
            # apt's comparison is a fast stand-in for dpkg's; where the two differ, dpkg decides.
            idx = [i for i, (m, t) in enumerate(zip(mine, theirs, strict=True)) if m != t]
            sub = [pairs[i] for i in idx]
            bin_out = ref_dpkg_binary(sub)
            if bin_out is not None:
                resolved = sum(1 for i, t in zip(idx, bin_out, strict=True) if mine[i] == t)
                print(
                    f"         apt_pkg disagreements re-checked with the dpkg binary: {resolved}/{len(idx)} agree with ours"
                )
                agreed = resolved == len(idx)
        ok &= agreed
        if name == "dpkg" and args.dpkg_sample:
            sample = pairs[: args.dpkg_sample]
            bin_out = ref_dpkg_binary(sample)
            if bin_out is not None:
                ok &= report(
                    "dpkg", "dpkg --compare-versions (binary)", sample, mine[: len(sample)], bin_out, 0.0
                )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
