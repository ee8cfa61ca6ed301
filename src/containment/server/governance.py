"""Policies, exceptions and the audit listing: store-level functions over a server Store.

Why here and not in store.py: these are the governance rules of issue 11 (separation of duties),
kept in one small module that the API (governance_routes.py) and the dashboard
(dashboard_governance.py) both call, so both faces enforce the same rules.

Separation of duties, decided here (after the role table of authz.py let the caller in):

- a policy document is uploaded as a new, inactive version; it becomes active only when a
  *second* person activates it (`activate_policy` refuses the uploader: two-person rule);
- an exception is requested by anyone who ships images, and approved or rejected only by
  someone else (`decide` refuses the requester);
- these refusals are `Conflict` (HTTP 409): the caller's role may call the operation, it is the
  state of this one record (who asked for it) that stands in the way.

Every change appends its audit record in the same transaction (Store._audit).

Effect: `active_policies` maps each stage to the active policy that decides it; the registry gate
evaluates that one (not the registry's own `--policy` file) for a registry gating the stage, and
the re-evaluation takes the stage's alert thresholds from it. `active_exceptions` turns the
approved, unexpired exceptions that cover an image (scope: its digest, one of its repositories,
or "*") in a stage into `containment.policy.exceptions.PolicyException` objects, the form
`policy.gate.evaluate` applies;
`with_exceptions` adds them to a parsed policy. An expired exception is simply not returned: it
stops applying the moment it expires, without anyone revoking it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from containment.model import ContainmentError
from containment.server.models import Policy, PolicyException, aware, now

log = logging.getLogger("containment.server.governance")

MAX_DAYS = 365  # an exception is a debt with a due date: at most a year
MAX_SUBJECT = 256
MAX_REASON = 4000
MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1
STATES = ("requested", "approved", "rejected", "revoked")
ANY = "*"
POLICY_NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
STAGE_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")  # the registry gate's stage names
DIGEST_RE = re.compile(r"\Asha(?:256:[0-9a-f]{64}|512:[0-9a-f]{128})\Z")
# registry host[:port]/path, as the store names repositories (store.split_reference)
REPOSITORY_RE = re.compile(
    r"\A[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]{1,5})?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+\Z"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_AUDIT_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"  # containment.audit's record time (sorts as text)


class GovernanceError(ContainmentError):
    """Input refused (HTTP 422)."""

    status = 422


class NotFound(GovernanceError):
    status = 404


class Conflict(GovernanceError):
    """The operation is allowed to the role, but not on this record, by this person, now."""

    status = 409


# ------------------------------------------------------------------------------ checks


def _text(what: str, value: Any, limit: int, required: bool = True) -> str:
    """Free text kept verbatim (injection strings are data): printable, bounded, no NUL."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise GovernanceError(f"{what}: a non-empty string is required")
    if len(value) > limit:
        raise GovernanceError(f"{what}: at most {limit} characters")
    if "\x00" in value:
        raise GovernanceError(f"{what}: text holds a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise GovernanceError(f"{what}: text holds an unpaired surrogate") from None
    return value


def _one_line(what: str, value: Any, limit: int) -> str:
    v = _text(what, value, limit)
    if _CONTROL.search(v) or v != v.strip():
        raise GovernanceError(f"{what}: one line, no control characters or surrounding spaces")
    return v


def check_scope(scope: Any) -> str:
    s = _one_line("scope", scope, 512)
    if s == ANY or DIGEST_RE.match(s) or REPOSITORY_RE.match(s):
        return s
    raise GovernanceError(
        "scope: an image digest (sha256:<64 hex>), a repository (registry/path, e.g. "
        '127.0.0.1:5000/app) or "*" for every image'
    )


def check_stage(stage: Any) -> str:
    s = _one_line("stage", stage, 64)
    if s == ANY or STAGE_RE.match(s):
        return s
    raise GovernanceError('stage: a stage name (letters, digits, . _ -) or "*" for every stage')


def parse_when(value: Any, what: str, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time (UTC when it names no zone). A bare date means its start,
    or with `end_of_day` the start of the next day (so "until 2026-12-31" takes in that day)."""
    if isinstance(value, datetime):
        return aware(value) or value
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise GovernanceError(
            f"{what}: an ISO 8601 date or date-time, e.g. 2026-12-31 or 2026-12-31T12:00:00Z"
        )
    v = value.strip()
    try:
        if len(v) == 10:
            d = date.fromisoformat(v)
            t = datetime(d.year, d.month, d.day, tzinfo=UTC)
            return t + timedelta(days=1) if end_of_day else t
        t = datetime.fromisoformat(v[:-1] + "+00:00" if v[-1:] in "zZ" else v)
    except ValueError:
        raise GovernanceError(
            f"{what}: {v[:40]!r} is not an ISO 8601 date or date-time (e.g. 2026-12-31T12:00:00Z)"
        ) from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _iso(t: datetime | None) -> str:
    t = aware(t)
    return t.isoformat().replace("+00:00", "Z") if t else ""


def _id(value: Any, what: str) -> int:
    """A record id from a path: a made-up one is simply not found (404), whatever it looks like."""
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        n = int(value)
    else:
        raise NotFound(f"no {what} {str(value)[:40]!r}")
    if not 1 <= n <= 2**62:
        raise NotFound(f"no {what} {n}")
    return n


def _bounds(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(int(limit), MAX_LIMIT)), max(0, min(int(offset), MAX_OFFSET))


# ------------------------------------------------------------------------------ policies


def _policy_json(p: Policy, document: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "version": p.version,
        "stages": [x for x in p.stage.split(",") if x],
        "created": _iso(p.created),
        "created_by": p.created_by,
        "approved_by": p.approved_by,
        "active": p.active,
    }
    if document:
        d["document"] = p.document
    return d


def _parse_uploaded(name: str, document: str) -> Any:
    """The policy parsed as the gate would; a document that names key *files* is refused before
    the parser could look for them (an upload must not probe the server's file system)."""
    from containment.checks import yamlload
    from containment.model import ConfigError
    from containment.policy.policyfile import PolicyFileError, parse_policy

    source = f"{name}.yaml"
    try:
        docs = yamlload.load(source, document.encode("utf-8"), yaml12=True)
    except ConfigError:
        docs = []  # the parser below says what is wrong, with the line
    for doc in docs[:1]:
        stages = doc.data.get("stages") if isinstance(doc.data, dict) else None
        for stage_name, st in (stages or {}).items() if isinstance(stages, dict) else ():
            sigs = st.get("required_signatures") if isinstance(st, dict) else None
            for i, k in enumerate(sigs if isinstance(sigs, list) else []):
                if not (isinstance(k, str) and re.fullmatch(r"(?:sha256:)?[0-9a-fA-F]{64}", k.strip())):
                    at = f"stages.{stage_name}.required_signatures[{i}]"
                    raise GovernanceError(
                        f"{source}: {at}: an uploaded policy names keys by key id (64 hex digits, "
                        "`containment key id FILE`), not by a file on the server"
                    )
    try:
        return parse_policy(document, source, base_dir="/nonexistent")
    except PolicyFileError as e:
        raise GovernanceError(str(e)) from None


def upload_policy(store: Any, name: Any, document: Any, actor: str) -> dict[str, Any]:
    """Store `document` (a policy YAML, validated by policyfile.parse_policy) as the next,
    inactive, version of policy `name`."""
    name = _one_line("name", name, 64)
    if not POLICY_NAME_RE.match(name):
        raise GovernanceError("name: letters, digits, . _ - (at most 64), starting with a letter or digit")
    document = _text("document", document, 1024 * 1024)
    parsed = _parse_uploaded(name, document)
    stages = ",".join(parsed.stages)[:512]
    from sqlalchemy.exc import IntegrityError

    try:
        with store.write() as s:
            version = int(s.scalar(select(func.max(Policy.version)).where(Policy.name == name)) or 0) + 1
            p = Policy(name=name, version=version, stage=stages, document=document, created_by=actor)
            s.add(p)
            s.flush()
            store._audit(
                s, actor, "policy.upload", f"{name} v{version}", {"id": p.id, "stages": list(parsed.stages)}
            )
            return _policy_json(p)
    except IntegrityError:  # another upload of the same name took this version number first
        raise Conflict(
            f"policy {name}: another version was uploaded at the same moment; send it again"
        ) from None


def policies(store: Any, name: str = "", limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    limit, offset = _bounds(limit, offset)
    q = select(Policy)
    if name:
        q = q.where(Policy.name == _one_line("name", name, 64))
    with store.read() as s:
        rows = s.scalars(q.order_by(Policy.name, Policy.version.desc()).limit(limit).offset(offset))
        return [_policy_json(p) for p in rows]


def policy(store: Any, policy_id: Any) -> dict[str, Any]:
    pid = _id(policy_id, "policy")
    with store.read() as s:
        p = s.get(Policy, pid)
        if p is None:
            raise NotFound(f"no policy {pid}")
        return _policy_json(p, document=True)


def activate_policy(store: Any, policy_id: Any, actor: str) -> dict[str, Any]:
    """Make version `policy_id` its name's active one (the others of that name inactive). Never
    by the person who uploaded it: changing policy takes two people."""
    pid = _id(policy_id, "policy")
    with store.write() as s:
        found = s.get(Policy, pid)
        if found is None:
            raise NotFound(f"no policy {pid}")
        # every version of the name locked, in id order (PostgreSQL; SQLite's writer holds the
        # database): two activations of the name at once take turns, and one active stays one
        versions = list(
            s.scalars(select(Policy).where(Policy.name == found.name).order_by(Policy.id).with_for_update())
        )
        p = next(v for v in versions if v.id == pid)
        if p.created_by == actor:
            raise Conflict(
                f"policy {p.name} v{p.version} was uploaded by you; another security member must "
                "activate it (two-person rule)"
            )
        if p.active:
            raise Conflict(f"policy {p.name} v{p.version} is already active")
        previous = [o for o in versions if o.active and o.id != p.id]
        for o in previous:
            o.active = False
        p.active, p.approved_by = True, actor
        s.flush()
        store._audit(
            s,
            actor,
            "policy.activate",
            f"{p.name} v{p.version}",
            {"id": p.id, "uploaded_by": p.created_by, "replaces": [o.version for o in previous]},
        )
        return _policy_json(p)


@dataclass(frozen=True)
class ActivePolicy:
    """An active policy version (uploaded by one person, activated by another), parsed."""

    id: int
    name: str
    version: int
    approved_by: str
    policy: Any  # containment.policy.policyfile.Policy

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"  # as the policy.upload / policy.activate records name it


def active_policies(store: Any) -> dict[str, ActivePolicy]:
    """Stage -> the active policy that decides it: what the registry gate evaluates for a
    registry gating that stage (instead of the registry's own policy file) and where the
    re-evaluation takes that stage's thresholds. Active versions of two names may declare the
    same stage: the name that sorts first decides it, in both places. An active document that no
    longer parses (a parser grown stricter) is skipped with a warning: the next one, or the
    registry's own policy, decides."""
    from containment.policy.policyfile import parse_policy

    with store.read() as s:
        rows = [
            (p.name, p.version, p.id, p.approved_by, p.document)
            for p in s.scalars(select(Policy).where(Policy.active))
        ]
    out: dict[str, ActivePolicy] = {}
    for name, version, pid, approved_by, document in sorted(rows):
        try:
            parsed = parse_policy(document, f"policy {name} v{version}", base_dir="/nonexistent")
        except ContainmentError as e:
            log.warning("active policy unreadable", extra={"policy": f"{name} v{version}", "detail": str(e)})
            continue
        for stage in parsed.stages:
            out.setdefault(stage, ActivePolicy(int(pid), name, int(version), approved_by, parsed))
    return out


# ------------------------------------------------------------------------------ exceptions


def _exception_json(e: PolicyException, at: datetime | None = None) -> dict[str, Any]:
    expires = aware(e.expires)
    return {
        "id": e.id,
        "subject": e.subject,
        "scope": e.scope,
        "stage": e.stage,
        "reason": e.reason,
        "state": e.state,
        "requested_by": e.requested_by,
        "decided_by": e.decided_by,
        "created": _iso(e.created),
        "decided": _iso(e.decided),
        "expires": _iso(expires),
        "expired": expires is not None and expires <= (at or now()),
    }


def request_exception(
    store: Any, subject: Any, scope: Any, stage: Any, reason: Any, expires: Any, actor: str
) -> dict[str, Any]:
    """A new exception in state `requested`: waive finding or rule `subject` for images in
    `scope` at `stage` until `expires` (in the future, at most MAX_DAYS ahead)."""
    subject = _one_line("subject", subject, MAX_SUBJECT)
    scope = check_scope(scope)
    stage = check_stage(stage)
    reason = _text("reason", reason, MAX_REASON)
    until = parse_when(expires, "expires", end_of_day=True)
    t = now()
    if until <= t:
        raise GovernanceError(f"expires: {_iso(until)} has passed; give a date in the future")
    if until > t + timedelta(days=MAX_DAYS, hours=24):
        raise GovernanceError(
            f"expires: at most {MAX_DAYS} days ahead (an exception is reviewed at least yearly)"
        )
    with store.write() as s:
        e = PolicyException(
            subject=subject, scope=scope, stage=stage, reason=reason, requested_by=actor, expires=until
        )
        s.add(e)
        s.flush()
        store._audit(
            s,
            actor,
            "exception.request",
            subject,
            {"id": e.id, "scope": scope, "stage": stage, "expires": _iso(until), "reason": reason},
        )
        return _exception_json(e, t)


def exceptions(store: Any, state: str = "", limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Exceptions newest first; `state` one of STATES, or "expired" (approved, past their date)."""
    limit, offset = _bounds(limit, offset)
    t = now()
    q = select(PolicyException)
    if state == "expired":
        q = q.where(PolicyException.state == "approved", PolicyException.expires <= t)
    elif state:
        if state not in STATES:
            raise GovernanceError(f"state: one of {', '.join(STATES)}, expired")
        q = q.where(PolicyException.state == state)
    with store.read() as s:
        rows = s.scalars(q.order_by(PolicyException.id.desc()).limit(limit).offset(offset))
        return [_exception_json(e, t) for e in rows]


def exception(store: Any, exception_id: Any) -> dict[str, Any]:
    eid = _id(exception_id, "exception")
    with store.read() as s:
        e = s.get(PolicyException, eid)
        if e is None:
            raise NotFound(f"no exception {eid}")
        return _exception_json(e)


def decide(store: Any, exception_id: Any, actor: str, approve: bool) -> dict[str, Any]:
    """Approve or reject a requested exception; never by its requester (separation of duties)."""
    eid = _id(exception_id, "exception")
    verb = "approve" if approve else "reject"
    t = now()
    with store.write() as s:
        e = s.get(PolicyException, eid, with_for_update=True)  # concurrent deciders take turns
        if e is None:
            raise NotFound(f"no exception {eid}")
        if e.requested_by == actor:
            raise Conflict(
                f"exception {eid} was requested by you; someone else in security must {verb} it "
                "(separation of duties)"
            )
        if e.state != "requested":
            raise Conflict(f"exception {eid} is {e.state} already; only a requested one can be {verb}d")
        expires = aware(e.expires)
        if approve and expires is not None and expires <= t:
            raise Conflict(
                f"exception {eid} expired on {_iso(expires)} before it was approved; request it anew"
            )
        e.state, e.decided_by, e.decided = ("approved" if approve else "rejected"), actor, t
        s.flush()
        store._audit(
            s,
            actor,
            f"exception.{verb}",
            e.subject,
            {"id": e.id, "requested_by": e.requested_by, "scope": e.scope, "stage": e.stage},
        )
        return _exception_json(e, t)


def revoke(store: Any, exception_id: Any, actor: str, role: str) -> dict[str, Any]:
    """Withdraw an exception: security may revoke any requested or approved one; the requester
    may withdraw their own while it waits for a decision."""
    eid = _id(exception_id, "exception")
    t = now()
    with store.write() as s:
        e = s.get(PolicyException, eid, with_for_update=True)
        if e is None:
            raise NotFound(f"no exception {eid}")
        if e.state not in ("requested", "approved"):
            raise Conflict(f"exception {eid} is {e.state} already; there is nothing to revoke")
        if role != "security" and not (e.requested_by == actor and e.state == "requested"):
            raise Conflict(
                f"exception {eid}: only security, or its requester while it is pending, may revoke it"
            )
        was = e.state
        e.state, e.decided_by, e.decided = "revoked", actor, t
        s.flush()
        store._audit(s, actor, "exception.revoke", e.subject, {"id": e.id, "was": was})
        return _exception_json(e, t)


def active_exceptions(
    store: Any, stage: str, digest: str, repositories: Iterable[str] = (), at: datetime | None = None
) -> list[Any]:
    """The approved, unexpired exceptions covering image `digest` (seen in `repositories`) at
    `stage`, as containment.policy.exceptions.PolicyException objects for policy.gate.evaluate.

    The scope is matched here (digest, repository or "*"), so each comes back with no image glob
    of its own; its reason names the exception ("server exception #12: ...") so a decision that
    used it says which one."""
    from containment.policy.exceptions import PolicyException as Waiver

    t = at or now()
    scopes = [ANY, *([digest] if digest else []), *repositories]
    with store.read() as s:
        rows = list(
            s.scalars(
                select(PolicyException)
                .where(
                    PolicyException.state == "approved",
                    PolicyException.expires > t,
                    or_(PolicyException.stage == stage, PolicyException.stage == ANY),
                    PolicyException.scope.in_(scopes),
                )
                .order_by(PolicyException.id)
                .limit(10_000)
            )
        )
    out = []
    for e in rows:
        expires = aware(e.expires)
        assert expires is not None  # the query keeps only exceptions with a date
        out.append(
            Waiver(
                id=e.subject,
                reason=f"server exception #{e.id} ({e.scope}): {e.reason}",
                approver=e.decided_by,
                expires=(expires - timedelta(microseconds=1)).date(),
                stages=(stage,),
            )
        )
    return out


def with_exceptions(
    store: Any, policy: Any, stage: str, digest: str, repositories: Sequence[str] = ()
) -> Any:
    """`policy` (a parsed policyfile.Policy) with the server's active exceptions for this image added."""
    extra = active_exceptions(store, stage, digest, repositories)
    return replace(policy, exceptions=(*policy.exceptions, *extra)) if extra else policy


def waived_ids(store: Any, stage: str, digest: str, repositories: Iterable[str] = ()) -> frozenset[str]:
    """The finding ids (casefolded) the active exceptions waive for this image at `stage`."""
    return frozenset(e.id.casefold() for e in active_exceptions(store, stage, digest, repositories))


# ------------------------------------------------------------------------------ audit


def audit_where(q: Any, actor: str = "", action: str = "", subject: str = "") -> Any:
    """`q` (a select over audit_records) narrowed to one actor, an action or its family ("scan"
    matches "scan.put"), and a subject or its beginning ("sha256:ab" finds that image's records);
    the API and the dashboard's audit page filter the same way."""
    from containment.server.models import audit_records as t

    if actor:
        q = q.where(t.c.actor == actor)
    if action:
        q = q.where((t.c.action == action) | t.c.action.startswith(action + ".", autoescape=True))
    if subject:
        q = q.where(t.c.subject.startswith(subject, autoescape=True))
    return q


def audit_records(
    store: Any,
    actor: str = "",
    action: str = "",
    subject: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Audit records, newest first, exactly as `containment audit export` writes them
    (containment.audit.row_record). `action` matches an action or its family ("exception"
    matches "exception.approve"); `subject` is a prefix; `since` inclusive, `until` exclusive."""
    from containment import audit
    from containment.server.models import audit_records as t

    limit, offset = _bounds(limit, offset)
    q = audit_where(select(t), actor, action, subject)
    if since is not None:
        q = q.where(t.c.time >= since.astimezone(UTC).strftime(_AUDIT_TIME))
    if until is not None:
        q = q.where(t.c.time < until.astimezone(UTC).strftime(_AUDIT_TIME))
    with store.read() as s:
        rows = s.execute(q.order_by(t.c.seq.desc()).limit(limit).offset(offset)).all()
    return [audit.row_record(r) for r in rows]
