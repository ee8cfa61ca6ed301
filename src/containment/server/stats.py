"""Aggregate read queries behind the dashboard's fleet overview, the same on SQLite and PostgreSQL.

Every figure is one SQL aggregate (GROUP BY, a window function), never a loop over images in
Python, so the overview stays fast with thousands of images and many scans each:

- `stages`: images by stage, from each image's newest decision per stage (allowed / denied /
  quarantined);
- `repositories`: images per repository, grouped by registry host;
- `risk` and `grades`: the worst severity of each image's newest scan, the newest score's grade;
- `trend`: per day over the last N days, the images known and the findings by severity of each
  image's newest scan *as of that day*. One pass over the scans: each scan adds its counts on its
  day and takes away its predecessor's (``LAG`` over the image's scans), and a running sum over
  the days gives the fleet's open findings on every day, however many scans each image has.

`overview` remembers them per process until the database's `Marks` (each table's highest id and
row count, one cheap query per call) say a table they read was written, by any process, and then
patches the trend with the new scans instead of reading every scan again.

A `Scope` (stage, status, registry, repository: the overview's GET filters) narrows every figure
to the images it selects. "Newest" means the highest id for decisions and scores (the order they
were written), and the latest ``created`` (then id) for scans in the trend, which asks "as of".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.orm import Session

from containment.server.models import Decision, Image, ImageRepository, Repository, Scan, ScoreRow

SEVERITIES = ("critical", "high", "medium", "low", "unknown")
RISK_BANDS = (*SEVERITIES, "none", "not scanned")
STATUSES = ("allowed", "denied", "quarantined")
MAX_DAYS = 366
_Q = TypeVar("_Q", bound=Select)  # type: ignore[type-arg]
_BEFORE = "0000-00-00"  # the trend's bucket for everything older than its first day


@dataclass(frozen=True)
class Scope:
    """Which images a figure counts: all of them, or those the overview's filters select."""

    stage: str = ""
    status: str = ""  # with stage: the status of the image's newest decision at that stage
    registry: str = ""  # a registry host: its repositories are named "host/…"
    repository: str = ""

    def image_ids(self) -> Select[Any] | None:
        """A SELECT of the ids of the images in scope (None: every image)."""
        conds = []
        if self.repository:
            conds.append(
                Image.id.in_(
                    select(ImageRepository.image_id)
                    .join(Repository, Repository.id == ImageRepository.repository_id)
                    .where(Repository.name == self.repository)
                )
            )
        if self.registry:
            conds.append(
                Image.id.in_(
                    select(ImageRepository.image_id)
                    .join(Repository, Repository.id == ImageRepository.repository_id)
                    .where(Repository.name.startswith(self.registry + "/", autoescape=True))
                )
            )
        if self.stage:
            newest = (
                select(func.max(Decision.id)).where(Decision.stage == self.stage).group_by(Decision.digest)
            )
            at_stage = select(Decision.digest).where(Decision.id.in_(newest))
            if self.status:
                at_stage = at_stage.where(_status() == self.status)
            conds.append(Image.digest.in_(at_stage))
        if not conds:
            return None
        return select(Image.id).where(and_(*conds))


def _status() -> Any:
    return case(
        (Decision.action == "quarantined", literal("quarantined")),
        (Decision.allowed.is_(True), literal("allowed")),
        else_=literal("denied"),
    )


def _in_scope(column: Any, scope: Scope) -> Any:
    ids = scope.image_ids()
    return None if ids is None else column.in_(ids)


def _where(q: _Q, cond: Any) -> _Q:
    return q if cond is None else q.where(cond)


def count_images(s: Session, scope: Scope) -> int:
    return int(s.scalar(_where(select(func.count(Image.id)), _in_scope(Image.id, scope))) or 0)


def stage_names(s: Session, limit: int = 200) -> list[str]:
    """Every stage a decision names (the filter form's choices)."""
    q = select(Decision.stage).where(Decision.stage != "").distinct().order_by(Decision.stage).limit(limit)
    return [str(x) for x in s.scalars(q)]


