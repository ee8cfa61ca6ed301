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


def trend(s: Session, scope: Scope, days: int = 30, today: date | None = None) -> list[dict[str, Any]]:
    """One row per day, oldest first, the last `days` days up to `today` (UTC): images known by the
    day's end, images scanned by then, and the findings by severity of each image's newest scan
    as of the day's end."""
    days = max(1, min(int(days), MAX_DAYS))
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(today + timedelta(days=1), time(), UTC)

    order = (Scan.created, Scan.id)

    def prev(col: Any) -> Any:
        return func.lag(col).over(partition_by=Scan.image_id, order_by=order)

    inner = _where(
        select(
            _day(s, Scan.created, start).label("day"),
            case((prev(Scan.id).is_(None), 1), else_=0).label("first"),
            *((getattr(Scan, k) - func.coalesce(prev(getattr(Scan, k)), 0)).label(k) for k in SEVERITIES),
        ).where(Scan.created < end),
        _in_scope(Scan.image_id, scope),
    ).subquery()
    deltas: dict[str, dict[str, int]] = {}
    for row in s.execute(
        select(inner.c.day, func.sum(inner.c.first), *(func.sum(inner.c[k]) for k in SEVERITIES)).group_by(
            inner.c.day
        )
    ):
        deltas[str(row[0])] = {
            "scanned": int(row[1] or 0),
            **{k: int(v or 0) for k, v in zip(SEVERITIES, row[2:], strict=True)},
        }
    seen_day = _day(s, Image.first_seen, start)
    known = {
        str(d): int(n)
        for d, n in s.execute(
            _where(select(seen_day, func.count()), _in_scope(Image.id, scope))
            .where(Image.first_seen < end)
            .group_by(seen_day)
        )
    }
    running = dict.fromkeys(("images", "scanned", *SEVERITIES), 0)

    def add(key: str) -> None:
        running["images"] += known.get(key, 0)
        for k, v in deltas.get(key, {}).items():
            running[k] += v

    add(_BEFORE)
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        add(d.isoformat())
        out.append({"day": d, **running})
    return out


def version(s: Session) -> tuple[Any, ...]:
    """What the aggregates depend on, read in one cheap query (primary-key maxima and two small
    counts): scans, decisions and scores are only ever appended, images and their repositories
    only added or deleted, so any write that changes a figure changes this tuple."""
    one = select(
        select(func.max(Scan.id)).scalar_subquery(),
        select(func.max(Decision.id)).scalar_subquery(),
        select(func.max(ScoreRow.id)).scalar_subquery(),
        select(func.max(Image.id)).scalar_subquery(),
        select(func.count(Image.id)).scalar_subquery(),
        select(func.count()).select_from(ImageRepository).scalar_subquery(),
    )
    return tuple(s.execute(one).one())


_MEMO: dict[tuple[Any, ...], dict[str, Any]] = {}
MEMO_SIZE = 64


def overview(s: Session, scope: Scope, days: int, key: Any = None) -> dict[str, Any]:
    """Every aggregate of the overview for `scope`, remembered per store `key` until `version`
    changes (or the day does): a dashboard is loaded again and again between writes, and on a
    fleet whose scans carry large JSON a cold computation reads a lot (SQLite reads a row's
    overflow pages to reach the severity columns stored after the JSON)."""
    today = datetime.now(UTC).date()
    k = (key, version(s), scope, days, today)
    hit = _MEMO.get(k)
    if hit is not None:
        return hit
    total = count_images(s, scope)
    out = {
        "total": total,
        "registries": repositories(s, scope),
        "repository_count": count_repositories(s, scope),
        "stages": stages(s, scope),
        "risk": risk(s, scope, total),
        "grades": grades(s, scope),
        "trend": trend(s, scope, days, today),
    }
    if len(_MEMO) >= MEMO_SIZE:
        _MEMO.clear()
    _MEMO[k] = out
    return out


__all__ = [
    "RISK_BANDS",
    "SEVERITIES",
    "STATUSES",
    "Scope",
    "count_images",
    "count_repositories",
    "grades",
    "overview",
    "registry_of",
    "repositories",
    "risk",
    "stage_names",
    "stages",
    "trend",
    "version",
]
