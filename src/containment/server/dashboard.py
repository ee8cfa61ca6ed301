"""The dashboard: server-rendered HTML pages (Jinja2, autoescape on, no JavaScript).

Pages (who may see each: authz.OPERATIONS, enforced by the middleware before here):

- `GET /ui` fleet overview (aggregates: containment.server.stats): counts, images by stage (each
  image's newest decision there: allowed / denied / quarantined), by registry and repository,
  risk distribution (the worst severity of each image's latest scan, the latest score's grade)
  as SVG bars with the numbers in text, the trend of open findings per day (`?days=N`, 30), a
  paginated image list (`?page=N`); every figure narrowed by the GET filters `?stage=`,
  `?status=allowed|denied|quarantined` (with a stage), `?registry=HOST`, `?repository=NAME`;
- `GET /ui/images/{digest}` one image: tags, layers, packages (paginated, `?page=N`), the latest
  scan's counts, findings with fix advice (from the findings provider when the server has one,
  else those the re-evaluation stored in the newest scan, else the stored score's contributions
  and actions), score breakdown, signatures, gate history;
- `GET /ui/images/{digest}/report` the same, laid out to print (print CSS, no navigation);
- `GET /ui/audit` the audit trail, newest first, filtered by actor, action, subject (or its
  beginning) and date (`?actor=`, `?action=`, `?subject=`, `?since=YYYY-MM-DD`,
  `?until=YYYY-MM-DD`), paged by sequence number
  (`?before=SEQ`: keyset pagination on the primary key, constant cost on any page);
- `GET /ui/login` + `POST /ui/login` a plain HTML form that sets the same session cookie as
  `POST /api/v1/login`; `POST /ui/logout` clears it. A bearer token works on every page too.
  Both forms carry a token against cross-site request forgery, checked before anything else
  (a missing or wrong one: 400, the page again with a fresh form, nothing changed; not 403,
  which the server keeps for "your role may not call this", as the governance forms do). Signing in
  has no session yet, so its token is a double-submit one: `GET /ui/login` sets a random value
  in an HttpOnly, SameSite=Strict cookie scoped to /ui/login and writes the same value in the
  form; the POST must bring both, equal. A page on another site can make a browser post the
  form but can neither read nor set that cookie, so it cannot sign a victim in as the attacker.
  Signing out takes the session's own form token (`csrf_token`, as every governance form).
- `GET /ui/dashboard.css`, `GET /ui/print.css` the style sheets.

Findings are computed, not stored: when `app.state.findings` is set (a callable taking the image
digest and returning containment.model.Finding objects, or mappings with the same keys), the image
page lists them; otherwise those containment.server.reevaluate computed for the newest scan.

Every value reaches HTML through Jinja2's autoescape; nothing in a page is built by string
concatenation. Queries are bounded (LIMIT on every list) and use indexed columns or primary keys.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from containment.server import stats
from containment.server.authz import SESSION_COOKIE, credential


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    from anyio import to_thread

    await to_thread.run_sync(warm, getattr(app.state, "store", None))
    yield


router = APIRouter(prefix="/ui", tags=["dashboard"], lifespan=_lifespan)

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50
PACKAGE_PAGE = 200
FINDINGS_SHOWN = 500
AUDIT_PAGE = 100
MAX_PAGE = 100_000
TREND_DAYS = 30
REPOS_SHOWN = 12  # per registry on the overview; the repository filter finds the others
BAR_WIDTH = 240
SEVERITIES = stats.SEVERITIES
RISK_BANDS = stats.RISK_BANDS
AUDIT_READERS = ("auditor", "security", "admin")
LOGIN_COOKIE = "containment_login"  # the sign-in form's double-submit token (no session yet)
_LOGIN_TOKEN = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")  # secrets.token_urlsafe(32)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
HTML = {"text/html": {"schema": {"type": "string"}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "an HTML page", "content": HTML},
    401: {"description": "no, or an unknown, token or session"},
    403: {"description": "the caller's role may not see this page"},
    404: {"description": "no such image", "content": HTML},
    422: {"description": "a query parameter is out of range"},
}


@cache
def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value escaped, whatever the template's name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["short"] = _short
    env.filters["combine"] = lambda d, **kw: {**d, **kw}
    env.globals["severities"] = SEVERITIES
    env.globals["qs"] = _qs
    return env


def warm(store: Any) -> None:
    """Ready the pages before the first visitor (the app's start, dashboard router's lifespan):
    every template compiled, the fleet overview's aggregates computed and an image page's queries
    run once (SQLAlchemy compiles each statement on first use). A cold server answered its first
    overview in ~300-400 ms with 1,000 images, its later ones in ~40 ms. Never fatal: a page
    that cannot be readied now says why when it is asked for."""
    env = _env()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    if getattr(store, "engine", None) is None:
        return  # a store double: nothing to read ahead
    try:
        fleet(store, 1, stats.Scope())
        from sqlalchemy import select

        from containment.server.models import Image

        with store.read() as s:
            digest = s.scalar(select(Image.digest).order_by(Image.id.desc()).limit(1))
        if digest is not None:
            image_detail(store, digest, 1)
    except Exception as e:  # noqa: BLE001 - a warm-up only; the page itself reports the problem
        logging.getLogger("containment.server").warning("dashboard not readied at start: %s", e)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        t = value if value.tzinfo else value.replace(tzinfo=UTC)
        return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value or "")


def _short(value: Any, n: int = 19) -> str:
    s = str(value or "")
    return s if len(s) <= n else s[:n] + "…"


NAV = (
    ("/ui", "Fleet"),
    ("/ui/policies", "Policies"),
    ("/ui/exceptions", "Exceptions"),
    ("/ui/audit", "Audit trail"),
)


def nav_for(role: str | None) -> list[tuple[str, str]]:
    """The main navigation: the pages the authz table lets this role see (a page not served yet,
    absent from the table, is left out)."""
    from containment.server.authz import OPERATIONS

    if role is None:
        return []
    return [(href, label) for href, label in NAV if role in OPERATIONS.get(("GET", href), ())]


def csrf_token(request: Request) -> str:
    """The form token of this session ("" for a bearer-token caller: no cookie, no forgery):
    HMAC-SHA256 keyed by the session cookie's own secret value, which a page from another site
    cannot read (the cookie is also SameSite=Strict: this is the second lock)."""
    if request.headers.get("authorization"):
        return ""
    cookie = credential(list(request.scope.get("headers", []))) or ""
    return hmac.new(cookie.encode("utf-8", "surrogatepass"), b"containment form", hashlib.sha256).hexdigest()


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    who = getattr(request.state, "principal", None)
    html = (
        _env()
        .get_template(template)
        .render(
            user=who,
            can_audit=who is not None and who.role in AUDIT_READERS,
            nav=nav_for(who.role if who is not None else None),
            path=request.url.path,
            session_csrf=csrf_token(request) if who is not None else "",
            **ctx,
        )
    )
    return HTMLResponse(
        html,
        status,
        headers={
            # no script anywhere: a strict policy makes an escaping slip harmless
            "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "x-content-type-options": "nosniff",
            "referrer-policy": "same-origin",
            "cache-control": "no-store",
        },
    )


def _store(request: Request) -> Any:
    return request.app.state.store


registry_of = stats.registry_of


def worst(counts: Mapping[str, Any] | None) -> str:
    if counts is None:
        return "not scanned"
    for sev in SEVERITIES:
        if int(counts.get(sev, 0) or 0) > 0:
            return sev
    return "none"


# ------------------------------------------------------------------------------ queries


def fleet(store: Any, page: int, scope: stats.Scope, days: int = TREND_DAYS) -> dict[str, Any]:
    """The overview: aggregates from containment.server.stats, and one page of the image list."""
    from sqlalchemy import func, select

    from containment.server.models import Image, Repository, Scan, ScoreRow, Tag

    with store.read() as s:
        stats.snapshot(s)
        agg = stats.overview(s, scope, days, key=str(store.engine.url))
        total, registries, trend = agg["total"], agg["registries"], agg["trend"]
        repository_count, stage_counts = agg["repository_count"], agg["stages"]
        risk, grades = agg["risk"], agg["grades"]
        ids_in_scope = scope.image_ids()
        q = select(Image)
        if ids_in_scope is not None:
            q = q.where(Image.id.in_(ids_in_scope))
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(page, pages)
        imgs = list(
            s.scalars(
                q.order_by(Image.last_seen.desc(), Image.id.desc())
                .limit(PAGE_SIZE)
                .offset((page - 1) * PAGE_SIZE)
            )
        )
        ids = [i.id for i in imgs]
        # the severity columns only: a re-evaluated scan's JSON holds every finding of the image
        scans: dict[int, dict[str, int]] = {}
        scores: dict[int, Any] = {}
        tags: dict[int, list[str]] = {}
        if ids:
            newest_scan = select(func.max(Scan.id)).where(Scan.image_id.in_(ids)).group_by(Scan.image_id)
            cols = [getattr(Scan, k) for k in SEVERITIES]
            for image_id, *counts in s.execute(select(Scan.image_id, *cols).where(Scan.id.in_(newest_scan))):
                scans[image_id] = dict(zip(SEVERITIES, (int(c or 0) for c in counts), strict=True))
            newest_score = (
                select(func.max(ScoreRow.id)).where(ScoreRow.image_id.in_(ids)).group_by(ScoreRow.image_id)
            )
            for image_id, value, grade in s.execute(
                select(ScoreRow.image_id, ScoreRow.value, ScoreRow.grade).where(ScoreRow.id.in_(newest_score))
            ):
                scores[image_id] = {"value": value, "grade": grade}
            for image_id, repo, tag in s.execute(
                select(Tag.image_id, Repository.name, Tag.name)
                .join(Repository, Repository.id == Tag.repository_id)
                .where(Tag.image_id.in_(ids))
                .order_by(Repository.name, Tag.name)
            ):
                tags.setdefault(image_id, []).append(f"{repo}:{tag}")
        rows = []
        for i in imgs:
            counts = scans.get(i.id)
            rows.append(
                {
                    "digest": i.digest,
                    "os": i.os,
                    "source": i.source,
                    "tags": tags.get(i.id, []),
                    "last_seen": i.last_seen,
                    "counts": counts,
                    "risk": worst(counts),
                    "score": scores.get(i.id),
                }
            )
        choices = {"stages": agg["stage_names"], "registries": agg["registry_names"]}
    return {
        "total": total,
        "registries": registries,
        "repository_count": repository_count,
        "stages": stage_counts,
        "risk": risk,
        "risk_bars": bars(risk, total),
        "grades": grades,
        "grade_bars": bars(grades, total),
        "trend": trend,
        "chart": trend_chart(trend),
        "images": rows,
        "listed": total,
        "page": page,
        "pages": pages,
        "scope": scope,
        "choices": choices,
        "days": days,
        "repos_shown": REPOS_SHOWN,
    }


def bars(counts: Mapping[str, int], total: int, width: int = BAR_WIDTH) -> dict[str, int]:
    """Each count's bar length in pixels (of `width` for `total`); a non-zero count shows >= 1 px."""
    return {k: 0 if not v else max(1, round(width * v / max(total, 1))) for k, v in counts.items()}


