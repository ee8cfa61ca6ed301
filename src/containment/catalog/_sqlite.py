"""Open a SQLite database from its bytes, in memory, read-only and time-bounded.

Package databases that are SQLite files (rpmdb.sqlite, Nix db.sqlite, Conan's cache.sqlite3)
arrive as bytes from the layer walk; none is ever opened on disk.
"""

from __future__ import annotations

import sqlite3

MAGIC = b"SQLite format 3\x00"
ERRORS = (sqlite3.Error, ValueError, OverflowError, MemoryError)


def open_image(
    data: bytes, error: type[Exception], max_steps: int, text_bytes: bool = False
) -> sqlite3.Connection:
    """A read-only connection on the database in `data`; raises `error` when it is not one.

    A database last written in WAL mode cannot be deserialized: it is marked rollback-journal
    (the checkpointed main file is the same; pages only in a -wal file are not seen). Queries stop
    after `max_steps` progress-handler calls of 1000 VM steps each: a hard bound on hostile files.
    The caller closes the connection."""
    if len(data) < 100 or not data.startswith(MAGIC):
        raise error("not a SQLite database")
    image: bytes | bytearray = data
    if data[18] == 2 or data[19] == 2:
        image = bytearray(data)
        image[18] = image[19] = 1
    con = sqlite3.connect(":memory:")
    steps = [0]

    def progress() -> int:
        steps[0] += 1
        return 1 if steps[0] > max_steps else 0

    con.set_progress_handler(progress, 1000)
    if text_bytes:
        con.text_factory = bytes  # names in a corrupt schema need not be UTF-8
    try:
        con.deserialize(image)
        con.execute("PRAGMA query_only = ON")
        con.execute("PRAGMA trusted_schema = OFF")
    except ERRORS as e:
        con.close()
        raise error(f"unreadable SQLite database: {e}") from None
    return con
