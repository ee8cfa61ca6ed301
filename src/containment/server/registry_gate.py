"""The registry gate: Distribution registry notifications -> durable scan jobs -> decision,
attestation or quarantine.

Configure a registry (`containment registry add HOST --policy FILE --stage S --data DIR` or
`--database URL`): its entry is a row of the server's database (`registries`, migration 0004;
the shared secret only as its SHA-256; `registry.add` / `registry.remove` audited), so every
`containment worker` reads it without the server's data directory, and the registry's own
config gets an endpoint like

    notifications:
      endpoints:
        - name: containment
          url: http://127.0.0.1:8080/api/v1/registry/events
          headers: {X-Containment-Secret: [THE-SECRET]}
          timeout: 5s
          threshold: 5
          backoff: 1s
    storage: {delete: {enabled: true}}     # quarantine deletes the tag's manifest

`POST /api/v1/registry/events` (public in authz.OPERATIONS: the caller is a registry, not a
user; it authenticates by the shared secret in `X-Containment-Secret`, compared in constant
time against every configured registry). No or an unknown secret: 400 (FORGED_STATUS), nothing stored.
Each `push` event of a tagged manifest (not a cosign `.sig/.att/.sbom` tag, not a repository
under the quarantine prefix) becomes one job keyed `HOST/REPO:TAG@DIGEST`, queued in the same
transaction as its audit record, before the registry gets its 200: the registry re-sends what
was not acknowledged, and a re-sent event finds its job and adds nothing (dedup by key).

A job (`handle`) scans `HOST/REPO@DIGEST` with every scanner (service.scan), stores the report
(Store.put_report), evaluates the registry's stage of its policy (policy.gate.evaluate) and:

- passed: attests the scan (cosign vuln attestation, `.att` tag) with the server's key
  (`containment registry key set cosign.key`: stored encrypted in the database, server/config.py;
  password from CONTAINMENT_KEY_PASSWORD / COSIGN_PASSWORD in the worker's environment) when
  there is one; action `attested` (else `none`);
- failed: QUARANTINE, reversible and lossless: the image (with its .sig/.att) is copied byte for
  byte to `HOST/QUARANTINE/REPO:TAG` (same digest, blobs mounted), the copy is read back, and
  only then the manifest is deleted from `HOST/REPO` (DELETE by digest: every tag of that digest
  in that repository goes). To release it: `skopeo copy docker://HOST/QUARANTINE/REPO:TAG
  docker://HOST/REPO:TAG` (or `containment promote`), with an exception for the finding first.

The decision row, the attestation row and the audit record `registry.decision` commit in one
transaction with the job's ack (jobs.ClaimedJob.finish): a worker killed before that commit
leaves the job to run again (registry actions are idempotent: the copy has the same digest,
deleting what is gone is a no-op); after it, never again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from containment.model import ContainmentError
from containment.server import tasks
from containment.server.authz import API
from containment.server.jobs import ClaimedJob, Jobs

if TYPE_CHECKING:
    from containment.server.store import Store

log = logging.getLogger("containment.server.registry")

CONFIG_FILE = "registries.json"
SECRET_HEADER = "x-containment-secret"
KIND = "registry.push"
ACTOR = "registry-gate"
DEFAULT_QUARANTINE = "quarantine"
# not 401/403: the operation is public in x-roles, and the contract says a listed role (here
# "anonymous") never gets 401/403; the secret check is the route's own, so its refusal is a 400
FORGED_STATUS = 400
MAX_EVENTS = 1000
MAX_BODY = 4 * 1024 * 1024
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    }
)
HOST_RE = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?\Z")
REPO_RE = re.compile(r"\A[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z")
TAG_RE = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
DIGEST_RE = re.compile(r"\Asha256:[a-f0-9]{64}\Z")
COSIGN_TAG = re.compile(r"\Asha256-[a-f0-9]{64}\.(?:sig|att|sbom)\Z")
STAGE_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")

router = APIRouter(prefix=API)


# ---------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class RegistryConfig:
    host: str
    secret_sha256: str
    policy: str = ""  # the policy document (YAML) as given, "" : scan and record only
    policy_source: str = ""
    stage: str = ""
    plain_http: bool = False
    tls_verify: bool = True
    quarantine: str = DEFAULT_QUARANTINE
    db: str = ""  # advisory DB for the scans ("" : the default)

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(_sha256(secret), self.secret_sha256)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def load_registries(store: Store) -> dict[str, RegistryConfig]:
    """The registries configured on this server's database, by host."""
    from sqlalchemy import select

    from containment.server.models import RegistryRow

    names = [f.name for f in fields(RegistryConfig)]
    with store.read() as s:
        rows = s.scalars(select(RegistryRow).order_by(RegistryRow.host)).all()
        return {r.host: RegistryConfig(**{n: getattr(r, n) for n in names}) for r in rows}


