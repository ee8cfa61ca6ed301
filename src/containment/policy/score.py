"""One explainable risk score, 0-100 per image, from every kind a scan reports.

Why: a gate needs one number, and a developer needs to know what to do to lower it. The formula
(docs/score.md has it in full, with its reasons) in three steps:

1. Every active finding gets a weight (suppressed findings count nothing):
   - vulnerability: ``VULN[severity] x cvss x fix x exploit`` where cvss = 0.8 + 0.02 x the
     highest CVSS base score (0.9 when none), fix = 1.0 when a fixed version exists else 0.8,
     exploit = max(3.0 in CISA KEV (3.5 with known ransomware use), 1 + 2 x EPSS);
   - secret: ``SECRET[severity]`` (one deleted by a later layer counts the same: it is still in
     the image);
   - misconfiguration / hygiene (rules of kind ``image``): ``CHECK[severity]``, half for a
     Rego ``warn``.
2. Weights sorted from the highest, the k-th (from 0) counted ``DECAY**k``:
   ``S = sum(w_k x DECAY**k)``. Adding a finding never lowers S (each weight is at least the
   ones after it), and S < max weight / (1 - DECAY), so many small findings stay below one big
   one.
3. ``score = 100 x (1 - exp(-S / SCALE))``, shown rounded; grade A (<= 10) B (<= 30) C (<= 50)
   D (<= 70) F.

Each finding's contribution is its share of the score (ties share their ranks' decay
evenly); actions group findings by what removes them (upgrade a package to the highest of the
nearest fixed versions, delete a secret file, fix a rule in a file), each worth its findings'
points (sorted by them) and the drop of a real re-score without them. The "fix these 3 to drop
from 71 to 22" line picks, greedily, the fixable actions whose removal together lowers a real
re-score most.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from containment.model import OS_TYPES, Finding, Misconfiguration, ScanReport, SecretFinding

if TYPE_CHECKING:
    from containment.advisories.exploits import ExploitData

# Weights by severity; UNKNOWN (not rated) counts as LOW. The order used for "raising a
# severity": NEGLIGIBLE < UNKNOWN = LOW < MEDIUM < HIGH < CRITICAL.
VULN = {"CRITICAL": 30.0, "HIGH": 15.0, "MEDIUM": 6.0, "LOW": 2.0, "UNKNOWN": 2.0, "NEGLIGIBLE": 0.5}
SECRET = {"CRITICAL": 40.0, "HIGH": 25.0, "MEDIUM": 10.0, "LOW": 3.0, "UNKNOWN": 3.0, "NEGLIGIBLE": 1.0}
CHECK = {"CRITICAL": 20.0, "HIGH": 10.0, "MEDIUM": 4.0, "LOW": 1.5, "UNKNOWN": 1.5, "NEGLIGIBLE": 0.5}
RISK_ORDER = ("NEGLIGIBLE", "UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
KEV_FACTOR = 3.0
KEV_RANSOMWARE_FACTOR = 3.5
EPSS_FACTOR = 2.0  # exploit factor 1 + EPSS_FACTOR x EPSS
UNFIXED_FACTOR = 0.8
WARN_FACTOR = 0.5
NO_CVSS = 0.9
DECAY = 0.8
SCALE = 40.0
GRADES = ((10, "A"), (30, "B"), (50, "C"), (70, "D"), (100, "F"))
KINDS = ("vulnerabilities", "secrets", "misconfigurations", "hygiene")
TOP = 3


@dataclass(frozen=True)
class Contribution:
    """One finding's part of the score."""

    kind: str  # vulnerability | secret | misconfiguration | hygiene
    id: str  # CVE / advisory id, or rule id
    subject: str  # package@version, or file / image config field
    severity: str
    weight: float  # step 1 of the formula
    points: float  # its share of the score
    factors: tuple[str, ...]  # why the weight: "KEV", "EPSS 0.94", "CVSS 9.8", "no fix", "warn"
    action: str  # the key of the Action that removes it

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "subject": self.subject,
            "severity": self.severity,
            "weight": round(self.weight, 3),
            "points": round(self.points, 2),
            "factors": list(self.factors),
            "action": self.action,
        }


