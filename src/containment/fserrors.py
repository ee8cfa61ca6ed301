"""What a failed file operation tells the user: the path, what went wrong, what to do.

Permission denied, a directory where a file belongs, a full disk: ordinary conditions, not
bugs. Every part that touches the file system words them the same way, through `problem`
(or `stat` for an input that must exist), so none ends as "internal error ... report it".
Imports nothing of the project.
"""

from __future__ import annotations

import errno
import os


def fix(e: OSError, doing: str = "read") -> str:
    """What to do about `e`, for an operation that wanted to `doing` ("read", "write", ...)."""
    code = e.errno
    if code in (errno.EACCES, errno.EPERM):
        other = {
            "read": "run containment as a user who may read it",
            "write": "choose a place you may write to",
            "remove": "remove it as a user who may",
        }.get(doing, "use another path")
        return f"check its permissions (and its directories'), or {other}"
    if code == errno.ENOENT:
        return "check the path"
    if code == errno.ENOTDIR:
        return "a part of the path is not a directory; check the path"
    if code == errno.EISDIR:
        return "it is a directory; give the path of a file"
    if code == errno.ELOOP:
        return "it is a symbolic link loop (or too many links); check the path"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "free some space, or choose another place"
    if code == errno.EROFS:
        return "it is on a read-only file system; choose another place"
    if code in (errno.EMFILE, errno.ENFILE):
        return "too many open files; raise the limit (ulimit -n) or retry"
    return "check the path and its permissions"


def problem(path: str | os.PathLike[str], e: OSError, doing: str = "read") -> str:
    """One line: `PATH: cannot read (Permission denied); check its permissions ...`."""
    return f"{os.fspath(path)}: cannot {doing} ({e.strerror or type(e).__name__}); {fix(e, doing)}"


def stat(path: str | os.PathLike[str]) -> tuple[os.stat_result | None, OSError | None]:
    """os.stat, with a missing path as (None, None) and any other failure as (None, error):
    os.path.isdir() and friends say False for a path they may not look at, and the user is then
    told "not a directory" of a directory they lack the permission to read."""
    try:
        return os.stat(path), None
    except FileNotFoundError:
        return None, None
    except OSError as e:
        return None, e
