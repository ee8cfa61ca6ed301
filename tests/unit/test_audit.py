"""The audit trail (containment.audit): the chain on a real SQLite database, concurrent appenders,
export while a writer appends, signed checkpoints, and every kind of tampering on an exported file
detected at the first bad line (hypothesis: random edits, deletions, insertions, swaps, cuts)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from containment import audit
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401


def _engine(path: Path, immediate: bool = True) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 60, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _wal(dbapi_conn: Any, _r: Any) -> None:
        dbapi_conn.execute("PRAGMA journal_mode = WAL")

    if immediate:
        audit.sqlite_begin_immediate(engine)
    audit.create_tables(engine)
    return engine


def _fill(engine: sa.Engine, n: int, key: audit.AuditKey | None = None, every: int = 5) -> None:
    for i in range(n):
        with engine.begin() as c:
            audit.append(
                c,
                f"user{i % 3}",
                "image.put",
                f"sha256:{i:064x}",
                {"i": i, "name": "naïve ✓"},
                key=key,
                checkpoint_every=every,
            )


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _verify(data: bytes, pem: bytes | None = None) -> audit.Outcome:
    return audit.verify_stream(io.BytesIO(data), pem)


def _export(engine: sa.Engine, key: audit.AuditKey | None = None) -> bytes:
    buf = io.BytesIO()
    audit.export(engine, buf, key=key)
    return buf.getvalue()


def _rehash(line: bytes, **changes: Any) -> bytes:
    """A record line edited by someone who recomputes its hash (but cannot fix the next link)."""
    r = json.loads(line)
    r.update(changes)
    r["hash"] = audit.record_hash(r)
    return audit.canonical(r) + b"\n"


KEY = audit.AuditKey.generate()


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A signed trail of 31 records, 7 of them checkpoints."""
    engine = _engine(tmp_path_factory.mktemp("trail") / "containment.db")
    _fill(engine, 24, KEY, every=4)
    data = _export(engine, KEY)
    engine.dispose()
    return data


# ----------------------------------------------------------------------------- the canonical form


def test_canonical_form_and_hash_are_as_documented() -> None:
    assert (
        audit.canonical({"b": 1, "a": {"d": [1, 2.5], "c": "é"}})
        == '{"a":{"c":"é","d":[1,2.5]},"b":1}'.encode()
    )
    r = {
        "seq": 1,
        "time": "t",
        "actor": "a",
        "action": "x",
        "subject": "s",
        "detail": {},
        "prev_hash": audit.GENESIS,
    }
    text = (
        '{"action":"x","actor":"a","detail":{},"prev_hash":"'
        + "0" * 64
        + '","seq":1,"subject":"s","time":"t"}'
    )
    assert audit.record_hash({**r, "hash": "ignored"}) == hashlib.sha256(text.encode()).hexdigest()
    for bad in (float("nan"), float("inf"), {1j}, "\ud800"):
        with pytest.raises(audit.AuditError):
            audit.canonical({"x": bad})


# ----------------------------------------------------------------------------- appending


def test_append_chains_records_in_the_callers_transaction(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "c.db")
    with engine.begin() as c:
        first = audit.append(c, "alice", "user.add", "bob", {"role": "auditor"})
    with pytest.raises(RuntimeError), engine.begin() as c:  # the caller's change fails: no record either
        audit.append(c, "alice", "user.add", "carol", {})
        raise RuntimeError("rolled back")
    with Session(engine) as s, s.begin():  # an ORM session works the same
        second = audit.append(s, "alice", "token.create", "bob", {"scope": ["scan"]})
    assert first["seq"] == 1 and first["prev_hash"] == audit.GENESIS
    assert second["seq"] == 2 and second["prev_hash"] == first["hash"]
    assert second["hash"] == audit.record_hash(second)
    assert second["time"].endswith("Z") and "T" in second["time"]
    data = _export(engine)
    assert [json.loads(ln) for ln in _lines(data)[1:]] == [first, second]
    assert _verify(data).ok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("a", "x", "s", {"v": float("nan")}), "not plain JSON"),
        (("a", "x", "s", {"v": object()}), "not plain JSON"),
        (("a", "x", "s", ["not", "a", "dict"]), "JSON object"),
        (("a\x00", "x", "s", {}), "NUL"),
        ((1, "x", "s", {}), "must be a string"),
        (("a", audit.CHECKPOINT_ACTION, "s", {}), "checkpoint"),
    ],
)
def test_append_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, args: tuple[Any, ...], message: str
) -> None:
    engine = _engine(tmp_path / "c.db")
    with pytest.raises(audit.AuditError, match=message), engine.begin() as c:
        audit.append(c, *args)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM audit_records")).scalar() == 0