def read_legacy(path: Path) -> dict[str, RegistryConfig]:
    """The entries of a registries.json written before migration 0004 (config.import_legacy)."""
    try:
        doc = json.loads(path.read_bytes())
        return {h: RegistryConfig(**entry) for h, entry in doc["registries"].items()}
    except OSError as e:
        raise ContainmentError(f"{path}: cannot read ({e.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ContainmentError(f"{path}: not a registries file ({e}); add the registries again") from None


def put_registry(store: Store, s: Any, cfg: RegistryConfig, actor: str) -> None:
    """Add or replace `cfg` in the caller's write transaction `s`, with its audit record."""
    from containment.server.models import RegistryRow, now

    row = s.get(RegistryRow, cfg.host)
    replaced = row is not None
    if row is None:
        row = RegistryRow(host=cfg.host)
        s.add(row)
    for k, v in asdict(cfg).items():
        setattr(row, k, v)
    row.updated, row.updated_by = now(), actor
    s.flush()
    detail = {k: v for k, v in asdict(cfg).items() if k not in ("policy", "secret_sha256", "host")}
    detail["policy_sha256"] = _sha256(cfg.policy) if cfg.policy else ""
    detail["replaced"] = replaced
    store._audit(s, actor, "registry.add", cfg.host, detail)


def remove_registry(store: Store, host: str, actor: str = "cli") -> bool:
    """Stop gating `host` (audited); False when it was not configured. Its queued jobs fail
    ("no longer configured"); decisions and reports made stay."""
    from containment.server.models import RegistryRow

    with store.write() as s:
        row = s.get(RegistryRow, host)
        if row is None:
            return False
        s.delete(row)
        store._audit(s, actor, "registry.remove", host, {})
    return True


def add_registry(
    store: Store,
    host: str,
    *,
    policy_file: str | None = None,
    stage: str = "",
    secret: str | None = None,
    plain_http: bool = False,
    tls_verify: bool = True,
    quarantine: str = DEFAULT_QUARANTINE,
    db: str | None = None,
    actor: str = "cli",
) -> tuple[RegistryConfig, str]:
    """Add or replace the registry `host` in the store (audited `registry.add`); (its config, the
    shared secret to put in the registry's notification headers). The policy is read, parsed
    and its stage checked now; bad input stores nothing."""
    if not HOST_RE.fullmatch(host or ""):
        raise ContainmentError(f"registry {host!r}: expected HOST or HOST:PORT, e.g. 127.0.0.1:5000")
    if not REPO_RE.fullmatch(quarantine or ""):
        raise ContainmentError(
            f"--quarantine {quarantine!r}: not a repository name (lowercase, e.g. quarantine)"
        )
    if secret is None:
        secret = secrets.token_urlsafe(32)
    if len(secret) < 16 or len(secret) > 512 or not secret.isprintable() or secret != secret.strip():
        raise ContainmentError("--secret must be 16 to 512 printable characters, no surrounding spaces")
    text = ""
    source = ""
    if policy_file is not None:
        from containment.policy.policyfile import parse_policy

        try:
            text = Path(policy_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ContainmentError(f"--policy {policy_file}: cannot read it ({e})") from None
        source = str(Path(policy_file).resolve())
        pol = parse_policy(text, source, str(Path(source).parent))
        if not stage:
            # the last stage the file declares: the one images travel towards (dev, test, prod:
            # prod), and the strictest in every policy we ship; the CLI prints which it took
            if not pol.stages:
                raise ContainmentError(f"--policy {policy_file}: it declares no stage to gate with")
            stage = list(pol.stages)[-1]
        pol.stage(stage)  # PolicyError naming the stages when it does not exist
    elif stage:
        raise ContainmentError("--stage needs --policy")
    if stage and not STAGE_RE.fullmatch(stage):
        raise ContainmentError(f"--stage {stage!r}: not a stage name")
    cfg = RegistryConfig(
        host=host,
        secret_sha256=_sha256(secret),
        policy=text,
        policy_source=source,
        stage=stage,
        plain_http=plain_http,
        tls_verify=tls_verify,
        quarantine=quarantine,
        db=str(Path(db).resolve()) if db else "",
    )
    with store.write() as s:
        put_registry(store, s, cfg, actor)
    return cfg, secret


# ---------------------------------------------------------------------- events


class BadEvents(ContainmentError):
    pass


def parse_events(raw: bytes, cfg: RegistryConfig) -> tuple[list[dict[str, str]], int]:
    """The push events to gate (host, repository, tag, digest, media type, event id) and how many
    other events were ignored (pulls, blobs, untagged or cosign pushes, quarantine)."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise BadEvents(f"the body is not JSON: {str(e)[:200]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise BadEvents('expected a Distribution notification envelope: {"events": [...]}')
    events = doc["events"]
    if len(events) > MAX_EVENTS:
        raise BadEvents(f"more than {MAX_EVENTS} events in one envelope")
    out: list[dict[str, str]] = []
    ignored = 0
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise BadEvents(f"events[{i}] must be an object")
        target = ev.get("target")
        if not isinstance(target, dict):
            raise BadEvents(f"events[{i}].target must be an object")
        action, mt = ev.get("action"), target.get("mediaType")
        repo, tag, digest = target.get("repository"), target.get("tag"), target.get("digest")
        if action != "push" or mt not in MANIFEST_TYPES:
            ignored += 1
            continue
        if not isinstance(repo, str) or not REPO_RE.fullmatch(repo) or len(repo) > 255:
            raise BadEvents(f"events[{i}].target.repository: not a repository name")
        if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
            raise BadEvents(f"events[{i}].target.digest: not a sha256 digest")
        if tag is not None and (not isinstance(tag, str) or not TAG_RE.fullmatch(tag)):
            raise BadEvents(f"events[{i}].target.tag: not a tag")
        if not tag or COSIGN_TAG.fullmatch(tag) or repo.startswith(cfg.quarantine + "/"):
            ignored += 1  # index children pushed by digest, our own attestations, the quarantine
            continue
        eid = ev.get("id")
        out.append(
            {
                "host": cfg.host,
                "repository": repo,
                "tag": tag,
                "digest": digest,
                "media_type": str(mt),
                "event": eid if isinstance(eid, str) and len(eid) <= 128 else "",
            }
        )
    return out, ignored


def job_key(ev: dict[str, str]) -> str:
    return f"{ev['host']}/{ev['repository']}:{ev['tag']}@{ev['digest']}"


# ---------------------------------------------------------------------- the gate


class Gate:
    """Registry events in, jobs of kind KIND out, run by the server's tasks.Runner: in-process
    threads on the store's job table, or `containment worker` processes fed by a broker."""

    def __init__(
        self,
        store: Store,
        data_dir: str | os.PathLike[str],
        threads: int = 2,
        poll: float = 1.0,
        lease: float = tasks.LEASE,  # renewed every lease/3 while a handler runs; a killed worker's job waits this long
        max_attempts: int = tasks.MAX_ATTEMPTS,
        autostart: bool = True,
        broker: str | None = None,
    ) -> None:
        self.store = store
        self.autostart = autostart  # start the workers on the first queued event
        self.data_dir = Path(data_dir)
        self.jobs = Jobs(store, lease=lease, max_attempts=max_attempts, backoff_base=tasks.BACKOFF_BASE)
        self.runner = tasks.Runner(
            store, self.data_dir, broker=broker, threads=threads, poll=poll, jobs=self.jobs
        )

    def registries(self) -> dict[str, RegistryConfig]:
        return load_registries(self.store)

    def start(self) -> None:
        self.runner.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; handlers still running after `timeout` are cut short with the process
        (their jobs run again once their lease expires: ack late)."""
        self.runner.stop(timeout)

    def registry_for(self, secret: str | None) -> RegistryConfig | None:
        if not secret:
            return None
        found = None
        for cfg in self.registries().values():  # every entry compared: no early exit on a match
            if cfg.matches(secret) and found is None:
                found = cfg
        return found

    def accept(self, secret: str | None, raw: bytes) -> tuple[int, dict[str, Any]]:
        """(status, body) for one notification envelope; jobs and audit records committed before."""
        cfg = self.registry_for(secret)
        if cfg is None:
            return FORGED_STATUS, {
                "error": "bad request",
                "detail": f"missing or unknown registry secret ({SECRET_HEADER} header); nothing stored",
            }
        try:
            events, ignored = parse_events(raw, cfg)
        except BadEvents as e:
            return 400, {"error": "bad request", "detail": str(e)}
        added = duplicates = 0
        ids: list[int] = []
        with self.store.write() as s:
            for ev in events:
                jid, new = self.jobs.enqueue(KIND, job_key(ev), ev, once=True, s=s)
                if new:
                    added += 1
                    ids.append(jid)
                    self.store._audit(
                        s, f"registry:{cfg.host}", "registry.push", job_key(ev), {"job": jid, **ev}
                    )
                else:
                    duplicates += 1
        if ids and self.autostart:
            self.runner.submitted(ids)  # after the commit: wake the workers, or one broker message each
        return 202 if added else 200, {"queued": added, "duplicates": duplicates, "ignored": ignored}

    # ------------------------------------------------------------------ the job

    def handle(self, job: ClaimedJob) -> None:
        from sqlalchemy import update

        from containment.image.registry import ManifestUnknown, RegistryClient, parse_reference
        from containment.model import SCANNERS
        from containment.server.models import Decision, Image, Job, Signature
        from containment.service.scan import ScanOptions, scan

        ev = job.payload
        cfg = self.registries().get(ev["host"])
        if cfg is None:
            raise ContainmentError(f"registry {ev['host']} is no longer configured")
        ref = f"{ev['host']}/{ev['repository']}@{ev['digest']}"
        client = RegistryClient(parse_reference(ref), plain_http=cfg.plain_http, verify_tls=cfg.tls_verify)
        try:
            if client.find_manifest(ev["digest"]) is None:
                # quarantined by an attempt cut short before its commit, or deleted by someone
                held = self._in_quarantine(cfg, ev)
                with self.store.write() as s:
                    action = "quarantined" if held else "gone"
                    extra = [{"quarantine": held, "digest": ev["digest"]}] if held else []
                    self._decide(s, ev, cfg, None, action, extra, job, Decision, Image, allowed=not held)
                    job.finish(s)
                return
            options = ScanOptions(
                kind="image",
                scanners=tuple(SCANNERS),
                plain_http=cfg.plain_http,
                tls_verify=cfg.tls_verify,
                db=_advisory_db(cfg),
                default_ignorefiles=False,
            )
            report = scan(ref, options)
            tagged = f"{ev['host']}/{ev['repository']}:{ev['tag']}"
            self.store.put_report(report, ACTOR, refs=[tagged])
            decision = None
            chosen = gate_policy(self.store, cfg)
            used = chosen[1] if chosen is not None else None
            if chosen is not None:
                from containment.policy.gate import evaluate

                # the server's approved, unexpired exceptions for this image join the policy's own
                from containment.server.governance import with_exceptions

                repo = f"{ev['host']}/{ev['repository']}"
                policy = with_exceptions(self.store, chosen[0], cfg.stage, ev["digest"], [repo])
                decision = evaluate(report, policy, cfg.stage)
            attestation: dict[str, Any] | None = None
            if decision is not None and not decision.passed:
                action = "quarantined"
                detail = self._quarantine(client, cfg, ev, ManifestUnknown)
            else:
                attestation = self._attest(ref, report, cfg)
                if attestation and used is not None:
                    attestation["policy"] = used  # kept on the attestation's row: what it passed
                action = "attested" if attestation else "none"
                detail = attestation or {}
            with self.store.write() as s:
                img_id = self._decide(s, ev, cfg, decision, action, [detail], job, Decision, Image, used=used)
                if attestation and img_id is not None:
                    s.add(
                        Signature(
                            image_id=img_id,
                            kind="attestation",
                            predicate_type=attestation["predicate_type"],
                            signer=attestation["key_id"],
                            verified=True,
                            detail=attestation,
                        )
                    )
                if action == "quarantined":
                    # a later push of this digest to this tag is a new event to gate, not a duplicate
                    s.execute(
                        update(Job)
                        .where(Job.id == job.id)
                        .values(key=f"{job.key}#quarantined:{job.id}")
                        .execution_options(synchronize_session=False)
                    )
                job.finish(s)
        finally:
            client.close()

    def _decide(
        self,
        s: Any,
        ev: dict[str, str],
        cfg: RegistryConfig,
        decision: Any,
        action: str,
        extra: list[dict[str, Any]],
        job: ClaimedJob,
        decision_model: Any,
        image_model: Any,
        allowed: bool | None = None,
        used: dict[str, Any] | None = None,
    ) -> int | None:
        from sqlalchemy import select

        img_id = s.scalar(select(image_model.id).where(image_model.digest == ev["digest"]))
        reasons = [r.to_json() for r in decision.reasons] if decision is not None else []
        if decision is not None:  # a decision made with an exception names it (governance.py)
            reasons += [
                {"rule": "exception", "message": a.message, "findings": list(a.findings)}
                for a in decision.exceptions_applied
            ]
        if allowed is None:
            allowed = True if decision is None else bool(decision.passed)
        s.add(
            decision_model(
                image_id=img_id,
                digest=ev["digest"],
                stage=cfg.stage,
                policy=used["policy"] if used else cfg.policy_source,
                allowed=allowed,
                action=action,
                reasons=reasons + [{"rule": "action", **x} for x in extra if x],
                actor=ACTOR,
            )
        )
        self.store._audit(
            s,
            ACTOR,
            "registry.decision",
            job_key(ev),
            {
                "job": job.id,
                "attempt": job.attempt,
                "stage": cfg.stage,
                "policy": used,  # which policy decided: governed (name, version) or the registry's file
                "allowed": allowed,
                "action": action,
                "reasons": [r.get("message", "") for r in reasons][:50],
            },
        )
        return int(img_id) if img_id is not None else None

    def _in_quarantine(self, cfg: RegistryConfig, ev: dict[str, str]) -> str:
        from containment.image.registry import RegistryClient, parse_reference

        dest = f"{ev['host']}/{cfg.quarantine}/{ev['repository']}:{ev['tag']}"
        dst = RegistryClient(parse_reference(dest), plain_http=cfg.plain_http, verify_tls=cfg.tls_verify)
        try:
            return dest if dst.find_manifest(ev["digest"]) is not None else ""
        finally:
            dst.close()

    def resume(self) -> None:
        """Start the workers (or, with a broker, the reconciler) when a registry is configured or
        jobs are pending (jobs left by a stopped or killed server run again: their leases expire)."""
        try:
            if self.autostart and (self.runner.broker_url or self.registries() or self.runner.pending()):
                self.start()
        except ContainmentError as e:
            log.warning("registry gate not started", extra={"detail": str(e)})

    def _quarantine(
        self, client: Any, cfg: RegistryConfig, ev: dict[str, str], manifest_unknown: type[Exception]
    ) -> dict[str, Any]:
        """Copy to QUARANTINE/REPO:TAG, read the copy back, then delete the manifest from REPO."""
        from containment.image.registry import RegistryClient, parse_reference
        from containment.model import ImageError
        from containment.supplychain.promote import copy_image

        dest = f"{ev['host']}/{cfg.quarantine}/{ev['repository']}:{ev['tag']}"
        dst = RegistryClient(parse_reference(dest), plain_http=cfg.plain_http, verify_tls=cfg.tls_verify)
        try:
            result = copy_image(client, dst, ev["digest"], ev["tag"])
            if result.digest != ev["digest"] or dst.find_manifest(ev["digest"]) is None:
                raise ImageError(f"{dest}: the quarantine copy cannot be read back; the image stays in place")
        finally:
            dst.close()
        resp = client._request("DELETE", f"manifests/{ev['digest']}")
        if resp.status_code not in (200, 202, 404):
            raise ImageError(
                f"{ev['host']}/{ev['repository']}: deleting the manifest was refused ({resp.status_code}); "
                "enable storage.delete in the registry config. The quarantine copy is at " + dest
            )
        return {
            "quarantine": dest,
            "digest": ev["digest"],
            "deleted_from": f"{ev['host']}/{ev['repository']}",
        }

    def _attest(self, ref: str, report: Any, cfg: RegistryConfig) -> dict[str, Any] | None:
        from containment.server import config

        key = config.signing_key(self.store)
        if key is None:
            return None
        from containment.service import sign as svc
        from containment.supplychain import keys

        r = svc.attest(
            ref,
            f"the gate's signing key {key.key_id[:16]} (containment registry key)",
            keys.password_from_env(),
            key_pem=key.private_pem,
            report=report,
            plain_http=cfg.plain_http,
            tls_verify=cfg.tls_verify,
        )
        return {"tag": r.tag, "key_id": r.key_id, "predicate_type": r.predicate_type, "added": bool(r.added)}


# ---------------------------------------------------------------------- the route


@router.post(
    "/registry/events",
    summary="Distribution registry notifications (authenticated by the registry's shared secret)",
    responses={
        200: {"description": "nothing new (duplicates or events not gated)"},
        202: {"description": "push events queued for scanning"},
        400: {"description": "malformed envelope, or missing/unknown shared secret (nothing stored)"},
    },
    openapi_extra={
        "x-authentication": f"shared secret in the {SECRET_HEADER} header, per registry",
        "requestBody": {
            "content": {
                "application/vnd.docker.distribution.events.v1+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
            }
        },
    },
)
async def registry_events(request: Request) -> JSONResponse:
    gate: Gate | None = getattr(request.app.state, "gate", None)
    secret = request.headers.get(SECRET_HEADER)
    raw = await request.body()
    if gate is None:
        return JSONResponse(
            {
                "error": "bad request",
                "detail": "no registry is configured on this server (containment registry add)",
            },
            FORGED_STATUS,
        )
    if len(raw) > MAX_BODY:
        return JSONResponse({"error": "payload too large", "detail": f"over {MAX_BODY} bytes"}, 413)
    from anyio import to_thread

    status, body = await to_thread.run_sync(gate.accept, secret, raw)
    return JSONResponse(body, status)


def gate_for(
    store: Any, data_dir: str | os.PathLike[str] | None = None, broker: str | None = None
) -> Gate | None:
    """The gate of a real Store (None for anything else, e.g. a test double); `broker`: a
    Redis URL (jobs run by `containment worker` processes) instead of in-process workers."""
    from containment.server.store import Store

    if not isinstance(store, Store):
        return None
    return Gate(store, data_dir if data_dir is not None else data_dir_of(store), broker=broker)


def gate_policy(store: Any, cfg: RegistryConfig) -> tuple[Any, dict[str, Any]] | None:
    """The policy that decides a push to registry `cfg`, and how the decision names it:

    - the server's active governed policy covering the registry's stage (governance.active_policies:
      uploaded by one person, activated by a second), `{"source": "governed", "policy": "NAME vN",
      "name", "version", "id", "approved_by"}`; a new version activated is used from the next push;
    - else the registry's own policy (`registry add --policy FILE`), `{"source": "registry",
      "policy": FILE}`;
    - else None: the push is scanned and recorded (report, decision `allowed`, action attested or
      none), not judged. A registry added without --policy has no stage, so it stays that way
      whatever is governed (no stage to look up).

    Chosen per job, not per server start: activating or replacing a version needs no restart."""
    if not cfg.stage:
        return None
    from containment.server.governance import active_policies

    active = active_policies(store).get(cfg.stage) if hasattr(store, "read") else None
    if active is not None:
        return active.policy, {
            "source": "governed",
            "policy": active.label,
            "name": active.name,
            "version": active.version,
            "id": active.id,
            "approved_by": active.approved_by,
        }
    if cfg.policy:
        from containment.policy.policyfile import parse_policy

        pol = parse_policy(cfg.policy, cfg.policy_source, str(Path(cfg.policy_source).parent))
        return pol, {"source": "registry", "policy": cfg.policy_source}
    return None


def push_handler(store: Store, data_dir: Path) -> Callable[[ClaimedJob], None]:
    """tasks' factory of KIND: the handler of one pushed manifest."""
    return Gate(store, data_dir, autostart=False).handle


def _advisory_db(cfg: RegistryConfig) -> str | None:
    """The advisory DB `registry add --db` named, when this machine has it; else this process's
    default ($CONTAINMENT_DB, else the cache dir): a worker on another machine keeps its own."""
    if cfg.db and not Path(cfg.db).is_file():
        log.warning("registry advisory DB not on this machine; the default is used", extra={"db": cfg.db})
        return None
    return cfg.db or None


def data_dir_of(store: Store) -> Path:
    """The data directory of a store: its SQLite file's, else $CONTAINMENT_DATA (or the default)."""
    from containment.server import db

    if store.engine.dialect.name == "sqlite" and store.engine.url.database:
        return Path(store.engine.url.database).parent
    return db.default_data_dir()