def stages(s: Session, scope: Scope) -> dict[str, dict[str, int]]:
    """stage -> {allowed, denied, quarantined}: stored images counted by their newest decision there."""
    images = _where(select(Image.digest), _in_scope(Image.id, scope))
    newest = (
        select(func.max(Decision.id))
        .where(Decision.digest.in_(images))
        .group_by(Decision.digest, Decision.stage)
    )
    status = _status()
    out: dict[str, dict[str, int]] = {}
    for stage, st, n in s.execute(
        select(Decision.stage, status, func.count())
        .where(Decision.id.in_(newest))
        .group_by(Decision.stage, status)
        .order_by(Decision.stage)
    ):
        out.setdefault(str(stage), dict.fromkeys(STATUSES, 0))[str(st)] = int(n)
    return out


def registry_of(repository: str) -> str:
    """The registry host of a stored repository name (the store names them "host/path")."""
    first, sep, _ = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def repositories(s: Session, scope: Scope, limit: int = 1000) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """[(registry, images, [(repository, images), …])], biggest first. An image in two
    repositories of one registry counts once for the registry."""
    cond = _in_scope(ImageRepository.image_id, scope)
    n = func.count(ImageRepository.image_id)
    rows = s.execute(
        _where(
            select(Repository.name, n).join(ImageRepository, ImageRepository.repository_id == Repository.id),
            cond,
        )
        .group_by(Repository.id, Repository.name)
        .order_by(n.desc(), Repository.name)
        .limit(limit)
    ).all()
    host = _host(s, Repository.name)
    distinct = func.count(func.distinct(ImageRepository.image_id))
    per_registry = {
        str(h): int(k)
        for h, k in s.execute(
            _where(
                select(host, distinct).join(ImageRepository, ImageRepository.repository_id == Repository.id),
                cond,
            ).group_by(host)
        )
    }
    grouped: dict[str, list[tuple[str, int]]] = {}
    for name, k in rows:
        grouped.setdefault(registry_of(str(name)), []).append((str(name), int(k)))
    out = [(reg, per_registry.get(reg, sum(k for _, k in repos)), repos) for reg, repos in grouped.items()]
    return sorted(out, key=lambda x: (-x[1], x[0]))


def count_repositories(s: Session, scope: Scope) -> int:
    """Repositories holding at least one image in scope."""
    q = select(func.count(func.distinct(ImageRepository.repository_id)))
    return int(s.scalar(_where(q, _in_scope(ImageRepository.image_id, scope))) or 0)


def _host(s: Session, name: Any) -> Any:
    """SQL: the part of a repository name before its first '/' (the store always writes one)."""
    if s.get_bind().dialect.name == "postgresql":
        return func.split_part(name, "/", 1)
    return func.substr(name, 1, func.instr(name, "/") - 1)


def risk(s: Session, scope: Scope, total: int) -> dict[str, int]:
    """Worst severity of each image's newest scan -> images; images never scanned as 'not scanned'."""
    newest = _where(select(func.max(Scan.id)), _in_scope(Scan.image_id, scope)).group_by(Scan.image_id)
    band = case(
        (Scan.critical > 0, literal("critical")),
        (Scan.high > 0, literal("high")),
        (Scan.medium > 0, literal("medium")),
        (Scan.low > 0, literal("low")),
        (Scan.unknown > 0, literal("unknown")),
        else_=literal("none"),
    )
    out = dict.fromkeys(RISK_BANDS, 0)
    for b, n in s.execute(select(band, func.count()).where(Scan.id.in_(newest)).group_by(band)):
        out[str(b)] = int(n)
    out["not scanned"] = max(0, total - sum(v for k, v in out.items() if k != "not scanned"))
    return out


