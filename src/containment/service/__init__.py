"""The service layer every face calls (CLI, server, registry gate, admission webhook): one
module per operation, each a plain function over models.

- `scan.py`: scan(target, ScanOptions) -> ScanReport
- `score.py`, `gate.py`, `sign.py`, `promote.py`: the Sign and Ship stages (issue P4)
"""

from containment.service.scan import DEFAULT_IGNOREFILES, ScanOptions, inventory, scan

__all__ = ["DEFAULT_IGNOREFILES", "ScanOptions", "inventory", "scan"]