def test_define_table_puts_both_tables_on_the_callers_metadata(tmp_path: Path) -> None:
    md = sa.MetaData()
    table = audit.define_table(md)
    assert table.name == "audit_records" and set(md.tables) == {"audit_records", "audit_head"}
    assert {c.name for c in table.columns} == audit.RECORD_KEYS
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    md.create_all(engine)
    with engine.begin() as c:
        audit.append(c, "a", "x", "s", {})
    assert _verify(_export(engine)).ok


@pytest.mark.parametrize("immediate", [True, False], ids=["begin-immediate", "pysqlite-default"])
def test_concurrent_appenders_never_fork_the_chain(tmp_path: Path, immediate: bool) -> None:
    engine = _engine(tmp_path / "c.db", immediate=immediate)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(25):
                with engine.begin() as c:
                    audit.append(c, f"w{w}", "x", str(i), {"w": w, "i": i})
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    out = _verify(_export(engine))
    assert out.ok and out.records == 100, out
    with engine.connect() as c:
        seqs = [r[0] for r in c.execute(sa.text("SELECT seq FROM audit_records ORDER BY seq"))]
    assert seqs == list(range(1, 101))


def test_concurrent_appenders_on_postgresql_never_fork_the_chain(pg_url: str) -> None:  # noqa: F811
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"), pool_size=6)
    audit.create_tables(engine)
    errors: list[BaseException] = []
    exports: list[bytes] = []

    def writer(w: int) -> None:
        try:
            for i in range(25):
                with Session(engine) as s, s.begin():
                    audit.append(s, f"w{w}", "x", str(i), {"w": w, "i": i}, key=KEY, checkpoint_every=10)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        exports.append(_export(engine, KEY))  # exports taken while four writers append
    for t in threads:
        t.join()
    assert errors == []
    final = _export(engine, KEY)
    out = _verify(final, KEY.public_pem.encode())
    assert out.ok and out.records == 111 and out.checkpoints == 11, out  # 100 + one after seq 10, 20, .., 110
    for data in exports:
        assert _verify(data, KEY.public_pem.encode()).ok
        assert _lines(final)[1 : len(_lines(data))] == _lines(data)[1:]
    engine.dispose()


def test_export_while_another_thread_appends_is_a_consistent_prefix(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "c.db")
    _fill(engine, 5, KEY)
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            with engine.begin() as c:
                audit.append(c, "w", "x", str(i), {"i": i}, key=KEY, checkpoint_every=7)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        exports = []
        for _ in range(8):
            exports.append(_export(engine, KEY))
    finally:
        stop.set()
        t.join()
    final = _lines(_export(engine, KEY))
    for data in exports:
        out = _verify(data, KEY.public_pem.encode())
        assert out.ok, out
        records = _lines(data)[1:]
        assert records == final[1 : 1 + len(records)]
    assert len(final) - 1 > len(_lines(exports[0])) - 1  # the writer did write during the exports


