"""Replace a small file all at once: readers see the old content or the new, never a part.

Config and key files (registries.json, webhooks.json, cosign keys) are written to a temporary
sibling created exclusively with the final mode, synced, then renamed over the target; a failure
at any point removes the temporary file and leaves the target as it was.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Write `data` (str: UTF-8) to `path` atomically, the file ending with exactly `mode`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # the umask may have narrowed it; never wider than `mode` either
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