def grades(s: Session, scope: Scope) -> dict[str, int]:
    """Grade of each image's newest risk score -> images."""
    newest = _where(select(func.max(ScoreRow.id)), _in_scope(ScoreRow.image_id, scope)).group_by(
        ScoreRow.image_id
    )
    q = (
        select(ScoreRow.grade, func.count())
        .where(ScoreRow.id.in_(newest))
        .group_by(ScoreRow.grade)
        .order_by(ScoreRow.grade)
    )
    return {str(g or "?"): int(n) for g, n in s.execute(q)}


def _day(s: Session, column: Any, start: datetime) -> Any:
    """SQL: the UTC day of a timestamp as 'YYYY-MM-DD', or _BEFORE when older than `start`."""
    if s.get_bind().dialect.name == "postgresql":
        day = func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    else:  # SQLite keeps UTC timestamps as text: "YYYY-MM-DD HH:MM:SS…"
        day = func.substr(column, 1, 10)
    return case((column < start, literal(_BEFORE)), else_=day)


def _window(days: int, today: date | None) -> tuple[int, date, datetime, datetime]:
    """(days, first day, its start, the end of `today`) of a trend, days clamped to 1..MAX_DAYS."""
    days = max(1, min(int(days), MAX_DAYS))
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    return (
        days,
        first,
        datetime.combine(first, time(), UTC),
        datetime.combine(today + timedelta(days=1), time(), UTC),
    )


Deltas = dict[
    str, list[int]
]  # day (or _BEFORE) -> [images first scanned, critical, high, medium, low, unknown]


def _deltas(
    s: Session, scope: Scope, start: datetime, end: datetime, images: Any = None, upto: int | None = None
) -> Deltas:
    """Per day, what each scan changes in its image's open findings (its counts minus its
    predecessor's, ``LAG`` over the image's scans) and the images scanned for the first time.
    `images` (a collection of image ids) and `upto` (the highest scan id counted) narrow it to
    some images' scans as of some write: their share of the fleet's deltas (_TrendState)."""
    order = (Scan.created, Scan.id)

    def prev(col: Any) -> Any:
        return func.lag(col).over(partition_by=Scan.image_id, order_by=order)

    q = select(
        _day(s, Scan.created, start).label("day"),
        case((prev(Scan.id).is_(None), 1), else_=0).label("first"),
        *((getattr(Scan, k) - func.coalesce(prev(getattr(Scan, k)), 0)).label(k) for k in SEVERITIES),
    ).where(Scan.created < end)
    if images is not None:
        q = q.where(Scan.image_id.in_(list(images)))
    if upto is not None:
        q = q.where(Scan.id <= upto)
    inner = _where(q, _in_scope(Scan.image_id, scope)).subquery()
    out: Deltas = {}
    for row in s.execute(
        select(inner.c.day, func.sum(inner.c.first), *(func.sum(inner.c[k]) for k in SEVERITIES)).group_by(
            inner.c.day
        )
    ):
        out[str(row[0])] = [int(v or 0) for v in row[1:]]
    return out


def _known(
    s: Session, scope: Scope, start: datetime, end: datetime, after: int = 0, upto: int | None = None
) -> dict[str, int]:
    """Images first seen per day (ids in (`after`, `upto`]): the trend's 'images' column."""
    seen_day = _day(s, Image.first_seen, start)
    q = _where(select(seen_day, func.count()), _in_scope(Image.id, scope)).where(Image.first_seen < end)
    if after:
        q = q.where(Image.id > after)
    if upto is not None:
        q = q.where(Image.id <= upto)
    return {str(d): int(n) for d, n in s.execute(q.group_by(seen_day))}


def _running(deltas: Deltas, known: dict[str, int], first: date, days: int) -> list[dict[str, Any]]:
    running = dict.fromkeys(("images", "scanned", *SEVERITIES), 0)
    keys = ("scanned", *SEVERITIES)

    def add(key: str) -> None:
        running["images"] += known.get(key, 0)
        for k, v in zip(keys, deltas.get(key, ()), strict=False):
            running[k] += v

    add(_BEFORE)
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        add(d.isoformat())
        out.append({"day": d, **running})
    return out


