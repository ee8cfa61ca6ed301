"""The score service: `score_target(target, options) -> (ScanReport, Score)`.

One scan for every kind the score weighs (vulnerabilities, secrets, misconfigurations and
hygiene: `service.scan` with scanners vuln,secret,config), then the CISA KEV / EPSS data the
advisory database holds for the findings' ids and aliases, then `policy.score.score`. The CLI
(`containment score`), the gate and the attestation all call this, never the steps.
"""

from __future__ import annotations

from dataclasses import replace

from containment.advisories.exploits import ExploitData
from containment.model import SCANNERS, Inventory, ScanReport
from containment.policy.score import Score, score
from containment.progress import Progress
from containment.service.scan import ScanOptions, StoreOpener, scan


def exploit_data(report: ScanReport, db: str | None = None) -> ExploitData | None:
    """The exploit feeds' word on the report's vulnerabilities, from the database the scan matched
    against (its `db` summary names it; else `db`); None without vulnerabilities or feeds."""
    if not report.findings:
        return None
    from containment.advisories.exploits import load_for

    ids = {i for f in report.findings for i in (f.id, *f.aliases)}
    path = str(report.db.get("path") or "") or db
    return load_for(path, ids)


def score_target(
    target: str,
    options: ScanOptions,
    *,
    open_store: StoreOpener | None = None,
    progress: Progress | None = None,
    inv: Inventory | None = None,
) -> tuple[ScanReport, Score]:
    """Scan `target` for every kind (whatever `options.scanners` says) and score it."""
    opts = replace(options, scanners=SCANNERS)
    report = scan(target, opts, open_store=open_store, progress=progress, inv=inv)
    return report, score(report, exploit_data(report, opts.db))


def score_report(report: ScanReport, db: str | None = None) -> Score:
    """Score a report already made (a stored scan, an attestation's)."""
    return score(report, exploit_data(report, db))


__all__ = ["exploit_data", "score_report", "score_target"]
