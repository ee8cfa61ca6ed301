"""Registry sync: inventory what a registry already holds, not only what is pushed after `registry add`.

`containment registry add HOST ...` (unless --no-sync) and `containment registry sync HOST` queue
one job of kind "registry-sync" (key `sync:HOST`: a sync already queued or running is not
doubled). The job (`handler`):

1. lists the repositories, `GET /v2/_catalog?n=100`, page after page by the `Link: <...>;
   rel="next"` header (distribution, Harbor, Zot), or by `last=` when a full page came without
   one; a registry that does not serve the catalog (404/405, e.g. Docker Hub) fails the job
   saying so;
2. lists each repository's tags (paginated, image/registry.py `list_tags`), skipping cosign's
   `sha256-….sig/.att/.sbom` tags and repositories under the registry's quarantine prefix;
3. resolves each tag to its manifest digest with `HEAD /v2/REPO/manifests/TAG` (Accept: OCI
   index and manifest, Docker list and manifest; `Docker-Content-Digest`; a registry that sends no
   digest gets a GET, hashed here). An index (multi-platform) is gated as the index, the way a
   push notification gates it (the registry notifies the tagged index; its children are pushed by
   digest and not gated): the scan picks the platform, and the job's key is the one a later push
   of that tag would get;
4. queues, for each (repository, tag, digest), the gate's own per-image job (registry_gate.KIND,
   key `HOST/REPO:TAG@DIGEST`, `once`): an image already gated (by a push or an earlier sync)
   is not queued again, and a later push of the same tag and digest finds its job and adds
   nothing. Each new job gets a `registry.discovered` audit record; the job's ack commits with
   all of them and a `registry.sync` summary, so a sync cut short queues nothing and runs again.

The per-image job scans, stores the report with the tag (`HOST/REPO:TAG` on the image), decides
with the registry's policy and quarantines or attests, exactly as for a push.

Errors (registry down, TLS, credentials refused, a hostile listing) fail the job with the
client's one-line error kept on the job row; the queue retries it with backoff, dead after 5.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from containment.model import ContainmentError, ImageError
from containment.server.jobs import ClaimedJob, Jobs

if TYPE_CHECKING:
    from containment.image.registry import RegistryClient
    from containment.server.store import Store

log = logging.getLogger("containment.server.registry_sync")

KIND = "registry-sync"
ACTOR = "registry-sync"
PAGE = 100
MAX_CATALOG_PAGES = 1000


def list_catalog(client: RegistryClient, page: int | None = None) -> list[str]:
    """Every repository the registry lists in /v2/_catalog (`page` entries a request, default PAGE)."""
    import httpx

    from containment.image.source import parse_json

    page = page or PAGE
    where = client.ref.registry
    url = f"{client.base}/v2/_catalog"
    params: dict[str, str] | None = {"n": str(page)}
    repos: list[str] = []
    for _ in range(MAX_CATALOG_PAGES):
        resp = client._request("GET", "", params=params, url=url)
        if resp.status_code in (404, 405):
            raise ImageError(
                f"{where}: the registry does not list its repositories (/v2/_catalog answered "
                f"{resp.status_code}); registry sync needs the catalog API"
            )
        if resp.status_code != 200:
            raise client._refused(resp, "catalog listing")
        doc = parse_json(resp.content, f"{where} catalog")
        got = doc.get("repositories") or []
        if not isinstance(got, list):
            raise ImageError(f"{where}: the catalog's repositories is not a list; the registry is broken")
        fresh = [r for r in got if isinstance(r, str) and r not in repos]
        repos += fresh
        nxt = resp.links.get("next", {}).get("url")
        if nxt:
            url, params = str(httpx.URL(client.base).join(nxt)), None
        elif len(got) >= page and fresh:
            url, params = f"{client.base}/v2/_catalog", {"n": str(page), "last": fresh[-1]}
        else:
            return repos
    raise ImageError(f"{where}: more than {MAX_CATALOG_PAGES} catalog pages; refusing the listing as hostile")


def resolve(client: RegistryClient, tag: str) -> tuple[str, str] | None:
    """(digest, media type) of the manifest `tag` names; None when it is gone."""
    from containment.image.registry import ACCEPT

    resp = client._request("HEAD", f"manifests/{tag}", {"Accept": ACCEPT})
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise client._refused(resp, f"HEAD of manifest {tag}")
    digest = resp.headers.get("Docker-Content-Digest", "")
    mt = resp.headers.get("Content-Type", "").split(";")[0].strip()
    if not digest.startswith("sha256:") or not mt:
        found = client.find_manifest(tag)
        if found is None:
            return None
        _, mt, digest = found
    return digest, mt


def discover(host: str, cfg: Any) -> tuple[list[dict[str, str]], int]:
    """The gate events for every tagged image of the registry, and how many tags were skipped."""
    from containment.image.registry import RegistryClient, parse_reference
    from containment.server import registry_gate as rg

    def client_for(repo: str) -> RegistryClient:
        return RegistryClient(
            parse_reference(f"{host}/{repo}"), plain_http=cfg.plain_http, verify_tls=cfg.tls_verify
        )

    catalog = client_for("library/catalog")
    try:
        repos = list_catalog(catalog)
    finally:
        catalog.close()
    events: list[dict[str, str]] = []
    skipped = 0
    for repo in sorted(repos):
        if not rg.REPO_RE.fullmatch(repo) or len(repo) > 255 or repo.startswith(cfg.quarantine + "/"):
            skipped += 1
            continue
        c = client_for(repo)
        try:
            for tag in sorted(c.list_tags(page=PAGE)):
                if not rg.TAG_RE.fullmatch(tag) or rg.COSIGN_TAG.fullmatch(tag):
                    skipped += 1
                    continue
                got = resolve(c, tag)
                if got is None or got[1] not in rg.MANIFEST_TYPES or not rg.DIGEST_RE.fullmatch(got[0]):
                    skipped += 1  # deleted meanwhile, an artifact that is no image, a non-sha256 digest
                    continue
                events.append(
                    {"host": host, "repository": repo, "tag": tag, "digest": got[0], "media_type": got[1]}
                )
        finally:
            c.close()
    return events, skipped


def request_sync(store: Store, host: str, actor: str) -> tuple[int, bool]:
    """Queue a sync of the configured registry `host`: (job id, added)."""
    jobs = Jobs(store)
    with store.write() as s:
        jid, new = jobs.enqueue(KIND, f"sync:{host}", {"host": host}, s=s)
        if new:
            store._audit(s, actor, "registry.sync.queued", host, {"job": jid})
    return jid, new


def handler(
    store: Store, data_dir: str | os.PathLike[str], on_enqueue: Callable[[], None] | None = None
) -> Callable[[ClaimedJob], None]:
    """The "registry-sync" job; `on_enqueue` wakes the gate's workers when images were queued."""
    from containment.server import registry_gate as rg

    def handle(job: ClaimedJob) -> None:
        host = str(job.payload.get("host", ""))
        cfg = rg.load_registries(store).get(host)  # the database's: any worker, any machine
        if cfg is None:
            raise ContainmentError(f"registry {host} is not configured (containment registry add {host})")
        events, skipped = discover(host, cfg)
        queue = Jobs(store)
        added = known = 0
        with store.write() as s:
            for ev in events:
                ev = {**ev, "event": f"sync:{job.id}"}
                key = rg.job_key(ev)
                jid, new = queue.enqueue(rg.KIND, key, ev, once=True, s=s)
                if new:
                    added += 1
                    store._audit(s, f"registry:{host}", "registry.discovered", key, {"job": jid, **ev})
                else:
                    known += 1
            store._audit(
                s,
                ACTOR,
                "registry.sync",
                host,
                {"job": job.id, "tags": len(events), "queued": added, "known": known, "skipped": skipped},
            )
            job.finish(s)
        log.info("registry synced", extra={"registry": host, "queued": added, "known": known})
        if added and on_enqueue is not None:
            on_enqueue()

    return handle