@dataclass(frozen=True)
class Action:
    """What a developer does to remove some findings, and what it is worth."""

    key: str
    kind: str  # upgrade | no-fix | remove-secret | fix-rule
    label: str  # "upgrade openssl from 3.0.11-1 to 3.0.13-1"
    findings: int
    points: float  # its findings' share of the score (the sum of their contributions)
    drop: float  # how much the score drops when only this is done (a real re-score without them)
    ids: tuple[str, ...]  # the finding ids it removes (sorted, distinct)
    fixable: bool = True  # False: no fixed version exists (remove or replace the package)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "label": self.label,
            "findings": self.findings,
            "points": round(self.points, 2),
            "drop": round(self.drop, 2),
            "ids": list(self.ids),
            "fixable": self.fixable,
        }


@dataclass(frozen=True)
class Score:
    value: int  # 0..100, the rounded `exact`
    exact: float
    grade: str
    components: Mapping[str, int]  # each kind scored alone, by the same formula
    contributions: tuple[Contribution, ...]  # highest first
    actions: tuple[Action, ...]  # highest first
    top_actions: tuple[str, ...] = ()  # up to TOP fixable actions that, done together, lower it most
    after_top: int = 0  # the score re-computed without their findings
    exploits: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)  # feeds used

    @property
    def headline(self) -> str:
        if not self.contributions:
            return f"risk score {self.value}/100 ({self.grade}): nothing to fix"
        n = len(self.top_actions)
        if not n:
            return f"risk score {self.value}/100 ({self.grade}): no fix available yet for what remains"
        what = "this" if n == 1 else f"these {n}"
        return f"risk score {self.value}/100 ({self.grade}): fix {what} to drop from {self.value} to {self.after_top}"

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "exact": round(self.exact, 4),
            "grade": self.grade,
            "headline": self.headline,
            "components": dict(self.components),
            "top_actions": list(self.top_actions),
            "after_top": self.after_top,
            "actions": [a.to_json() for a in self.actions],
            "contributions": [c.to_json() for c in self.contributions],
            "exploit_feeds": [dict(f) for f in self.exploits],
            "formula": {
                "decay": DECAY,
                "scale": SCALE,
                "kev_factor": KEV_FACTOR,
                "epss_factor": EPSS_FACTOR,
                "unfixed_factor": UNFIXED_FACTOR,
                "warn_factor": WARN_FACTOR,
            },
        }


# ---------------------------------------------------------------------------- the formula


def combine(weights: Iterable[float]) -> float:
    """Step 2 and 3: weights -> the exact score in [0, 100)."""
    return _combine_sorted(sorted(weights, reverse=True))


def _combine_sorted(ws: Iterable[float]) -> float:
    s = math.fsum(w * DECAY**k for k, w in enumerate(ws))
    return 100.0 * (1.0 - math.exp(-s / SCALE))


def _rounded(exact: float) -> int:
    # to a millionth first, so float noise in a long sum never flips the shown integer
    return min(100, max(0, math.floor(round(exact, 6) + 0.5)))


def grade(value: int) -> str:
    return next(g for top, g in GRADES if value <= top)


def _shares(weights: Sequence[float], exact: float) -> list[float]:
    """Each weight's share of `exact`: its decayed weight over the decayed sum, ties sharing
    their ranks' decay evenly (so equal findings get equal points whatever their order)."""
    if not weights:
        return []
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    decayed = [0.0] * len(weights)
    k = 0
    while k < len(order):
        j = k
        while j < len(order) and weights[order[j]] == weights[order[k]]:
            j += 1
        mean = math.fsum(DECAY**r for r in range(k, j)) / (j - k)
        for r in range(k, j):
            decayed[order[r]] = weights[order[r]] * mean
        k = j
    total = math.fsum(decayed)
    return [exact * d / total if total else 0.0 for d in decayed]


# ---------------------------------------------------------------------------- weights


def _ids(f: Finding) -> list[str]:
    return [f.id, *f.aliases]


