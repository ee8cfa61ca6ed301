"""containment.server.stats on SQLite and PostgreSQL: a small hand-made fleet whose every figure is
known (worked out by hand below), so a wrong aggregate, a wrong "newest" or a day off by one fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from containment.server import stats
from containment.server.models import Decision, Image, Repository, Scan, ScoreRow
from containment.server.stats import Scope
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401

T = date(2026, 11, 20)  # "today" of the trend


def at(days_before: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(T - timedelta(days=days_before), time(hour, minute, second), UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store.open(data_dir=tmp_path / "data")
    else:
        s = Store.open(url=request.getfixturevalue("pg_url"))
    try:
        fleet(s)
        yield s
    finally:
        s.close()


def fleet(store: Store) -> None:
    """a: in reg.a:5000/team/app and /team/web, seen 40 days ago, three scans (the newest: 1 low);
    b: reg.a:5000/team/web, seen 2 days ago, one scan (3 high); c: docker.io/library/debian, seen
    yesterday, never scanned; d: no repository, seen today, never scanned."""
    with store.write() as s:
        app = Repository(name="reg.a:5000/team/app")
        web = Repository(name="reg.a:5000/team/web")
        deb = Repository(name="docker.io/library/debian")
        a = Image(digest="sha256:a", first_seen=at(40), last_seen=at(1), repositories=[app, web])
        b = Image(digest="sha256:b", first_seen=at(2), last_seen=at(2), repositories=[web])
        c = Image(digest="sha256:c", first_seen=at(1), last_seen=at(1), repositories=[deb])
        d = Image(digest="sha256:d", first_seen=at(0, 0, 0, 0), last_seen=at(0))
        s.add_all([a, b, c, d])
        s.flush()
        s.add_all(
            [
                Scan(image_id=a.id, created=at(35), critical=5),
                Scan(image_id=a.id, created=at(3, 23, 59, 59), critical=1, high=2),  # last second of T-3
                Scan(image_id=b.id, created=at(2, 0, 0, 0), high=3),  # first second of T-2
                Scan(image_id=a.id, created=at(1), low=1),
                Scan(image_id=b.id, created=at(-1), critical=9),  # tomorrow: after the trend's end
            ]
        )
        s.flush()
        s.add_all(
            [
                Decision(image_id=a.id, digest=a.digest, stage="prod", allowed=True, action="none"),
                Decision(image_id=a.id, digest=a.digest, stage="prod", allowed=False, action="quarantined"),
                Decision(image_id=a.id, digest=a.digest, stage="staging", allowed=True, action="attested"),
                Decision(image_id=b.id, digest=b.digest, stage="prod", allowed=True, action="none"),
                Decision(image_id=b.id, digest=b.digest, stage="prod", allowed=False, action="denied"),
                Decision(image_id=c.id, digest=c.digest, stage="staging", allowed=True, action="none"),
                Decision(image_id=None, digest="sha256:gone", stage="prod", allowed=True),  # no image stored
                ScoreRow(image_id=a.id, value=50, grade="C"),
                ScoreRow(image_id=a.id, value=20, grade="B"),
                ScoreRow(image_id=b.id, value=90, grade="E"),
            ]
        )


def test_counts_and_scopes(store: Store) -> None:
    with store.read() as s:
        assert stats.count_images(s, Scope()) == 4
        assert stats.count_images(s, Scope(registry="reg.a:5000")) == 2
        assert stats.count_images(s, Scope(registry="reg.a")) == 0  # a host, not a name prefix
        assert stats.count_images(s, Scope(registry="docker.io")) == 1
        assert stats.count_images(s, Scope(repository="reg.a:5000/team/web")) == 2
        assert stats.count_images(s, Scope(stage="prod")) == 2
        assert stats.count_images(s, Scope(stage="prod", status="quarantined")) == 1
        assert stats.count_images(s, Scope(stage="prod", status="allowed")) == 0  # newest, not any
        assert stats.count_images(s, Scope(stage="staging", registry="docker.io")) == 1
        assert stats.count_images(s, Scope(registry="100%_/")) == 0  # LIKE wildcards are literal
        assert stats.stage_names(s) == ["prod", "staging"]


def test_stages_from_each_images_newest_decision(store: Store) -> None:
    with store.read() as s:
        assert stats.stages(s, Scope()) == {
            "prod": {"allowed": 0, "denied": 1, "quarantined": 1},
            "staging": {"allowed": 2, "denied": 0, "quarantined": 0},
        }
        assert stats.stages(s, Scope(registry="docker.io")) == {
            "staging": {"allowed": 1, "denied": 0, "quarantined": 0}
        }
        assert stats.stages(s, Scope(stage="prod", status="denied")) == {
            "prod": {"allowed": 0, "denied": 1, "quarantined": 0}
        }


def test_repositories_grouped_by_registry(store: Store) -> None:
    with store.read() as s:
        assert stats.repositories(s, Scope()) == [
            ("reg.a:5000", 2, [("reg.a:5000/team/web", 2), ("reg.a:5000/team/app", 1)]),  # a counted once
            ("docker.io", 1, [("docker.io/library/debian", 1)]),
        ]
        assert stats.repositories(s, Scope(stage="prod", status="denied")) == [
            ("reg.a:5000", 1, [("reg.a:5000/team/web", 1)])
        ]


def test_risk_and_grades_from_the_newest(store: Store) -> None:
    with store.read() as s:
        # the newest scan by id: a's third (1 low), b's dated tomorrow (9 critical); c, d none
        assert stats.risk(s, Scope(), 4) == {
            "critical": 1,
            "high": 0,
            "medium": 0,
            "low": 1,
            "unknown": 0,
            "none": 0,
            "not scanned": 2,
        }
        assert stats.risk(s, Scope(registry="docker.io"), 1)["not scanned"] == 1
        assert stats.grades(s, Scope()) == {"B": 1, "E": 1}
        assert stats.grades(s, Scope(repository="reg.a:5000/team/app")) == {"B": 1}


def test_trend_per_day(store: Store) -> None:
    with store.read() as s:
        rows = stats.trend(s, Scope(), days=5, today=T)
    assert [r["day"] for r in rows] == [T - timedelta(days=k) for k in (4, 3, 2, 1, 0)]
    assert [r["images"] for r in rows] == [1, 1, 2, 3, 4]
    assert [r["scanned"] for r in rows] == [1, 1, 2, 2, 2]
    # T-4: a's first scan (5 critical, older than the window); T-3: a's second replaces it;
    # T-2: b's first adds 3 high; T-1: a's third (1 low) replaces a's second; tomorrow's not yet
    assert [r["critical"] for r in rows] == [5, 1, 1, 0, 0]
    assert [r["high"] for r in rows] == [0, 2, 5, 3, 3]
    assert [r["low"] for r in rows] == [0, 0, 0, 1, 1]
    assert all(r["medium"] == r["unknown"] == 0 for r in rows)


def test_trend_scoped_and_clamped(store: Store) -> None:
    with store.read() as s:
        web = stats.trend(s, Scope(repository="reg.a:5000/team/web"), days=3, today=T)
        assert [(r["images"], r["critical"], r["high"], r["low"]) for r in web] == [
            (2, 1, 5, 0),
            (2, 0, 3, 1),
            (2, 0, 3, 1),
        ]
        tomorrow = stats.trend(s, Scope(), days=1, today=T + timedelta(days=1))
        assert tomorrow[0]["critical"] == 9 and tomorrow[0]["high"] == 0  # b's newest as of T+1
        assert len(stats.trend(s, Scope(), days=10_000, today=T)) == stats.MAX_DAYS
        empty = stats.trend(s, Scope(registry="nowhere.test"), days=2, today=T)
        assert [r["images"] + r["critical"] for r in empty] == [0, 0]


def test_overview_remembered_until_a_write(store: Store) -> None:
    key = str(store.engine.url)
    with store.read() as s:
        first = stats.overview(s, Scope(), 3, key)
        assert stats.overview(s, Scope(), 3, key) is first  # nothing written: the same answer
        assert stats.overview(s, Scope(stage="prod"), 3, key) is not first
    today = first["trend"][-1]
    with store.write() as w:
        image_id = w.query(Image.id).filter(Image.digest == "sha256:c").scalar()
        w.add(Scan(image_id=image_id, created=datetime.now(UTC), medium=7))
    with store.read() as s:
        after = stats.overview(s, Scope(), 3, key)
    assert after is not first
    assert after["trend"][-1]["medium"] == today["medium"] + 7
    assert after["risk"]["medium"] == first["risk"]["medium"] + 1
    with store.write() as w:
        w.add(Decision(image_id=None, digest="sha256:c", stage="qa", allowed=True))
    with store.read() as s:
        assert "qa" in stats.overview(s, Scope(), 3, key)["stages"]


def fresh(s: Any, scope: Scope, days: int) -> dict[str, Any]:
    """Every figure of the overview computed from scratch (no memo, no patch)."""
    total = stats.count_images(s, scope)
    return {
        "total": total,
        "registries": stats.repositories(s, scope),
        "repository_count": stats.count_repositories(s, scope),
        "stages": stats.stages(s, scope),
        "risk": stats.risk(s, scope, total),
        "grades": stats.grades(s, scope),
        "stage_names": stats.stage_names(s),
        "registry_names": stats.registry_names(s),
        "trend": stats.trend(s, scope, days),
    }


SCOPES = [
    Scope(),
    Scope(stage="prod"),
    Scope(stage="prod", status="denied"),
    Scope(registry="reg.a:5000"),
    Scope(repository="reg.a:5000/team/web"),
]


def test_overview_after_writes_equals_a_fresh_computation(store: Store) -> None:
    """The remembered overview, patched or partly kept after each kind of write, is exactly what
    computing every figure afresh gives: new scans (today's, and one dated back between two
    older ones, which changes its successor's share), a new image, decisions, scores, a new
    repository link of an old image."""
    key = str(store.engine.url)
    now = datetime.now(UTC)

    def check() -> None:
        with store.read() as s:
            for scope in SCOPES:
                got = stats.overview(s, scope, 40, key)
                assert got == fresh(s, scope, 40), scope

    def ids() -> dict[str, int]:
        with store.read() as s:
            return {d: i for i, d in s.query(Image.id, Image.digest)}

    check()
    img = ids()

    def link_d_to_web(w: Any) -> None:
        d = w.get(Image, img["sha256:d"])
        d.repositories.append(w.query(Repository).filter(Repository.name == "reg.a:5000/team/web").one())

    writes: list[Any] = [
        lambda w: w.add(Scan(image_id=img["sha256:a"], created=now, high=4)),
        lambda w: w.add(Scan(image_id=img["sha256:c"], created=now, medium=2, low=1)),
        lambda w: w.add(Scan(image_id=img["sha256:a"], created=now - timedelta(days=20), critical=3)),
        lambda w: w.add(Image(digest="sha256:e", first_seen=now, last_seen=now)),
        lambda w: w.add(Decision(image_id=img["sha256:b"], digest="sha256:b", stage="prod", allowed=False)),
        lambda w: w.add(ScoreRow(image_id=img["sha256:c"], value=50.0, grade="D")),
        lambda w: w.add(Decision(image_id=None, digest="sha256:e", stage="dev", allowed=True)),
        link_d_to_web,
        lambda w: w.add(Repository(name="quay.io/other/thing")),
    ]
    for write in writes:
        with store.write() as w:
            write(w)
        check()
    with store.write() as w:  # a scan for the image added above, and another "today"
        e = w.query(Image.id).filter(Image.digest == "sha256:e").scalar()
        w.add_all([Scan(image_id=e, created=now, unknown=5), Scan(image_id=img["sha256:b"], created=now)])
    check()


def test_overview_sees_writes_of_another_process(store: Store, tmp_path: Path) -> None:
    """The CLI, a worker or another server writes the same database: this process's remembered
    figures give way on its next read (the Marks are read from the database every time)."""
    import subprocess
    import sys

    key = str(store.engine.url)
    with store.read() as s:
        before = stats.overview(s, Scope(), 3, key)
    url = store.engine.url.render_as_string(hide_password=False)
    script = (
        "import sys, datetime as d\n"
        "from containment.server.store import Store\n"
        "from containment.server.models import Image, Scan, Decision\n"
        "st = Store.open(url=sys.argv[1])\n"
        "with st.write() as w:\n"
        "    i = w.query(Image.id).filter(Image.digest == 'sha256:c').scalar()\n"
        "    w.add(Scan(image_id=i, created=d.datetime.now(d.UTC), critical=4))\n"
        "    w.add(Decision(image_id=i, digest='sha256:c', stage='prod', allowed=False, action='quarantined'))\n"
        "st.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, url], check=True, timeout=120)
    with store.read() as s:
        after = stats.overview(s, Scope(), 3, key)
        assert after == fresh(s, Scope(), 3)
    assert after["risk"]["critical"] == before["risk"]["critical"] + 1
    assert after["risk"]["not scanned"] == before["risk"]["not scanned"] - 1
    assert after["trend"][-1]["critical"] == before["trend"][-1]["critical"] + 4
    assert (
        after["stages"]["prod"]["quarantined"] == before["stages"].get("prod", {}).get("quarantined", 0) + 1
    )


def test_overview_sees_a_scan_committed_after_a_newer_one(pg_url: str) -> None:  # noqa: F811
    """PostgreSQL hands ids out at insert, not at commit: a scan inserted first (the lower id) and
    committed after a newer one leaves the highest id where it was. The row counts in the Marks
    catch it; the highest id alone would keep the overview without that scan until the next write."""
    from sqlalchemy.orm import Session

    store = Store.open(url=pg_url)
    try:
        fleet(store)
        key = str(store.engine.url)
        with store.read() as s:
            c = s.query(Image.id).filter(Image.digest == "sha256:c").scalar()
            d = s.query(Image.id).filter(Image.digest == "sha256:d").scalar()
        slow = Session(store.engine)  # a worker's transaction, still open
        slow.add(Scan(image_id=c, created=datetime.now(UTC), medium=6))
        slow.flush()  # the lower id, not committed
        with store.write() as w:
            w.add(Scan(image_id=d, created=datetime.now(UTC), low=2))  # the higher id, committed
        with store.read() as s:
            mid = stats.overview(s, Scope(), 3, key)
        assert mid["risk"]["low"] == 2 and mid["risk"]["medium"] == 0
        slow.commit()
        slow.close()
        with store.read() as s:
            after = stats.overview(s, Scope(), 3, key)
            assert after == fresh(s, Scope(), 3)
        assert after["risk"]["medium"] == 1 and after["trend"][-1]["medium"] == 6
    finally:
        store.close()