def trend_chart(points: list[dict[str, Any]], width: int = 720, height: int = 160) -> dict[str, Any]:
    """The trend as stacked SVG bars (critical at the bottom): geometry computed here, drawn by the
    template; the numbers are also in a table beside it for screen readers."""
    peak = max((sum(p[k] for k in SEVERITIES) for p in points), default=0)
    step = width / max(len(points), 1)
    bar = max(1.0, step * 0.8)
    columns = []
    for i, p in enumerate(points):
        y = float(height)
        rects = []
        for k in SEVERITIES:
            h = height * p[k] / peak if peak else 0.0
            if h > 0:
                y -= h
                rects.append({"severity": k, "y": round(y, 2), "h": round(h, 2)})
        total = sum(p[k] for k in SEVERITIES)
        columns.append(
            {"x": round(i * step, 2), "w": round(bar, 2), "rects": rects, "day": p["day"], "total": total}
        )
    return {"width": width, "height": height, "peak": peak, "columns": columns}


def image_detail(store: Any, digest: str, page: int) -> dict[str, Any] | None:
    from sqlalchemy import select

    from containment.server.models import (
        Decision,
        Image,
        InventoryRow,
        PackageRow,
        Repository,
        Scan,
        ScoreRow,
        Signature,
        Tag,
    )

    with store.read() as s:
        img = s.scalar(select(Image).where(Image.digest == digest))
        if img is None:
            return None
        inv = s.scalar(select(InventoryRow).where(InventoryRow.image_id == img.id))
        n_packages = 0
        packages: list[Any] = []
        pages = 1
        if inv is not None:
            n_packages = int(inv.package_count or 0)
            pages = max(1, math.ceil(n_packages / PACKAGE_PAGE))
            page = min(page, pages)
            packages = list(
                s.scalars(
                    select(PackageRow)
                    .where(PackageRow.inventory_id == inv.id)
                    .order_by(PackageRow.name, PackageRow.version, PackageRow.id)
                    .limit(PACKAGE_PAGE)
                    .offset((page - 1) * PACKAGE_PAGE)
                )
            )
        tags = [
            f"{r}:{t}"
            for r, t in s.execute(
                select(Repository.name, Tag.name)
                .join(Repository, Repository.id == Tag.repository_id)
                .where(Tag.image_id == img.id)
                .order_by(Repository.name, Tag.name)
            )
        ]
        repos = sorted(r.name for r in img.repositories)
        # the newest scan only: a re-evaluated scan's JSON holds every finding of the image
        scans = list(s.scalars(select(Scan).where(Scan.image_id == img.id).order_by(Scan.id.desc()).limit(1)))
        computed = _computed(s, scans[0] if scans else None, inv)
        score = s.scalar(
            select(ScoreRow).where(ScoreRow.image_id == img.id).order_by(ScoreRow.id.desc()).limit(1)
        )
        sigs = list(
            s.scalars(
                select(Signature).where(Signature.image_id == img.id).order_by(Signature.id.desc()).limit(100)
            )
        )
        decisions = list(
            s.scalars(
                select(Decision)
                .where((Decision.image_id == img.id) | (Decision.digest == img.digest))
                .order_by(Decision.id.desc())
                .limit(100)
            )
        )
        layers = list(inv.layers) if inv is not None else []
        layer_index = {str(x.get("diff_id", "")): x.get("index") for x in layers if isinstance(x, dict)}
        return {
            "image": img,
            "inventory": inv,
            "layers": [x for x in layers if isinstance(x, dict)],
            "layer_index": layer_index,
            "gaps": [g for g in (inv.gaps if inv is not None else []) if isinstance(g, dict)],
            "packages": packages,
            "n_packages": n_packages,
            "page": page,
            "pages": pages,
            "tags": tags,
            "repositories": repos,
            "scans": scans,
            "latest": scans[0] if scans else None,
            "computed": computed,
            "score": score,
            "score_detail": _score_detail(score.detail if score is not None else None),
            "signatures": sigs,
            "decisions": decisions,
        }