def test_export_to_a_path_and_a_tampered_database_row(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "c.db")
    _fill(engine, 6)
    out = tmp_path / "trail.jsonl"
    assert audit.export(engine, str(out)) == 6
    assert audit.verify_file(str(out)).ok
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    with engine.begin() as c:  # someone edits the database behind the server's back
        c.execute(sa.text("UPDATE audit_records SET actor = 'mallory' WHERE seq = 4"))
    audit.export(engine, str(out))
    bad = audit.verify_file(str(out))
    assert (bad.ok, bad.line) == (False, 5) and "hash does not match" in bad.reason
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_records WHERE seq = 2"))
    audit.export(engine, str(out))
    assert audit.verify_file(str(out)).line == 3


# ----------------------------------------------------------------------------- checkpoints and keys


def test_checkpoints_every_n_records_and_on_demand(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "c.db")
    _fill(engine, 9, KEY, every=3)
    with engine.begin() as c:
        cp = audit.checkpoint(c, KEY)
    records = [json.loads(ln) for ln in _lines(_export(engine))[1:]]
    checkpoints = [r for r in records if r["action"] == audit.CHECKPOINT_ACTION]
    assert [r["detail"]["head_seq"] for r in checkpoints] == [3, 6, 9, 12, 13]
    assert checkpoints[-1] == cp and cp["detail"]["head_hash"] == records[-2]["hash"]
    assert cp["detail"]["key_id"] == KEY.key_id
    out = _verify(_export(engine, KEY), KEY.public_pem.encode())
    assert out.ok and out.checkpoints == 5 and out.key_id == KEY.key_id


def test_a_forged_checkpoint_signature_is_caught_even_with_a_good_hash(trail: bytes) -> None:
    lines = _lines(trail)
    i = next(i for i, ln in enumerate(lines) if audit.CHECKPOINT_ACTION.encode() in ln)
    r = json.loads(lines[i])
    other = audit.AuditKey.generate()
    forged = audit._checkpoint_detail(other, r["detail"]["head_seq"], r["detail"]["head_hash"])
    # the forger's own key and signature: refused because it is not the trail's key
    lines[i] = _rehash(lines[i], detail=forged)
    out = _verify(b"".join(lines[: i + 1]))
    assert (out.ok, out.line) == (False, i + 1) and "another key" in out.reason
    # the trail's key with a signature over another head: the signature does not verify
    sig = audit._checkpoint_detail(KEY, 999, r["detail"]["head_hash"])["signature"]
    lines[i] = _rehash(_lines(trail)[i], detail={**r["detail"], "signature": sig})
    out = _verify(b"".join(lines))
    assert (out.ok, out.line) == (False, i + 1) and "signature does not verify" in out.reason


def test_a_trail_resigned_with_another_key_fails_only_against_the_pinned_key(trail: bytes) -> None:
    mallory = audit.AuditKey.generate()
    records = [json.loads(ln) for ln in _lines(trail)[1:]]
    records = [r for r in records if r["action"] != audit.CHECKPOINT_ACTION][:-1]  # drop the last action
    prev, rebuilt = audit.GENESIS, []
    for seq, r in enumerate(records, 1):
        r.update(seq=seq, prev_hash=prev)
        r["hash"] = prev = audit.record_hash(r)
        rebuilt.append(audit.canonical(r) + b"\n")
    data = audit.canonical(audit.header(len(rebuilt), prev, mallory)) + b"\n" + b"".join(rebuilt)
    assert _verify(data).ok  # self-consistent: that is all an unpinned check can say
    out = _verify(data, KEY.public_pem.encode())
    assert (out.ok, out.line) == (False, 1) and "another key" in out.reason


def test_load_key_creates_a_private_0600_key_once_and_refuses_a_readable_one(tmp_path: Path) -> None:
    assert audit.load_key(tmp_path, create=False) is None
    k1 = audit.load_key(tmp_path)
    assert k1 is not None
    path = tmp_path / audit.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    k2 = audit.load_key(tmp_path)
    assert k2 is not None and k2.key_id == k1.key_id
    assert [p.name for p in tmp_path.iterdir()] == [audit.KEY_FILE]
    os.chmod(path, 0o644)
    with pytest.raises(audit.AuditError, match="chmod 600"):
        audit.load_key(tmp_path)
    os.chmod(path, 0o600)
    path.write_bytes(b"not a key")
    with pytest.raises(audit.AuditError, match="PEM private key"):
        audit.load_key(tmp_path)


