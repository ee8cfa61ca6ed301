#!/usr/bin/env python3
"""List/detail API latency at a steady 50 requests/s (open loop), 1,000 images stored.

    python bench/api_latency.py [--images 1000] [--rate 50] [--seconds 30] [--pg | --database URL]
                                [--keep DIR] [--workers N]

The store is bench/dashboard_pages.py's fleet (its functions, imported): 1,000 images of real
packages with a month of scans, re-evaluated findings, decisions and scores. `containment serve`
runs as a process on loopback (uvicorn); one client process sends GET /api/v1/images (limit 100,
a random offset) and GET /api/v1/images/{digest} (a random stored image), half each. Requests still unanswered 30 s after the last one was due
are counted as unanswered (an overloaded server ends the run instead of prolonging it).

Open loop: request k is due at start + k / rate whatever happened to the ones before (asyncio,
httpx, up to 64 connections), so a slow answer cannot lower the offered load (no coordinated
omission). Two latencies per request: from its due time (what a caller waiting on a schedule
sees, queueing in the client included) and from the moment the client took it up (its own
connection-pool wait included). Errors: non-200 answers and transport
errors, counted apart.

Peer: none runs here, and no published figure to compare with was found: Harbor's load tests
(github.com/goharbor/perf, e.g. its wiki page "Cache layer", Harbor v2.6) measure pull-heavy
registry traffic at high concurrency, not an image list/detail API or UI pages at a fixed rate;
Dependency-Track's documentation gives sizing advice, not latencies. The figures stand alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GRACE = 30.0
sys.path.insert(0, str(HERE))
import dashboard_pages  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


async def drive(url: str, token: str, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    import httpx

    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=30, limits=limits
    ) as client:
        r = await client.get("/api/v1/images", params={"limit": 1000})
        digests = [x["digest"] for x in r.json()["images"]]
        n_images = len(digests)
        results: dict[str, list[tuple[float, float]]] = {"list": [], "detail": []}
        errors: dict[str, int] = {"list": 0, "detail": 0}
        transport: dict[str, int] = {"list": 0, "detail": 0}

        async def one(kind: str, path: str, params: dict[str, Any], due: float) -> None:
            sent = time.perf_counter()
            try:
                resp = await client.get(path, params=params)
                await resp.aread()
            except httpx.HTTPError:
                transport[kind] += 1
                return
            done = time.perf_counter()
            if resp.status_code != 200:
                errors[kind] += 1
                return
            results[kind].append(((done - due) * 1000, (done - sent) * 1000))

        total = int(rate * seconds)
        tasks = []
        start = time.perf_counter() + 0.2
        for k in range(total):
            due = start + k / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if k % 2 == 0:
                offset = rng.randrange(0, max(1, n_images - 100))
                tasks.append(
                    asyncio.create_task(one("list", "/api/v1/images", {"limit": 100, "offset": offset}, due))
                )
            else:
                d = rng.choice(digests)
                tasks.append(asyncio.create_task(one("detail", f"/api/v1/images/{d}", {}, due)))
        # answers still missing GRACE s after the last request was due are counted, not awaited
        _, pending = await asyncio.wait(
            tasks, timeout=max(0.0, start + seconds + GRACE - time.perf_counter())
        )
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        wall = time.perf_counter() - start
    return {
        "results": results,
        "errors": errors,
        "transport": transport,
        "unanswered": len(pending),
        "wall": wall,
        "sent": total,
        "images": n_images,
    }


def report(label: str, out: dict[str, Any], rate: float) -> None:
    print(
        f"{label}: {out['sent']} requests offered at {rate:g}/s over {out['wall']:.1f} s "
        f"(answered {sum(len(v) for v in out['results'].values()) / out['wall']:.1f}/s), "
        f"{out['images']} images stored; {out['unanswered']} unanswered {GRACE:.0f} s after the last was due"
    )
    print(f"  {'endpoint':34} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  errors")
    for kind, name in (("list", "GET /api/v1/images?limit=100"), ("detail", "GET /api/v1/images/{digest}")):
        rows = out["results"][kind]
        for which, idx in (("from due time", 0), ("from send", 1)):
            xs = [r[idx] for r in rows]
            print(
                f"  {name + ' ' + which:34} {len(xs):5d} {pct(xs, 0.5):8.1f} {pct(xs, 0.95):8.1f} "
                f"{pct(xs, 0.99):8.1f} {max(xs, default=float('nan')):8.1f}  "
                f"{out['errors'][kind]} non-200, {out['transport'][kind]} transport"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--database", help="a postgresql:// URL of an EMPTY database (default: SQLite)")
    ap.add_argument("--pg", action="store_true", help="start a throwaway PostgreSQL 15 cluster for the run")
    ap.add_argument("--keep", help="work directory to keep and reuse (default: a tmp dir, removed)")
    ap.add_argument("--workers", type=int, default=1, help="serve --workers N (server processes)")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="containment-api-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with dashboard_pages.database_for(args) as database:
            data, adv, token = dashboard_pages.build_fleet(work, args.images, database)
            with dashboard_pages.served(data, adv, database, work, args.workers) as url:
                out = asyncio.run(drive(url, token, args.rate, args.seconds, 7))
        load = os.getloadavg()[0]
        report(
            f"{'PostgreSQL' if database else 'SQLite'} store, containment serve --workers {args.workers} on loopback "
            f"({os.cpu_count()} CPUs, load average {load:.1f} at the end; ms)",
            out,
            args.rate,
        )
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