def trend(s: Session, scope: Scope, days: int = 30, today: date | None = None) -> list[dict[str, Any]]:
    """One row per day, oldest first, the last `days` days up to `today` (UTC): images known by the
    day's end, images scanned by then, and the findings by severity of each image's newest scan
    as of the day's end."""
    days, first, start, end = _window(days, today)
    return _running(_deltas(s, scope, start, end), _known(s, scope, start, end), first, days)


@dataclass(frozen=True)
class Marks:
    """What the aggregates depend on, read in one cheap query: the highest id and the number of
    rows of each table the overview reads (scans, decisions and scores are only ever appended,
    images and their repository links only added). The highest id alone would not do on
    PostgreSQL: ids are handed out when a row is inserted, not when it is committed, so a scan
    committed after a higher-numbered one would leave the maximum where it was; the count moves."""

    scans: int
    n_scans: int
    decisions: int
    n_decisions: int
    scores: int
    n_scores: int
    images: int
    n_images: int
    links: int
    repositories: int
    n_repositories: int


def version(s: Session) -> Marks:
    """The store's Marks now (any write that changes a figure changes them)."""

    def hi(col: Any) -> Any:
        return select(func.coalesce(func.max(col), 0)).scalar_subquery()

    def n(col: Any) -> Any:
        return select(func.count(col)).scalar_subquery()

    one = select(
        hi(Scan.id),
        n(Scan.id),
        hi(Decision.id),
        n(Decision.id),
        hi(ScoreRow.id),
        n(ScoreRow.id),
        hi(Image.id),
        n(Image.id),
        select(func.count()).select_from(ImageRepository).scalar_subquery(),
        hi(Repository.id),
        n(Repository.id),
    )
    return Marks(*(int(x or 0) for x in s.execute(one).one()))


PATCH_MAX = 500  # more new scans than this: the trend is computed afresh (as cheap by then)


@dataclass(frozen=True)
class _TrendState:
    """A trend's per-day deltas and images known, as of `marks`: after a write, only the images
    that got new scans are computed again (their share as of the old marks taken away, as of the
    new ones added), so a fleet's first overview after a scan costs its new scans, not its history."""

    marks: Marks
    deltas: Deltas
    known: dict[str, int]

    def patched(
        self, s: Session, scope: Scope, marks: Marks, start: datetime, end: datetime
    ) -> _TrendState | None:
        """The state as of `marks`, or None when a patch cannot be trusted (compute afresh)."""
        old = self.marks
        if marks.scans < old.scans or marks.images < old.images:
            return None
        if scope.stage and (marks.decisions, marks.n_decisions) != (old.decisions, old.n_decisions):
            return None  # the images in scope may have changed, not only the new scans' images
        if (scope.registry or scope.repository) and marks.links != old.links:
            return None
        new_scans = select(Scan.image_id).where(Scan.id > old.scans, Scan.id <= marks.scans)
        new_images = select(func.count(Image.id)).where(Image.id > old.images, Image.id <= marks.images)
        n_new, n_img = s.execute(
            select(
                select(func.count()).select_from(new_scans.subquery()).scalar_subquery(),
                new_images.scalar_subquery(),
            )
        ).one()
        # every row counted before is still there and nothing arrived below the old marks
        if old.n_scans + int(n_new) != marks.n_scans or old.n_images + int(n_img) != marks.n_images:
            return None
        if n_new > PATCH_MAX:
            return None
        deltas = {k: list(v) for k, v in self.deltas.items()}
        if n_new:
            ids = set(s.scalars(new_scans.distinct()))
            for sign, upto in ((-1, old.scans), (1, marks.scans)):
                for day, row in _deltas(s, scope, start, end, ids, upto).items():
                    acc = deltas.setdefault(day, [0] * len(row))
                    for i, v in enumerate(row):
                        acc[i] += sign * v
        known = dict(self.known)
        if n_img:
            for day, k in _known(s, scope, start, end, old.images, marks.images).items():
                known[day] = known.get(day, 0) + k
        return _TrendState(marks, deltas, known)


@dataclass
class _Entry:
    marks: Marks
    figures: dict[str, Any]
    trend: _TrendState