def _computed(s: Any, scan: Any, inv: Any) -> dict[str, Any] | None:
    """The findings the re-evaluation stored in the newest scan (``Scan.computed["findings"]``:
    [package row id, vulnerability id, severity, fixable]) with their packages, worst first; at
    most FINDINGS_SHOWN of them (the count says how many there are). None: no such scan."""
    from sqlalchemy import select

    from containment.server.models import PackageRow

    comp = scan.computed if scan is not None else None
    raw = comp.get("findings") if isinstance(comp, dict) else None
    if not isinstance(raw, list):
        return None
    rows = [f for f in raw if isinstance(f, list) and len(f) >= 4]
    order = {sev: i for i, sev in enumerate(SEVERITIES)}

    def key(f: list[Any]) -> tuple[int, int, str]:
        return (order.get(str(f[2]).lower(), len(order)), 0 if f[3] else 1, str(f[1]))

    rows.sort(key=key)
    shown = rows[:FINDINGS_SHOWN]
    ids = {int(f[0]) for f in shown if isinstance(f[0], int)}
    pkgs = (
        {
            p.id: p
            for p in s.scalars(
                select(PackageRow).where(PackageRow.id.in_(ids), PackageRow.inventory_id == inv.id)
            )
        }
        if ids and inv is not None
        else {}
    )
    out = []
    for pkg_id, vuln, sev, fixable, *_ in shown:
        p = pkgs.get(pkg_id)
        name, version = (p.name, p.version) if p is not None else ("(package no longer stored)", "")
        if fixable:
            advice = f"upgrade {name} from {version}: {vuln} names a fixed version"
        else:
            advice = "no fix yet: remove or replace the package, or accept the risk with an exception"
        out.append(
            {
                "id": str(vuln),
                "severity": str(sev or "unknown").lower(),
                "package": name,
                "version": version,
                "layer": p.layer if p is not None else "",
                "fixable": bool(fixable),
                "advice": advice,
            }
        )
    return {
        "findings": out,
        "total": len(rows),
        "fixable": sum(1 for f in rows if f[3]),
        "db_built_at": str(comp.get("db_built_at", "")) if isinstance(comp, dict) else "",
    }


