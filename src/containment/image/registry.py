"""Images straight from a registry: OCI Distribution API v2, pull and push.

Anonymous, basic and bearer-token auth (credentials from the same files skopeo, podman and
docker read), OCI indexes and Docker manifest lists, every manifest and config checked against
its digest, layer blobs streamed (the walk hashes them as it reads; `verify_layer` compares).

The push side (signatures, attestations, promotion) speaks the same API: HEAD a blob before
sending it, cross-repository mount within one registry, monolithic upload (POST then PUT
?digest=) or PATCH chunks for big blobs, always streamed from a file; manifests PUT by tag or
digest with their media type, the registry's digest checked against ours; tags listed page by
page. Bearer tokens are asked for every scope the registry's challenge names (a mount needs
push on the target and pull on the source).
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import httpx

from containment.image.source import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_JSON,
    OCI_INDEX,
    OCI_MANIFEST,
    Image,
    Platform,
    check_digest,
    check_size,
    config_and_layers,
    declared_size,
    digest_of,
    parse_json,
    select_platform,
)
from containment.model import ImageError, LayerInfo

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])
REPO_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
CHUNK = 32 << 20  # blobs up to this size go in one PUT; bigger ones in PATCH chunks of this size
READ = 1 << 20  # bytes read from a file per step of an upload
MAX_TAG_PAGES = 1000  # tag listing pages followed before refusing the registry's Link chain as hostile
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what a request body is: bytes, or a factory called once per attempt (a retry after a 401 re-reads)
Body = bytes | Callable[[], Iterable[bytes]]


class RegistryUnreachable(ImageError):
    """No connection to the registry at all (offline, DNS, refused): not a TLS or HTTP problem."""


class ManifestUnknown(ImageError):
    """The registry has no such repository or tag."""


def connect_failure(e: BaseException, tls: bool) -> tuple[str, str]:
    """(why, hint) for a failed connection, from the error under httpx's: --plain-http is
    suggested only when a TLS handshake failed, --insecure only for an untrusted certificate."""
    import socket
    import ssl

    import httpx

    if isinstance(e, httpx.ConnectTimeout):
        return "timed out connecting", ""
    x: BaseException | None = e
    for _ in range(8):
        if x is None:
            break
        if isinstance(x, ssl.SSLCertVerificationError):
            return (
                f"TLS certificate not trusted: {x.verify_message or x}",
                " (a test registry? add --insecure)",
            )
        if isinstance(x, ssl.SSLError):
            return (
                f"TLS handshake failed: {getattr(x, 'reason', None) or x}",
                " (is it plain HTTP? add --plain-http)" if tls else "",
            )
        if isinstance(x, socket.gaierror):
            return f"cannot resolve the name: {x.strerror or x}; offline?", ""
        if isinstance(x, OSError) and x.errno:
            return os.strerror(x.errno).lower(), ""
        x = x.__cause__ or x.__context__
    hint = " (is it plain HTTP? add --plain-http)" if tls else ""
    return str(e) or type(e).__name__, hint


@dataclass(frozen=True)
class Reference:
    registry: str  # host[:port], docker.io normalized
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        s = f"{self.registry}/{self.repository}"
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s


def parse_reference(text: str) -> Reference:
    """Docker's rules: the first part is a registry when it has a dot or a port or is localhost."""
    s = text.strip()
    if s.startswith("docker://"):
        s = s[len("docker://") :]
    digest = None
    if "@" in s:
        s, digest = s.split("@", 1)
        check_digest(digest, text)
    tag = None
    last = s.rsplit("/", 1)[-1]
    if ":" in last:
        s, tag = s.rsplit(":", 1)
        if not TAG_RE.match(tag):
            raise ImageError(
                f"{text}: invalid tag {tag!r}; a tag is up to 128 letters, digits, '_', '.' or '-'"
            )
    parts = s.split("/", 1)
    if len(parts) == 2 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, repo = parts
    else:
        registry, repo = DOCKER_HUB, s
    if registry in ("index.docker.io", DOCKER_HUB_API):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repo:
        repo = f"library/{repo}"
    if not REPO_RE.match(repo):
        raise ImageError(f"{text}: invalid repository name {repo!r}; use [REGISTRY/]REPO[:TAG|@DIGEST]")
    if tag is None and digest is None:
        tag = "latest"
    return Reference(registry, repo, tag, digest)