def vuln_weight(f: Finding, exploits: ExploitData | None = None) -> tuple[float, tuple[str, ...]]:
    """(weight, why) of one vulnerability; `exploits` an advisories.exploits.ExploitData."""
    w = VULN.get(f.severity, VULN["UNKNOWN"])
    why: list[str] = []
    scores = [c.score for c in f.cvss if isinstance(c.score, int | float) and 0 <= c.score <= 10]
    if scores:
        top = max(scores)
        w *= 0.8 + 0.02 * top
        why.append(f"CVSS {top:g}")
    else:
        w *= NO_CVSS
    if not f.fixed_versions:
        w *= UNFIXED_FACTOR
        why.append("no fix")
    factor = 1.0
    if exploits is not None:
        kev = exploits.kev_of(_ids(f))
        if kev is not None:
            factor = KEV_RANSOMWARE_FACTOR if kev.ransomware else KEV_FACTOR
            why.append("KEV, ransomware" if kev.ransomware else "KEV")
        ep = exploits.epss_of(_ids(f))
        if ep is not None:
            factor = max(factor, 1.0 + EPSS_FACTOR * ep.epss)
            why.append(f"EPSS {ep.epss:.3f}")
    return w * factor, tuple(why)


def secret_weight(s: SecretFinding) -> tuple[float, tuple[str, ...]]:
    why = ("deleted, still in a layer",) if s.removed_in else ()
    return SECRET.get(s.severity, SECRET["UNKNOWN"]), why


def check_weight(m: Misconfiguration) -> tuple[float, tuple[str, ...]]:
    w = CHECK.get(m.severity, CHECK["UNKNOWN"])
    if m.level == "warn":
        return w * WARN_FACTOR, ("warn",)
    return w, ()


# ---------------------------------------------------------------------------- actions


def _pkg_subject(f: Finding) -> str:
    return f"{f.package.name}@{f.package.version}"


def _vuln_action(f: Finding) -> tuple[str, str]:
    """(key, kind) of what removes a vulnerability."""
    p = f.package
    who, where = (p.source_name or p.name, "") if p.type in OS_TYPES else (p.name, p.path)
    kind = "upgrade" if f.fixed_versions else "no-fix"
    return f"{kind}:{p.type}:{f.ecosystem}:{where}:{who}:{f.installed_version}", kind


def _highest(ecosystem: str, versions: Iterable[str]) -> str | None:
    """The highest version by the ecosystem's own scheme; None when one cannot be parsed."""
    from containment import versions as vs

    vals = sorted(set(versions))
    try:
        scheme = vs.scheme_for(ecosystem)
        parsed = [(vs.parse(scheme, v), v) for v in vals]
    except (KeyError, ValueError):
        return None
    best = parsed[0]
    for pv in parsed[1:]:
        if pv[0] > best[0]:
            best = pv
    return best[1]


def _vuln_label(fs: list[Finding], kind: str) -> str:
    fs = sorted(fs, key=lambda x: (x.id, x.package.name, x.package.path, x.ecosystem))
    f = fs[0]
    p = f.package
    names = sorted({x.package.name for x in fs})
    if p.type in OS_TYPES:
        src = p.source_name or p.name
        who = src if names == [src] else f"{src} ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"
    else:
        who = f"{p.name} in {p.path}" if p.path else p.name
    if kind == "no-fix":
        return f"no fix yet for {who} {f.installed_version}: remove or replace it"
    nearest = [x.fixed_versions[0] for x in fs if x.fixed_versions]
    to = _highest(f.ecosystem, nearest)
    target = to if to is not None else " or ".join(sorted(set(nearest)))
    return f"upgrade {who} from {f.installed_version} to {target}"


def _secret_key(s: SecretFinding) -> str:
    return (
        f"secret:{s.location.path}"
        if s.location.path
        else f"secret:config:{s.location.field or 'image config'}"
    )


def _secret_label(ss: list[SecretFinding]) -> str:
    loc = ss[0].location
    if loc.path:
        removed = any(s.removed_in for s in ss)
        extra = " (deleted by a later layer but still in the image: rebuild without it)" if removed else ""
        return f"remove the secret file {loc.path}{extra}"
    return f"remove the secret from {loc.field or 'image config'}"


def _check_where(m: Misconfiguration) -> str:
    return m.location.path or m.resource or "image config"


def _check_label(ms: list[Misconfiguration]) -> str:
    m = min(ms, key=lambda x: (x.rule.title, x.message))
    return f"fix {m.rule.id} ({m.rule.title}) in {_check_where(m)}"


# ---------------------------------------------------------------------------- score


@dataclass(frozen=True)
class _Item:
    kind: str
    id: str
    subject: str
    severity: str
    weight: float
    factors: tuple[str, ...]
    action: str