# the tables (Marks) each figure reads besides the images and the scope's own
_REPOS = ("links", "repositories", "n_repositories")
_DEPENDS: dict[str, tuple[str, ...]] = {
    "total": (),
    "registries": _REPOS,
    "repository_count": _REPOS,
    "registry_names": _REPOS,
    "stages": ("decisions", "n_decisions"),
    "stage_names": ("decisions", "n_decisions"),
    "risk": ("scans", "n_scans"),
    "grades": ("scores", "n_scores"),
}
_MEMO: dict[tuple[Any, ...], _Entry] = {}
MEMO_SIZE = 64


def snapshot(s: Session) -> None:
    """Make the rest of `s`'s transaction read one snapshot of the database (PostgreSQL: REPEATABLE
    READ; SQLite's read transactions are one already), so the Marks and the figures read after
    them agree. Call it before the transaction's first statement."""
    if s.get_bind().dialect.name == "postgresql":
        s.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def overview(s: Session, scope: Scope, days: int, key: Any = None) -> dict[str, Any]:
    """Every aggregate of the overview for `scope`, remembered per store `key` until the store's
    Marks change (or the day does): a dashboard is loaded again and again between writes. After a
    write the trend is patched with the new scans (_TrendState) rather than computed again over
    every scan, the costliest figure by far; the others are computed again only when a table
    they read was written (a new scan leaves the stages, grades and repositories as they were).

    Safe when other processes write: the Marks are read from the database on every call, before
    the figures, and every figure is bounded by them or newer (never older) than them; a figure
    is kept only while the Marks of every table it reads (_DEPENDS, and the scope's) are equal."""
    days, first, start, end = _window(days, None)
    marks = version(s)
    k = (key, scope, days, first)
    hit = _MEMO.get(k)
    if hit is not None and hit.marks == marks:
        return hit.figures
    state = hit.trend.patched(s, scope, marks, start, end) if hit is not None else None
    if state is None:
        state = _TrendState(
            marks,
            _deltas(s, scope, start, end, upto=marks.scans),
            _known(s, scope, start, end, upto=marks.images),
        )
    scoped: tuple[str, ...] = ("images", "n_images")
    if scope.stage:
        scoped += ("decisions", "n_decisions")
    if scope.registry or scope.repository:
        scoped += ("links", "repositories", "n_repositories")

    def kept(name: str) -> bool:
        return hit is not None and all(
            getattr(hit.marks, m) == getattr(marks, m) for m in (*scoped, *_DEPENDS[name])
        )

    out: dict[str, Any] = {}
    compute: dict[str, Any] = {
        "total": lambda: count_images(s, scope),
        "registries": lambda: repositories(s, scope),
        "repository_count": lambda: count_repositories(s, scope),
        "stages": lambda: stages(s, scope),
        "risk": lambda: risk(s, scope, out["total"]),
        "grades": lambda: grades(s, scope),
        "stage_names": lambda: stage_names(s),
        "registry_names": lambda: registry_names(s),
    }
    for name, fn in compute.items():  # in order: risk reads the total
        out[name] = hit.figures[name] if hit is not None and kept(name) else fn()
    out["trend"] = _running(state.deltas, state.known, first, days)
    if len(_MEMO) >= MEMO_SIZE:
        _MEMO.clear()
    _MEMO[k] = _Entry(marks, out, state)
    return out


def registry_names(s: Session, limit: int = 5000) -> list[str]:
    """Every registry a stored repository is in (the filter form's choices)."""
    names = s.scalars(select(Repository.name).order_by(Repository.name).limit(limit))
    return sorted({registry_of(str(n)) for n in names})


__all__ = [
    "RISK_BANDS",
    "SEVERITIES",
    "STATUSES",
    "Marks",
    "Scope",
    "count_images",
    "count_repositories",
    "grades",
    "overview",
    "registry_names",
    "registry_of",
    "repositories",
    "risk",
    "snapshot",
    "stage_names",
    "stages",
    "trend",
    "version",
]