def auth_files() -> list[str]:
    """Where skopeo/podman/docker keep credentials, in their order of precedence."""
    files = []
    if os.environ.get("REGISTRY_AUTH_FILE"):
        files.append(os.environ["REGISTRY_AUTH_FILE"])
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    files.append(os.path.join(runtime, "containers", "auth.json"))
    home = os.path.expanduser("~")
    files.append(
        os.path.join(
            os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "containers", "auth.json"
        )
    )
    docker_cfg = os.environ.get("DOCKER_CONFIG") or os.path.join(home, ".docker")
    files.append(os.path.join(docker_cfg, "config.json"))
    return files


def credentials_for(registry: str, repository: str = "") -> tuple[str, str] | None:
    """(user, password) for a registry from the auth files, or None for anonymous access."""
    keys = [f"{registry}/{repository}"] if repository else []
    keys += [
        registry,
        f"https://{registry}",
        f"http://{registry}",
        f"https://{registry}/v1/",
        f"https://{registry}/v2/",
    ]
    if registry == DOCKER_HUB:
        keys += ["https://index.docker.io/v1/", "index.docker.io", DOCKER_HUB_API]
    for path in auth_files():
        try:
            with open(path, "rb") as f:
                doc = json.loads(f.read(1 << 20))
        except (OSError, ValueError):
            continue
        auths = doc.get("auths") if isinstance(doc, dict) else None
        if not isinstance(auths, dict):
            continue
        for k in keys:
            ent = auths.get(k)
            if not isinstance(ent, dict):
                continue
            if ent.get("username") and ent.get("password"):
                return str(ent["username"]), str(ent["password"])
            raw = ent.get("auth")
            if isinstance(raw, str) and raw:
                try:
                    user, _, pw = base64.b64decode(raw).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    raise ImageError(
                        f"{path}: the auth entry for {k} is not base64 user:password; fix or re-run login"
                    ) from None
                return user, pw
    return None


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class RegistryClient:
    """A small distribution-spec client: one per registry host and repository."""

    def __init__(
        self, ref: Reference, plain_http: bool = False, timeout: float = 60.0, verify_tls: bool = True
    ) -> None:
        self.ref = ref
        host = DOCKER_HUB_API if ref.registry == DOCKER_HUB else ref.registry
        self.base = f"{'http' if plain_http else 'https'}://{host}"
        self.creds = credentials_for(ref.registry, ref.repository)
        self._auth: str | None = None
        self._lock = threading.Lock()
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=15.0),
            follow_redirects=True,
            verify=verify_tls,
            headers={"User-Agent": "containment"},
        )

    def close(self) -> None:
        self.http.close()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = dict(extra or {})
        if self._auth:
            h["Authorization"] = self._auth
        return h

    def _authenticate(self, resp: httpx.Response, method: str = "GET") -> None:
        challenge = resp.headers.get("WWW-Authenticate", "")
        scheme, params = _parse_challenge(challenge)
        where = f"{self.ref.registry}/{self.ref.repository}"
        if scheme == "basic":
            if not self.creds:
                raise ImageError(
                    f"{where}: the registry needs a login; add credentials with `podman login` / "
                    "`skopeo login` or set REGISTRY_AUTH_FILE"
                )
            tok = base64.b64encode(f"{self.creds[0]}:{self.creds[1]}".encode()).decode()
            self._auth = f"Basic {tok}"
            return
        if scheme == "bearer" and params.get("realm"):
            q: dict[str, str | list[str]] = {"service": params["service"]} if params.get("service") else {}
            # distribution names several scopes in one challenge, space-separated (a mount needs
            # push here and pull on the source): the token spec wants one `scope` parameter each
            actions = "pull,push" if method in WRITE_METHODS else "pull"
            scopes = (params.get("scope") or f"repository:{self.ref.repository}:{actions}").split()
            q["scope"] = scopes
            auth = httpx.BasicAuth(*self.creds) if self.creds else None
            try:
                r = self.http.get(params["realm"], params=q, auth=auth)
            except httpx.HTTPError as e:
                raise ImageError(
                    f"{where}: token service {params['realm']} unreachable ({e}); check the network or retry"
                ) from None
            if r.status_code in (401, 403):
                raise ImageError(
                    f"{where}: the token service refused the credentials ({r.status_code}); check your login"
                )
            if r.status_code != 200:
                raise ImageError(f"{where}: token service answered {r.status_code}; retry later")
            try:
                doc = r.json()
                token = doc.get("token") or doc.get("access_token")
            except ValueError:
                token = None
            if not isinstance(token, str) or not token:
                raise ImageError(f"{where}: token service sent no token; retry later or check your login")
            self._auth = f"Bearer {token}"
            return
        raise ImageError(
            f"{where}: unsupported authentication challenge {challenge!r}; containment speaks basic and bearer"
        )

    def _request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        *,
        params: dict[str, str] | None = None,
        content: Body | None = None,
        url: str | None = None,
    ) -> httpx.Response:
        """One API call, authenticated on a 401 and sent again once. `url` (an upload's
        Location) replaces `path`; `content` is re-made for the second attempt."""
        url = url or f"{self.base}/v2/{self.ref.repository}/{path}"
        if params:  # httpx replaces a URL's query with `params`: an upload Location keeps its own
            url, params = str(httpx.URL(url).copy_merge_params(params)), None
        where = f"{self.ref.registry}/{self.ref.repository}"
        for attempt in range(2):
            try:
                body = content() if callable(content) else content
                req = self.http.build_request(
                    method, url, headers=self._headers(headers), params=params, content=body
                )
                resp = self.http.send(req, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as e:
                why, hint = connect_failure(e, self.base.startswith("https"))
                err = ImageError if hint else RegistryUnreachable
                raise err(
                    f"{where}: cannot connect to {self.base} ({why}){hint}; check the registry address"
                ) from None
            except httpx.HTTPError as e:
                raise ImageError(
                    f"{where}: request to {url} failed ({e}); check the network or retry"
                ) from None
            if resp.status_code == 401 and attempt == 0:
                if stream:
                    resp.close()
                with self._lock:
                    self._authenticate(resp, method)
                continue
            return resp
        if resp.status_code == 401:
            raise ImageError(
                f"{where}: access denied (401); check credentials (podman login / REGISTRY_AUTH_FILE)"
            )
        return resp

    def get_manifest(self, reference: str) -> tuple[bytes, str, str]:
        """(body, media type, digest) with the digest verified."""
        resp = self._request("GET", f"manifests/{reference}", {"Accept": ACCEPT})
        where = f"{self.ref.registry}/{self.ref.repository}:{reference}"
        if resp.status_code == 404:
            raise ManifestUnknown(f"{where}: manifest not found; check the repository and tag")
        if resp.status_code != 200:
            raise ImageError(
                f"{where}: registry answered {resp.status_code} for the manifest; retry or check the reference"
            )
        body = resp.content
        if len(body) > MAX_JSON:
            raise ImageError(f"{where}: manifest larger than {MAX_JSON} bytes; refusing it as hostile")
        mt = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if ":" in reference:  # a digest (a tag has no colon; sha256-<hex>.sig is a tag)
            got = digest_of(body, reference.split(":")[0])
            if got != reference:
                raise ImageError(
                    f"{where}: registry returned a manifest with digest {got}; the registry or a proxy is "
                    "corrupting data: retry, or pull through another mirror"
                )
            digest = reference
        else:
            digest = digest_of(body)
            claimed = resp.headers.get("Docker-Content-Digest")
            if claimed and claimed.startswith("sha256:") and claimed != digest:
                raise ImageError(
                    f"{where}: manifest digest {digest} does not match the registry's {claimed}; refusing it "
                    "(retry, or pin the image by digest)"
                )
        return body, mt, digest

    def get_blob(self, digest: str, limit: int = MAX_JSON) -> bytes:
        where = f"{self.ref.registry}/{self.ref.repository}@{digest}"
        with self.blob_stream(digest) as resp:
            chunks, total = [], 0
            for c in resp.iter_bytes():
                total += len(c)
                if total > limit:
                    raise ImageError(f"{where}: blob larger than {limit} bytes; refusing it as hostile")
                chunks.append(c)
        data = b"".join(chunks)
        if digest_of(data, digest.split(":")[0]) != digest:
            raise ImageError(
                f"{where}: registry returned a blob whose digest does not match; refusing it (retry, or pull "
                "through another mirror)"
            )
        return data

    @contextmanager
    def blob_stream(self, digest: str) -> Iterator[httpx.Response]:
        resp = self._request("GET", f"blobs/{digest}", stream=True)
        try:
            if resp.status_code != 200:
                raise ImageError(
                    f"{self.ref.registry}/{self.ref.repository}: blob {digest} answered {resp.status_code}; "
                    "the image is incomplete in the registry: re-push it, or retry"
                )
            yield resp
        finally:
            resp.close()

    # -- push side -------------------------------------------------------------------------

    def _refused(self, resp: httpx.Response, what: str) -> ImageError:
        """An error for a write the registry refused, with its own error code when it sent one."""
        where = f"{self.ref.registry}/{self.ref.repository}"
        code = ""
        try:
            errs = json.loads(resp.content[:65536]).get("errors") or []
            if errs and isinstance(errs[0], dict):
                code = f": {errs[0].get('code', '')} {errs[0].get('message', '')}".rstrip()
        except (ValueError, AttributeError, httpx.ResponseNotRead):
            pass
        hint = {
            403: "the credentials may read but not write here: check your login's push rights",
            404: "the repository is unknown to the registry",
            405: "the registry is read-only or a pull-through cache: push to the registry itself",
        }.get(resp.status_code, "retry, or check the registry's log")
        return ImageError(f"{where}: {what} refused ({resp.status_code}{code}); {hint}")

    def blob_size(self, digest: str) -> int | None:
        """The size of a blob the repository holds, or None when it has none (HEAD)."""
        check_digest(digest, f"{self.ref.registry}/{self.ref.repository} blob")
        resp = self._request("HEAD", f"blobs/{digest}")
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self._refused(resp, f"HEAD of blob {digest}")
        try:
            return int(resp.headers.get("Content-Length", "-1"))
        except ValueError:
            return -1

    def _location(self, resp: httpx.Response, what: str) -> str:
        loc = resp.headers.get("Location")
        if not loc:
            raise ImageError(
                f"{self.ref.registry}/{self.ref.repository}: {what}: the registry sent no upload Location; "
                "it does not speak the distribution API's push side"
            )
        return str(httpx.URL(self.base).join(loc))

    def push_blob(
        self,
        digest: str,
        size: int,
        opener: Callable[[], BinaryIO],
        mount_from: str | None = None,
    ) -> str:
        """Make the repository hold a blob: "exists" when it already does, "mounted" when the
        registry linked it from `mount_from` (a repository of the same registry), else
        "uploaded" from `opener()` (a file positioned at the blob's first byte, read in steps:
        never the whole blob in memory). The registry checks the bytes against `digest`."""
        where = f"{self.ref.registry}/{self.ref.repository}"
        check_digest(digest, f"{where} blob")
        if self.blob_size(digest) is not None:
            return "exists"
        params = {"mount": digest, "from": mount_from} if mount_from else None
        resp = self._request("POST", "blobs/uploads/", params=params)
        if resp.status_code == 201 and mount_from:
            return "mounted"
        if resp.status_code != 202:
            raise self._refused(resp, f"upload of blob {digest}")
        loc = self._location(resp, f"upload of {digest}")
        with opener() as f:
            start = f.tell() if f.seekable() else 0

            def part(offset: int, n: int) -> Callable[[], Iterator[bytes]]:
                def gen() -> Iterator[bytes]:
                    if f.seekable():
                        f.seek(start + offset)
                    left = n
                    while left:
                        b = f.read(min(READ, left))
                        if not b:
                            raise ImageError(f"{where}: blob {digest} ended {left} bytes short of {size}")
                        left -= len(b)
                        yield b

                return gen

            octet = {"Content-Type": "application/octet-stream"}
            if size <= CHUNK:
                resp = self._request(
                    "PUT",
                    "",
                    {**octet, "Content-Length": str(size)},
                    params={"digest": digest},
                    content=part(0, size),
                    url=loc,
                )
            else:
                for offset in range(0, size, CHUNK):
                    n = min(CHUNK, size - offset)
                    hdr = {**octet, "Content-Length": str(n), "Content-Range": f"{offset}-{offset + n - 1}"}
                    resp = self._request("PATCH", "", hdr, content=part(offset, n), url=loc)
                    if resp.status_code != 202:
                        raise self._refused(resp, f"chunk {offset}-{offset + n - 1} of blob {digest}")
                    loc = self._location(resp, f"chunk of {digest}")
                resp = self._request(
                    "PUT", "", {"Content-Length": "0"}, params={"digest": digest}, content=b"", url=loc
                )
        if resp.status_code != 201:
            raise self._refused(resp, f"upload of blob {digest}")
        got = resp.headers.get("Docker-Content-Digest")
        if got and got != digest:
            raise ImageError(f"{where}: the registry stored blob {digest} as {got}; refusing to go on")
        return "uploaded"

    def push_bytes(self, data: bytes) -> str:
        """Push a small blob (a config, a signature payload) held in memory; its digest."""
        import io

        digest = digest_of(data)
        self.push_blob(digest, len(data), lambda: io.BytesIO(data))
        return digest

    def put_manifest(self, reference: str, body: bytes, media_type: str) -> str:
        """PUT a manifest or index by tag or digest with its media type; the digest of `body`,
        checked against the one the registry reports."""
        where = f"{self.ref.registry}/{self.ref.repository}:{reference}"
        if not (TAG_RE.match(reference) or reference.startswith("sha256:")):
            raise ImageError(f"{where}: invalid tag or digest to push to")
        digest = digest_of(body)
        if reference.startswith("sha256:") and reference != digest:
            raise ImageError(
                f"{where}: manifest bytes have digest {digest}; refusing to push them under another"
            )
        resp = self._request("PUT", f"manifests/{reference}", {"Content-Type": media_type}, content=body)
        if resp.status_code not in (200, 201):
            raise self._refused(resp, "manifest upload")
        got = resp.headers.get("Docker-Content-Digest")
        if got and got != digest:
            raise ImageError(f"{where}: the registry stored the manifest as {got}, not {digest}; refusing it")
        return digest

    def find_manifest(self, reference: str) -> tuple[bytes, str, str] | None:
        """get_manifest, or None when the repository has no such tag or digest."""
        try:
            return self.get_manifest(reference)
        except ManifestUnknown:
            return None

    def list_tags(self, page: int = 1000) -> list[str]:
        """Every tag of the repository, following the registry's Link pages."""
        where = f"{self.ref.registry}/{self.ref.repository}"
        tags: list[str] = []
        url: str | None = None
        params: dict[str, str] | None = {"n": str(page)}
        for _ in range(MAX_TAG_PAGES):
            resp = self._request("GET", "tags/list", params=params, url=url)
            if resp.status_code == 404:
                return tags
            if resp.status_code != 200:
                raise self._refused(resp, "tag listing")
            doc = parse_json(resp.content, f"{where} tag list")
            page_tags = doc.get("tags") or []
            if not isinstance(page_tags, list):
                raise ImageError(f"{where}: tag list is not a list; the registry is broken")
            tags += [t for t in page_tags if isinstance(t, str)]
            nxt = resp.links.get("next", {}).get("url")
            if not nxt:
                return tags
            url, params = str(httpx.URL(self.base).join(nxt)), None
        raise ImageError(f"{where}: more than {MAX_TAG_PAGES} pages of tags; refusing the listing as hostile")


class _ResponseReader:
    """A file-like view over a streamed HTTP response."""

    def __init__(self, resp: httpx.Response, where: str) -> None:
        self._it = resp.iter_raw(1 << 20)
        self._buf = b""
        self._where = where

    def read(self, n: int = -1) -> bytes:
        try:
            while n < 0 or len(self._buf) < n:
                chunk = next(self._it, None)
                if chunk is None:
                    break
                self._buf += chunk
        except httpx.HTTPError as e:
            raise ImageError(f"{self._where}: download failed mid-layer ({e}); retry") from None
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def readable(self) -> bool:
        return True


class RegistryImage(Image):
    def __init__(
        self, text: str, platform: Platform, plain_http: bool = False, tls_verify: bool = True
    ) -> None:
        self.ref = text
        self.reference = parse_reference(text)
        self.client = RegistryClient(self.reference, plain_http=plain_http, verify_tls=tls_verify)
        try:
            self._load(platform)
        except BaseException:
            self.client.close()
            raise

    def _load(self, platform: Platform) -> None:
        what = str(self.reference)
        ref = self.reference.reference
        want_size: int | None = None  # an index entry's descriptor declares the manifest's size
        for _ in range(4):
            body, mt, digest = self.client.get_manifest(ref)
            if want_size is not None:
                check_size(len(body), want_size, f"{what} manifest {digest}")
            doc = parse_json(body, f"{what} manifest")
            mt = mt if mt in INDEX_TYPES | MANIFEST_TYPES else doc.get("mediaType", mt)
            if mt in INDEX_TYPES or (not mt and "manifests" in doc):
                desc = select_platform(doc, platform, what)
                ref = check_digest(desc.get("digest"), f"{what} index entry")
                want_size = declared_size(desc, f"{what} index entry {ref}")
                continue
            if doc.get("schemaVersion") == 1 or "signed" in mt:
                raise ImageError(
                    f"{what}: Docker schema 1 manifests are not supported; re-push the image with a current tool"
                )
            if mt not in MANIFEST_TYPES and "layers" not in doc:
                raise ImageError(
                    f"{what}: unsupported manifest media type {mt!r}; containment reads OCI and Docker v2 "
                    "manifests (convert the image with skopeo copy)"
                )
            self.manifest_digest = digest
            self.manifest = doc
            break
        else:
            raise ImageError(
                f"{what}: image indexes nest more than 4 deep; refusing it as hostile or corrupt (re-push the image)"
            )
        self.config_digest, self.config, self.layers = config_and_layers(
            self.manifest,
            lambda d: self.client.get_blob(check_digest(d.get("digest"), f"{what} config")),
            what,
        )

    @contextmanager
    def _open(self, layer: LayerInfo) -> Iterator[BinaryIO]:
        with self.client.blob_stream(layer.digest) as resp:
            yield _ResponseReader(resp, f"{self.reference} layer {layer.index}")  # type: ignore[misc]

    def open_layer(self, layer: LayerInfo) -> AbstractContextManager[BinaryIO]:
        return self._open(layer)

    def close(self) -> None:
        self.client.close()