def _score_detail(detail: Any) -> dict[str, Any]:
    """The parts of a stored policy.score.Score.to_json() the page shows; tolerant of any shape."""
    d = detail if isinstance(detail, dict) else {}

    def dicts(key: str) -> list[dict[str, Any]]:
        v = d.get(key)
        return [x for x in v if isinstance(x, dict)][:200] if isinstance(v, list) else []

    comps = d.get("components")
    return {
        "headline": str(d.get("headline", "") or ""),
        "components": sorted((str(k), v) for k, v in comps.items()) if isinstance(comps, dict) else [],
        "actions": dicts("actions"),
        "contributions": dicts("contributions"),
        "top_actions": [str(x) for x in d.get("top_actions", []) or []][:20]
        if isinstance(d.get("top_actions"), list)
        else [],
        "after_top": d.get("after_top"),
    }


def findings_for(request: Request, digest: str) -> list[dict[str, Any]] | None:
    """The image's findings from the server's provider (None when the server has none)."""
    provider = getattr(request.app.state, "findings", None)
    if provider is None:
        return None
    out: list[dict[str, Any]] = []
    for f in provider(digest) or ():
        get = f.get if isinstance(f, Mapping) else (lambda k, f=f: getattr(f, k, None))
        pkg = get("package")
        pget = pkg.get if isinstance(pkg, Mapping) else (lambda k, p=pkg: getattr(p, k, ""))
        fixed = tuple(get("fixed_versions") or ())
        status = str(get("status") or "")
        name, version = str(pget("name") or ""), str(get("installed_version") or pget("version") or "")
        if fixed:
            advice = f"upgrade {name} from {version} to {fixed[0]}"
        elif status == "wont_fix":
            advice = "the distribution will not fix it: remove or replace the package, or accept the risk"
        else:
            advice = "no fix yet: remove or replace the package, or accept the risk with an exception"
        out.append(
            {
                "id": str(get("id") or ""),
                "severity": str(get("severity") or "unknown"),
                "package": name,
                "version": version,
                "layer": str(pget("layer") or ""),
                "fixed": fixed,
                "status": status,
                "title": str(get("title") or ""),
                "advice": advice,
            }
        )
    order = {s: i for i, s in enumerate(SEVERITIES)}
    out.sort(key=lambda x: (order.get(x["severity"], len(order)), x["id"], x["package"]))
    return out


