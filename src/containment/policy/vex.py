"""VEX documents: OpenVEX (0.2.0, and the older string forms) and CycloneDX VEX (JSON).

A statement says, for some vulnerability ids and some products, whether they are affected.
Statements that say `not_affected` or `fixed` (CycloneDX: `not_affected`, `false_positive`,
`resolved`, `resolved_with_pedigree`) suppress the matching findings; `affected`,
`under_investigation` (`exploitable`, `in_triage`) do not. When several statements match a
finding, the latest one wins (by timestamp, then by position in the document), as OpenVEX
specifies.

Matching a finding:
- vulnerability: the statement's name / @id / aliases against the finding id, aliases and
  advisory ids (case-insensitive);
- product: a package purl (no version: any version; with version: exactly it; qualifiers only
  when given) matches the finding's package. An image product (`pkg:oci/...`, `pkg:docker/...`,
  an image reference or a digest) matches when it names the scanned image (pass `inventory`
  to `apply`); with `subcomponents`, one of them must match the package, without, every
  package of the image is covered. A package product with subcomponents (a Go binary and its
  stdlib) covers a subcomponent found at the same path as a package matching the product.

The Suppression keeps the status at the head of its reason (`"not_affected: <impact
statement>"`, `"fixed"`), the justification as the document wrote it, and the file."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from containment import fserrors
from containment.model import Finding, Inventory, PolicyError, Suppression
from containment.policy import _purl

MAX_SIZE = 64 * 1024 * 1024

OPENVEX_STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
OPENVEX_JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
CDX_STATES = (
    "resolved",
    "resolved_with_pedigree",
    "exploitable",
    "in_triage",
    "false_positive",
    "not_affected",
)
SUPPRESSING = frozenset({"not_affected", "fixed", "false_positive", "resolved", "resolved_with_pedigree"})

_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Product:
    id: str  # a purl or an image reference / digest
    kind: str  # "package" | "image"
    subcomponents: tuple[str, ...] = ()  # purls


@dataclass(frozen=True)
class VexStatement:
    vulnerabilities: tuple[str, ...]
    products: tuple[Product, ...]
    status: str
    justification: str = ""
    detail: str = ""
    timestamp: dt.datetime = _EPOCH
    index: int = 0

    @property
    def suppresses(self) -> bool:
        return self.status in SUPPRESSING

    def names(self, f: Finding) -> bool:
        ids = {i.casefold() for i in (f.id, *f.aliases, *f.advisory_ids)}
        return any(v.casefold() in ids for v in self.vulnerabilities)


@dataclass(frozen=True)
class VexDocument:
    format: str  # "openvex" | "cyclonedx"
    source: str
    statements: tuple[VexStatement, ...]
    warnings: tuple[str, ...] = ()

    def apply(
        self, findings: Iterable[Finding], inventory: Inventory | None = None
    ) -> tuple[tuple[Finding, ...], list[str]]:
        """Mark the findings the document says are not affected (or fixed).

        `inventory` is the scanned image/filesystem: statements whose product is an image are
        matched against its target and digests (without it they match nothing, with a
        warning). Already-suppressed findings are left as they are."""
        warnings = list(self.warnings)
        if inventory is None and any(p.kind == "image" for s in self.statements for p in s.products):
            warnings.append(
                f"{self.source}: statements about an image product were not applied (no scan target given)"
            )
        by_path: dict[str, list[str]] = {}
        if inventory is not None:
            for p in inventory.packages:
                by_path.setdefault(p.path, []).append(p.purl)
        image_ok: dict[str, bool] = {}

        def image(ref: str) -> bool:
            if ref not in image_ok:
                image_ok[ref] = inventory is not None and image_matches(ref, inventory)
            return image_ok[ref]

        out = []
        for f in findings:
            if f.suppressed is None:
                hits = [s for s in self.statements if s.names(f) and _covers(s, f, image, by_path)]
                if hits:
                    s = max(hits, key=lambda s: (s.timestamp, s.index))
                    if s.suppresses:
                        reason = s.status + (f": {s.detail}" if s.detail else "")
                        f = replace(
                            f,
                            suppressed=Suppression(
                                kind="vex", reason=reason, source=self.source, justification=s.justification
                            ),
                        )
            out.append(f)
        return tuple(out), warnings


def _covers(s: VexStatement, f: Finding, image: Any, by_path: dict[str, list[str]]) -> bool:
    purl = f.package.purl
    for p in s.products:
        subs_ok = not p.subcomponents or any(_purl.matches(c, purl) for c in p.subcomponents)
        if p.kind == "image":
            if subs_ok and image(p.id):
                return True
        elif not p.subcomponents:
            if _purl.matches(p.id, purl):
                return True
        elif subs_ok and (
            _purl.matches(p.id, purl) or any(_purl.matches(p.id, o) for o in by_path.get(f.package.path, ()))
        ):
            return True
    return False


# ---------------------------------------------------------------------------- images


def _norm_repo(repo: str) -> str:
    repo = repo.strip().lower()
    for prefix in ("docker://", "registry:", "docker:", "https://", "http://"):
        if repo.startswith(prefix):
            repo = repo[len(prefix) :]
    for prefix in ("index.docker.io/", "registry-1.docker.io/", "docker.io/"):
        if repo.startswith(prefix):
            repo = repo[len(prefix) :]
    if repo.startswith("library/"):
        repo = repo[len("library/") :]
    return repo.rstrip("/")


def _split_ref(ref: str) -> tuple[str, str, str]:
    """(repository, tag, digest) of an image reference."""
    ref = ref.strip()
    digest = ""
    if "@" in ref:
        ref, _, digest = ref.partition("@")
    tag = ""
    colon = ref.rfind(":")
    if colon > ref.rfind("/"):
        ref, tag = ref[:colon], ref[colon + 1 :]
    return _norm_repo(ref), tag, digest.lower()


def image_matches(ref: str, inv: Inventory) -> bool:
    """Does the image product `ref` (pkg:oci / pkg:docker purl, image reference or digest) name
    the scanned image?"""
    digests = {d.lower() for d in (inv.image_digest, inv.image_id) if d}
    digests |= set(_DIGEST_RE.findall(inv.target.lower()))
    t_repo, t_tag, _ = _split_ref(inv.target)
    if ref.lower().startswith(("pkg:oci/", "pkg:docker/")):
        p = _purl.parse(ref)
        if p is None:
            return False
        if p.version:
            return p.version.lower() in digests
        name = p.base.split("/", 1)[1]
        repo = p.qualifiers.get("repository_url") or name
        repo = _norm_repo(repo)
        tag = p.qualifiers.get("tag", "")
        # pkg:oci names carry no namespace: compare the last path segment when no repository_url
        if ref.lower().startswith("pkg:oci/") and "repository_url" not in p.qualifiers:
            return t_repo.rsplit("/", 1)[-1] == repo and (not tag or tag == t_tag)
    elif _DIGEST_RE.fullmatch(ref.strip().lower()):
        return ref.strip().lower() in digests
    else:
        repo, tag, digest = _split_ref(ref)
        if digest:
            return digest in digests
    if not repo:
        return False
    same = t_repo == repo or t_repo.endswith("/" + repo)
    return same and (not tag or tag == t_tag)


# ------------------------------------------------------------------------------ loading


def load_vex(path: str | Path) -> VexDocument:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_SIZE:
            raise PolicyError(f"{p}: VEX document is larger than {MAX_SIZE // 1024 // 1024} MiB")
        data = p.read_bytes()
    except PolicyError:
        raise
    except FileNotFoundError:
        raise PolicyError(f"{p}: VEX document not found; check the path (--vex)") from None
    except OSError as e:
        raise PolicyError(f"{fserrors.problem(p, e)} (the VEX document)") from None
    return parse_vex(data, str(p))


def parse_vex(data: bytes | str, source: str = "<vex>") -> VexDocument:
    """Parse an OpenVEX or CycloneDX VEX JSON document; anything else is a PolicyError."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise PolicyError(
            f"{source}: not a JSON VEX document ({str(e)[:120]}); give an OpenVEX or CycloneDX VEX JSON file"
        ) from None
    if not isinstance(doc, dict):
        raise PolicyError(f"{source}: a VEX document is a JSON object (OpenVEX or CycloneDX)")
    ctx = doc.get("@context")
    if (isinstance(ctx, str) and "openvex" in ctx.lower()) or "statements" in doc:
        return _openvex(doc, source)
    if doc.get("bomFormat") == "CycloneDX" or "vulnerabilities" in doc:
        return _cyclonedx(doc, source)
    raise PolicyError(
        f"{source}: neither OpenVEX (@context openvex, statements) nor CycloneDX (bomFormat) VEX"
    )