def _items(
    report: ScanReport, exploits: ExploitData | None
) -> tuple[list[_Item], dict[str, tuple[str, str, bool]]]:
    """The weighted findings and, per action key, (kind, label, fixable); every label is made
    from the whole group, so it never depends on the order of the findings."""
    items: list[_Item] = []
    vulns: dict[str, list[Finding]] = {}
    secrets: dict[str, list[SecretFinding]] = {}
    checks: dict[str, list[Misconfiguration]] = {}
    for f in report.active:
        w, why = vuln_weight(f, exploits)
        key, _ = _vuln_action(f)
        vulns.setdefault(key, []).append(f)
        items.append(_Item("vulnerability", f.id, _pkg_subject(f), f.severity, w, why, key))
    for s in report.active_secrets:
        w, why = secret_weight(s)
        key = _secret_key(s)
        secrets.setdefault(key, []).append(s)
        subject = s.location.path or s.location.field or "image config"
        items.append(_Item("secret", s.rule.id, subject, s.severity, w, why, key))
    for m in report.active_misconfigurations:
        w, why = check_weight(m)
        key = f"rule:{m.rule.id}:{_check_where(m)}"
        checks.setdefault(key, []).append(m)
        kind = "hygiene" if m.rule.kind == "image" else "misconfiguration"
        items.append(_Item(kind, m.rule.id, _check_where(m), m.severity, w, why, key))
    actions: dict[str, tuple[str, str, bool]] = {}
    for key, fs in vulns.items():
        kind = _vuln_action(fs[0])[1]
        actions[key] = (kind, _vuln_label(fs, kind), kind == "upgrade")
    for key, ss in secrets.items():
        actions[key] = ("remove-secret", _secret_label(ss), True)
    for key, ms in checks.items():
        actions[key] = ("fix-rule", _check_label(ms), True)
    return items, actions


def _greedy_top(actions: list[Action], without: Callable[[Iterable[str]], float]) -> tuple[str, ...]:
    """Up to TOP fixable actions, each step the one whose re-score (with those chosen before)
    is lowest; ties go to the earlier action in the sorted list."""
    chosen: list[str] = []
    pool = [a.key for a in actions if a.fixable]
    for _ in range(min(TOP, len(pool))):
        best = min(pool, key=lambda k: round(without([*chosen, k]), 9))
        chosen.append(best)
        pool.remove(best)
    return tuple(chosen)


_COMPONENT = {
    "vulnerability": "vulnerabilities",
    "secret": "secrets",
    "misconfiguration": "misconfigurations",
    "hygiene": "hygiene",
}


def score(report: ScanReport, exploits: ExploitData | None = None) -> Score:
    """The risk score of a scan report; `exploits` (advisories.exploits.ExploitData) adds CISA
    KEV and EPSS to the vulnerabilities' weights when those feeds were imported."""
    items, acts = _items(report, exploits)
    # a canonical order: the result never depends on the order of the report's findings
    items.sort(key=lambda i: (-i.weight, i.kind, i.id, i.subject, i.action, i.factors, i.severity))
    weights = [i.weight for i in items]
    exact = combine(weights)
    value = _rounded(exact)
    shares = _shares(weights, exact)
    contributions = tuple(
        Contribution(i.kind, i.id, i.subject, i.severity, i.weight, p, i.factors, i.action)
        for i, p in zip(items, shares, strict=True)
    )
    components = {k: _rounded(combine(i.weight for i in items if _COMPONENT[i.kind] == k)) for k in KINDS}
    grouped: dict[str, list[int]] = {}
    for n, i in enumerate(items):
        grouped.setdefault(i.action, []).append(n)

    def without(keys: Iterable[str]) -> float:  # a re-score: `weights` is sorted already
        drop = {n for k in keys for n in grouped[k]}
        return _combine_sorted(w for n, w in enumerate(weights) if n not in drop)

    actions = []
    for key, members in grouped.items():
        kind, label, fixable = acts[key]
        ids = tuple(sorted({items[n].id for n in members}))
        share = math.fsum(shares[n] for n in members)
        actions.append(Action(key, kind, label, len(members), share, exact - without([key]), ids, fixable))
    actions.sort(key=lambda a: (-round(a.points, 9), -round(a.drop, 9), not a.fixable, a.label, a.key))
    top = _greedy_top(actions, without)
    after = _rounded(without(top)) if top else value
    feeds = tuple(exploits.feeds) if exploits is not None else ()
    return Score(value, exact, grade(value), components, contributions, tuple(actions), top, after, feeds)