def audit_page(
    store: Any,
    actor: str,
    action: str,
    since: date | None,
    until: date | None,
    before: int | None,
    subject: str = "",
) -> dict[str, Any]:
    from sqlalchemy import select

    from containment.server.governance import audit_where
    from containment.server.models import audit_records as t

    q = audit_where(
        select(t.c.seq, t.c.time, t.c.actor, t.c.action, t.c.subject, t.c.detail), actor, action, subject
    )
    if since is not None:
        q = q.where(t.c.time >= since.isoformat())
    if until is not None:
        q = q.where(t.c.time < (until + timedelta(days=1)).isoformat())
    if before is not None:
        q = q.where(t.c.seq < before)
    with store.read() as s:
        rows = s.execute(q.order_by(t.c.seq.desc()).limit(AUDIT_PAGE + 1)).all()
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    return {
        "records": [
            {
                "seq": r.seq,
                "time": r.time,
                "actor": r.actor,
                "action": r.action,
                "subject": r.subject,
                "detail": r.detail if len(r.detail) <= 2000 else r.detail[:2000] + "…",
            }
            for r in rows
        ],
        "next_before": rows[-1].seq if more and rows else None,
    }


# ------------------------------------------------------------------------------ pages


def _filter(value: str, what: str, limit: int = 200) -> str:
    value = value.strip()
    if len(value) > limit or _CONTROL.search(value):
        from fastapi import HTTPException

        raise HTTPException(422, f"{what}: at most {limit} printable characters")
    return value