def test_concurrent_first_use_yields_one_key(tmp_path: Path) -> None:
    ids: list[str] = []

    def load() -> None:
        k = audit.load_key(tmp_path)
        assert k is not None
        ids.append(k.key_id)

    threads = [threading.Thread(target=load) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 6 and len(set(ids)) == 1


# ----------------------------------------------------------------------------- tampering, one kind at a time


def test_intact_trail_verifies_with_and_without_the_pinned_key(trail: bytes) -> None:
    lines = _lines(trail)
    cps = sum(audit.CHECKPOINT_ACTION.encode() in ln for ln in lines[1:])
    assert (len(lines) - 1, cps) == (31, 7)  # 24 actions, a checkpoint after every seq divisible by 4
    for pem in (None, KEY.public_pem.encode()):
        out = _verify(trail, pem)
        assert out.ok and out.records == 31 and out.checkpoints == 7, out


def _cases(trail: bytes) -> dict[str, tuple[bytes, int, str]]:
    ls = _lines(trail)
    n = len(ls)
    shuffled = ls[1:]
    random.Random(7).shuffle(shuffled)
    first_moved = next(i for i, (a, b) in enumerate(zip(shuffled, ls[1:], strict=True)) if a != b) + 2
    return {
        "edited field": (b"".join([*ls[:3], ls[3].replace(b'"user', b'"USER', 1), *ls[4:]]), 4, "hash"),
        "edited field, hash recomputed": (
            b"".join([*ls[:3], _rehash(ls[3], actor="x"), *ls[4:]]),
            5,
            "prev_hash",
        ),
        "deleted record": (b"".join([*ls[:8], *ls[9:]]), 9, "missing"),
        "deleted last record": (b"".join(ls[:-1]), n, "ends at seq"),
        "inserted record": (b"".join([*ls[:4], ls[10], *ls[4:]]), 5, "seq 10 follows seq 3"),
        "duplicated record": (b"".join([*ls[:4], ls[3], *ls[4:]]), 5, "inserted"),
        "swapped records": (b"".join([*ls[:3], ls[4], ls[3], *ls[5:]]), 4, "missing or moved"),
        "truncated last line": (trail[:-10], n, "cut short"),
        "last newline removed": (trail[:-1], n, "cut short"),
        "reordered file": (ls[0] + b"".join(shuffled), first_moved, "seq"),
        "header removed": (b"".join(ls[1:]), 1, "not the trail's header"),
        "header edited": (
            ls[0].replace(b'"head_seq":31', b'"head_seq":30') + b"".join(ls[1:]),
            1,
            "signature",
        ),
        "appended record": (
            trail + _rehash(ls[-1], seq=32, prev_hash=json.loads(ls[-1])["hash"]),
            n + 1,
            "past",
        ),
        "whitespace added": (b"".join([*ls[:2], ls[2].replace(b",", b", ", 1), *ls[3:]]), 3, "canonical"),
        "crlf line ends": (trail.replace(b"\n", b"\r\n"), 1, "canonical"),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "edited field",
        "edited field, hash recomputed",
        "deleted record",
        "deleted last record",
        "inserted record",
        "duplicated record",
        "swapped records",
        "truncated last line",
        "last newline removed",
        "reordered file",
        "header removed",
        "header edited",
        "appended record",
        "whitespace added",
        "crlf line ends",
    ],
)
def test_each_kind_of_tampering_names_the_first_bad_line(trail: bytes, kind: str) -> None:
    data, line, words = _cases(trail)[kind]
    out = _verify(data)
    assert (out.ok, out.line, out.not_a_trail) == (False, line, False), out
    assert words in out.reason, out.reason


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\x01binary\xff\n", b"[1, 2]\n", b'{"format": "something-else"}\n', b"hello world", b"\n\n"],
)
def test_a_file_that_is_no_audit_trail_says_so(data: bytes) -> None:
    out = _verify(data)
    assert (out.ok, out.not_a_trail, out.line) == (False, True, 1), out