def _err(source: str, where: str, what: str) -> PolicyError:
    return PolicyError(f"{source}: {where}: {' '.join(what.split())}")


def _obj(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _str(v: Any) -> str:
    return v.strip() if isinstance(v, str) else ""


def _time(v: Any) -> dt.datetime | None:
    if not isinstance(v, str) or not v.strip():
        return None
    try:
        t = dt.datetime.fromisoformat(v.strip())
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _last_segment(iri: str) -> str:
    return unquote(iri.rstrip("/").rsplit("/", 1)[-1]) if "://" in iri else iri


def _product(x: Any, source: str, where: str) -> Product:
    subs_raw: Any = []
    if isinstance(x, str):
        pid = x
    elif isinstance(x, dict):
        ident = _obj(x.get("identifiers"))
        pid = _str(x.get("@id")) or _str(ident.get("purl"))
        subs_raw = x.get("subcomponents") or []
        if not isinstance(subs_raw, list):
            raise _err(source, where, "`subcomponents` must be a list")
    else:
        raise _err(source, where, "a product is an object with an @id (a purl or an image reference)")
    pid = pid.strip()
    if not pid:
        raise _err(source, where, "product has no @id or identifiers.purl")
    subs = []
    for s in subs_raw:
        sub = _product(s, source, where + " subcomponent")
        if _purl.parse(sub.id) is None:
            raise _err(source, where, f"subcomponent {sub.id[:80]!r} is not a purl")
        subs.append(sub.id)
    is_pkg = _purl.parse(pid) is not None and not pid.lower().startswith(("pkg:oci/", "pkg:docker/"))
    return Product(pid, "package" if is_pkg else "image", tuple(subs))


def _openvex(doc: dict[str, Any], source: str) -> VexDocument:
    statements = doc.get("statements")
    if not isinstance(statements, list):
        raise PolicyError(f"{source}: OpenVEX `statements` must be a list")
    doc_time = _time(doc.get("last_updated")) or _time(doc.get("timestamp")) or _EPOCH
    out, warnings = [], []
    for i, st in enumerate(statements):
        where = f"statement {i + 1}"
        if not isinstance(st, dict):
            raise _err(source, where, "a statement is an object")
        vuln = st.get("vulnerability")
        ids: list[str] = []
        if isinstance(vuln, str):
            ids = [vuln]
        elif isinstance(vuln, dict):
            ids = [_str(vuln.get("name")), _last_segment(_str(vuln.get("@id")))]
            aliases = vuln.get("aliases") or []
            if not isinstance(aliases, list):
                raise _err(source, where, "`vulnerability.aliases` must be a list")
            ids += [_str(a) for a in aliases]
        ids = list(dict.fromkeys(i for i in ids if i))
        if not ids:
            raise _err(source, where, "`vulnerability` needs a name (e.g. CVE-2024-1234)")
        products_raw = st.get("products")
        if not isinstance(products_raw, list) or not products_raw:
            raise _err(source, where, f"no `products` for {ids[0]}; list the purls or image it is about")
        products = tuple(_product(p, source, where) for p in products_raw)
        status = _str(st.get("status"))
        if status not in OPENVEX_STATUSES:
            raise _err(source, where, f"status {status[:40]!r} is not one of {', '.join(OPENVEX_STATUSES)}")
        just = _str(st.get("justification"))
        if just and just not in OPENVEX_JUSTIFICATIONS:
            raise _err(
                source,
                where,
                f"justification {just[:60]!r} is not one of {', '.join(OPENVEX_JUSTIFICATIONS)}",
            )
        impact = _str(st.get("impact_statement"))
        action = _str(st.get("action_statement"))
        if status == "not_affected" and not (just or impact):
            warnings.append(
                f"{source}: {where} ({ids[0]}): not_affected without justification or impact_statement"
                " (OpenVEX requires one)"
            )
        detail = impact if status == "not_affected" else (action or _str(st.get("status_notes")))
        ts = _time(st.get("last_updated")) or _time(st.get("timestamp")) or doc_time
        out.append(VexStatement(tuple(ids), products, status, just, detail, ts, i))
    return VexDocument("openvex", source, tuple(out), tuple(warnings))


def _walk_components(comps: Any, refs: dict[str, str], source: str, depth: int = 0) -> None:
    if comps is None:
        return
    if not isinstance(comps, list) or depth > 50:
        raise PolicyError(f"{source}: CycloneDX `components` must be a list")
    for c in comps:
        if not isinstance(c, dict):
            raise PolicyError(f"{source}: a CycloneDX component is an object")
        ref, purl = _str(c.get("bom-ref")), _str(c.get("purl"))
        if ref and purl:
            refs[ref] = purl
        _walk_components(c.get("components"), refs, source, depth + 1)


def _cyclonedx(doc: dict[str, Any], source: str) -> VexDocument:
    vulns = doc.get("vulnerabilities")
    if not isinstance(vulns, list):
        raise PolicyError(f"{source}: CycloneDX `vulnerabilities` must be a list")
    refs: dict[str, str] = {}
    _walk_components(doc.get("components"), refs, source)
    subject = _obj(_obj(doc.get("metadata")).get("component"))
    subject_ref = _str(subject.get("bom-ref"))
    version = _str(subject.get("version"))
    subject_id = _str(subject.get("purl")) or (
        _str(subject.get("name"))
        + (("@" if version.startswith("sha256:") else ":") + version if version else "")
    )
    out, warnings = [], []
    for i, v in enumerate(vulns):
        where = f"vulnerabilities[{i}]"
        if not isinstance(v, dict):
            raise _err(source, where, "a vulnerability is an object")
        vid = _str(v.get("id"))
        if not vid:
            raise _err(source, where, "`id` is missing (e.g. CVE-2024-1234)")
        ids = [vid]
        references = v.get("references") or []
        if not isinstance(references, list):
            raise _err(source, where, "`references` must be a list")
        ids += [_str(r.get("id")) for r in references if isinstance(r, dict) and _str(r.get("id"))]
        analysis = v.get("analysis")
        if analysis is None:
            continue  # a plain vulnerability listing, no VEX statement
        if not isinstance(analysis, dict):
            raise _err(source, where, "`analysis` must be an object")
        state = _str(analysis.get("state"))
        if not state:
            continue
        if state not in CDX_STATES:
            raise _err(source, where, f"analysis.state {state[:40]!r} is not one of {', '.join(CDX_STATES)}")
        affects = v.get("affects")
        if not isinstance(affects, list) or not affects:
            raise _err(source, where, f"no `affects` for {vid}; list the bom-refs or purls it is about")
        products = []
        for a in affects:
            ref = _str(a.get("ref")) if isinstance(a, dict) else ""
            if not ref:
                raise _err(source, where, "each `affects` entry needs a `ref` (a bom-ref or purl)")
            key = unquote(ref.split("#", 1)[1]) if ref.startswith("urn:cdx:") and "#" in ref else ref
            if key in refs:
                products.append(Product(refs[key], "package"))
            elif subject_ref and key == subject_ref:
                if subject_id:
                    products.append(_product(subject_id, source, where))
                else:
                    warnings.append(f"{source}: {where}: affects the document's subject, which has no name")
            elif _purl.parse(key) is not None:
                products.append(_product(key, source, where))
            else:
                warnings.append(
                    f"{source}: {where}: affects ref {key[:80]!r} is not a component of the document"
                )
        if not products:
            continue
        just = _str(analysis.get("justification"))
        detail = _str(analysis.get("detail"))
        ts = _time(analysis.get("lastUpdated")) or _time(analysis.get("firstIssued")) or _EPOCH
        out.append(VexStatement(tuple(dict.fromkeys(ids)), tuple(products), state, just, detail, ts, i))
    return VexDocument("cyclonedx", source, tuple(out), tuple(warnings))