def _date(value: str, what: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from fastapi import HTTPException

        raise HTTPException(422, f"{what}: a date as YYYY-MM-DD") from None


def _qs(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


@router.get("", summary="Dashboard: fleet overview", response_class=HTMLResponse, responses=RESPONSES)
async def overview(
    request: Request,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    repository: str = Query("", max_length=512),
    registry: str = Query("", max_length=512),
    stage: str = Query("", max_length=512),
    status: str = Query("", max_length=20),
    days: int = Query(TREND_DAYS, ge=1, le=stats.MAX_DAYS),
) -> Response:
    from anyio import to_thread
    from fastapi import HTTPException

    status = status.strip()
    if status and status not in stats.STATUSES:
        raise HTTPException(422, f"status: one of {', '.join(stats.STATUSES)} (with stage=NAME)")
    scope = stats.Scope(
        stage=_filter(stage, "stage", 512),
        status=status,
        registry=_filter(registry, "registry", 512),
        repository=_filter(repository, "repository", 512),
    )
    if scope.status and not scope.stage:
        raise HTTPException(422, "status: filters a stage; give stage=NAME too")
    data = await to_thread.run_sync(fleet, _store(request), page, scope, days)
    return render(request, "fleet.html", title="Fleet", **data)


@router.get(
    "/images/{digest}", summary="Dashboard: one image", response_class=HTMLResponse, responses=RESPONSES
)
async def image_page(request: Request, digest: str, page: int = Query(1, ge=1, le=MAX_PAGE)) -> Response:
    return await _image(request, digest, page, "image.html")


@router.get(
    "/images/{digest}/report",
    summary="Dashboard: one image's printable report",
    response_class=HTMLResponse,
    responses=RESPONSES,
)
async def report_page(request: Request, digest: str) -> Response:
    return await _image(request, digest, 1, "report.html")


async def _image(request: Request, digest: str, page: int, template: str) -> Response:
    from anyio import to_thread

    data = (
        await to_thread.run_sync(image_detail, _store(request), digest[:200], page)
        if len(digest) <= 200 and not _CONTROL.search(digest)
        else None
    )
    if data is None:
        return render(request, "notfound.html", 404, title="No such image", digest=digest)
    findings = await to_thread.run_sync(findings_for, request, digest)
    return render(
        request,
        template,
        title=f"Image {digest[:19]}",
        findings=findings,
        now=datetime.now(UTC),
        **data,
    )


@router.get("/audit", summary="Dashboard: the audit trail", response_class=HTMLResponse, responses=RESPONSES)
async def audit_log(
    request: Request,
    actor: str = Query("", max_length=200),
    action: str = Query("", max_length=200),
    subject: str = Query("", max_length=512),
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    before: int | None = Query(None, ge=1, le=2**62),
) -> Response:
    from anyio import to_thread

    f = {
        "actor": _filter(actor, "actor"),
        "action": _filter(action, "action"),
        "subject": _filter(subject, "subject", 512),
        "since": since.strip(),
        "until": until.strip(),
    }
    data = await to_thread.run_sync(
        audit_page,
        _store(request),
        f["actor"],
        f["action"],
        _date(since, "since"),
        _date(until, "until"),
        before,
        f["subject"],
    )
    return render(request, "audit.html", title="Audit trail", filters=f, **data)


def _login_page(request: Request, status: int = 200, error: str = "") -> Response:
    """The sign-in form with its token: the browser's login cookie's when it holds a well-formed
    one (several tabs share it), else a new one, set."""
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    token = cookie if _LOGIN_TOKEN.match(cookie) else secrets.token_urlsafe(32)
    response = render(request, "login.html", status, title="Sign in", error=error, csrf=token)
    if token != cookie:
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/ui/login",
        )
    return response


def _form_fields(raw: bytes, limit: int = 4096) -> dict[str, str] | None:
    """A small urlencoded form's fields (first value of each), None when it cannot be read."""
    if len(raw) > limit:
        return None
    try:
        parsed = parse_qs(raw.decode("utf-8"), max_num_fields=10, keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in parsed.items() if v}


def _same(sent: str, want: str) -> bool:
    return bool(want) and hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), want.encode())