def test_a_pinned_key_that_is_no_p256_public_key_is_refused(trail: bytes) -> None:
    with pytest.raises(audit.AuditError):
        _verify(trail, b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


def test_an_unsigned_header_refused_when_a_key_is_pinned(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "c.db")
    _fill(engine, 3)
    data = _export(engine)
    assert _verify(data).ok
    out = _verify(data, KEY.public_pem.encode())
    assert (out.ok, out.line) == (False, 1) and "not signed" in out.reason


# ----------------------------------------------------------------------------- hypothesis: random tampering


def _first_difference(a: list[bytes], b: list[bytes]) -> int:
    for i in range(max(len(a), len(b))):
        if i >= len(a) or i >= len(b) or a[i] != b[i]:
            return i + 1
    raise AssertionError("not tampered")


@st.composite
def tampering(draw: st.DrawFn, n: int) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["edit", "delete", "insert", "swap", "cut"]))
    i = draw(st.integers(0, n - 1))
    if kind == "edit":
        return kind, (
            i,
            draw(st.integers(0, 10_000)),
            draw(st.text(min_size=0, max_size=3)),
            draw(st.integers(0, 3)),
        )
    if kind == "insert":
        return kind, (i, draw(st.integers(0, n - 1)), draw(st.booleans()))
    if kind == "swap":
        return kind, (i, draw(st.integers(0, n - 1).filter(lambda j: j != i)))
    return kind, (i, draw(st.integers(1, 10_000)))


def _tamper(lines: list[bytes], kind: str, args: Any) -> list[bytes]:
    ls = list(lines)
    if kind == "edit":
        i, pos, text, cut = args
        s = ls[i].decode()
        pos %= len(s)
        ls[i] = (s[:pos] + text + s[pos + cut :]).encode()
    elif kind == "delete":
        del ls[args[0]]
    elif kind == "insert":
        i, j, garbage = args
        ls.insert(i, b'{"seq":1}\n' if garbage else ls[j])
    elif kind == "swap":
        i, j = args
        ls[i], ls[j] = ls[j], ls[i]
    else:  # cut the file short somewhere
        data = b"".join(ls)
        ls = _lines(data[: max(0, len(data) - args[1])])
    return ls


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_tampering_is_detected_at_the_first_changed_line(trail: bytes, data: st.DataObject) -> None:
    lines = _lines(trail)
    kind, args = data.draw(tampering(len(lines)))
    tampered = _tamper(lines, kind, args)
    joined = b"".join(tampered)
    if joined == trail:
        return  # an edit that changed nothing (e.g. a character replaced by itself)
    out = _verify(joined)
    assert not out.ok, (kind, args)
    expected = _first_difference(_lines(trail), _lines(joined))
    if out.not_a_trail:  # the header itself became something else: exit 2, at line 1
        assert expected == 1, (kind, args, out)
    else:
        assert out.line == expected, (kind, args, out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000) | st.text(max_size=500).map(str.encode))
def test_arbitrary_bytes_never_crash_verify(blob: bytes) -> None:
    out = _verify(blob)
    assert not out.ok and out.line >= 1


def test_hostile_lines_are_refused_at_their_line(trail: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    ls = _lines(trail)
    for hostile in (
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        b'{"seq":' + b"9" * 5000 + b"}\n",
        b"\xff\xfe\n",
    ):
        out = _verify(b"".join([*ls[:3], hostile, *ls[3:]]))
        assert (out.ok, out.line, out.not_a_trail) == (False, 4, False), out
    out = _verify(b"[" * 100_000 + b"\n")  # as the header: no trail at all
    assert (out.ok, out.line, out.not_a_trail) == (False, 1, True)
    monkeypatch.setattr(audit, "MAX_LINE", 200)  # a line longer than the limit is not read whole
    out = _verify(trail)
    assert (out.ok, out.line) == (False, 1) and "longer than 200 bytes" in out.reason