_STALE_LOGIN = (
    "This sign-in form has expired or was sent from another page: sign in again with the form below."
)


@router.get("/login", summary="Dashboard: sign-in form", response_class=HTMLResponse, responses=RESPONSES)
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post(
    "/login",
    summary="Dashboard: sign in (form: name, password, csrf) -> session cookie",
    responses={
        303: {"description": "signed in: to the overview"},
        **RESPONSES,
        400: {
            "description": "the form is malformed, lacks the name or password, or its token is "
            "missing or does not match the login cookie (reload the page)"
        },
        401: {"description": "unknown name or wrong password"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["name", "password", "csrf"],
                        "properties": {
                            "name": {"type": "string", "maxLength": 256},
                            "password": {"type": "string", "maxLength": 1024},
                            "csrf": {
                                "type": "string",
                                "description": f"the value of the {LOGIN_COOKIE} cookie GET /ui/login set",
                            },
                        },
                    }
                }
            },
        }
    },
)
async def login_submit(request: Request) -> Response:
    from anyio import to_thread

    form = _form_fields(await request.body())
    if form is None:
        return _login_page(request, 400, "Enter your name and password.")
    # before the password is even looked at: a forged sign-in changes nothing, audit included
    if not _same(form.get("csrf", ""), request.cookies.get(LOGIN_COOKIE, "")):
        return _login_page(request, 400, _STALE_LOGIN)
    name = form.get("name", "")
    password = form.get("password", "")
    bad = not name or not password or len(name) > 256 or len(password) > 1024
    bad = bad or "\x00" in name or "\x00" in password
    if bad:
        return _login_page(request, 400, "Enter your name and password.")
    store = _store(request)
    who = await to_thread.run_sync(store.login, name, password)
    if who is None:
        return _login_page(request, 401, "Unknown name or wrong password.")
    from containment.server.routes import open_session

    response = RedirectResponse("/ui", 303)
    await open_session(store, who, request, response)
    response.delete_cookie(LOGIN_COOKIE, path="/ui/login")
    return response


@router.post(
    "/logout",
    summary="Dashboard: sign out (form: csrf) - clears the session cookie",
    responses={
        303: {"description": "to the sign-in form"},
        **RESPONSES,
        400: {"description": "the form's token is not this session's (reload the page)"},
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"csrf": {"type": "string", "maxLength": 128}},
                    }
                }
            },
        }
    },
)
async def logout(request: Request) -> Response:
    want = csrf_token(request)  # "" with a bearer token: nothing a page elsewhere could forge
    if want:
        form = _form_fields(await request.body()) or {}
        if not _same(form.get("csrf", ""), want):
            return render(
                request,
                "refused.html",
                400,
                title="Not signed out",
                error="This sign-out form has expired or was sent from another page: "
                "use the Sign out button above.",
            )
    from anyio import to_thread

    from containment.server.routes import revoke_session

    await to_thread.run_sync(revoke_session, request)
    response = RedirectResponse("/ui/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@cache
def _css(name: str) -> bytes:
    return (HERE / "static" / name).read_bytes()


@router.get(
    "/dashboard.css",
    summary="Dashboard style sheet",
    response_class=Response,
    responses={200: {"content": {"text/css": {"schema": {"type": "string"}}}}},
)
def dashboard_css() -> Response:
    return Response(_css("dashboard.css"), media_type="text/css", headers={"cache-control": "max-age=3600"})


@router.get(
    "/print.css",
    summary="Dashboard print style sheet",
    response_class=Response,
    responses={200: {"content": {"text/css": {"schema": {"type": "string"}}}}},
)
def print_css() -> Response:
    return Response(_css("print.css"), media_type="text/css", headers={"cache-control": "max-age=3600"})


__all__ = ["AUDIT_READERS", "LOGIN_COOKIE", "csrf_token", "registry_of", "router", "worst"]
