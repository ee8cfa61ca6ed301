"""Images in a local engine: `podman:NAME[:TAG]`, `docker:NAME[:TAG]` (also `@sha256:` digests
and image ids), read through the Docker-compatible Engine API that dockerd and
`podman system service` serve.

Where the engine is: `DOCKER_HOST` (unix:///PATH or tcp://HOST:PORT) when set (for podman:,
`CONTAINER_HOST` first); else /var/run/docker.sock for docker:, and for podman:
/run/podman/podman.sock as root, `$XDG_RUNTIME_DIR/podman/podman.sock` otherwise.

Two calls: `GET /images/{name}/json` (inspect: Id, RootFS.Layers, RepoDigests) and
`GET /images/{id}/get`, the `docker save` stream of that exact image, read once, forward, as it
arrives: layers are walked as they pass, the small JSON files are kept, and at the end the
docker-archive reader (docker_archive.py) checks manifest.json and the config as it does for a
file. Nothing is written to disk.

What is verified, and what the layer cache trusts:
- every layer read is hashed as it streams and must be the config's diff_id (as for any source);
- the config must be the image the engine named: its digest is the inspect `Id` (or, for
  Docker's containerd image store, whose Id is a manifest or index digest, the archive's blobs
  chain from that digest to this config, each checked against its digest);
- the engine's `RootFS.Layers` must be the config's diff_ids.
The config (with the blobs that bind it to the Id, and each layer's size) is then kept in the
cache dir, under `engine-images/`, so a rescan has it without the stream; it is checked against
the Id again each time it is read, so the diff_ids of a rescan come from a config whose digest
is the image's id, not from the engine's word.

The engine API has no way to fetch one layer, so a cached layer needs proof that this engine
holds these bytes: a layer is used from the cache only when we read and verified it ourselves
from this same engine endpoint for this same image (its Id and the digests it was pulled by:
`RepoDigests`, so an image re-pulled under the same config from other blobs is read again).
What is trusted is that an engine does not change the layers of an image under its Id (Docker
and podman store images immutably and check layers against the config when they pull or load
them). A rescan of an unchanged image therefore asks the engine for nothing but inspect; a new
image sharing base layers with a scanned one has its layers read again (the engine names them
only by the diff_ids its config claims), like a second docker-archive file; `--no-cache` reads all.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import json
import os
import re
import socket
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import quote

import httpx

from containment.image.docker_archive import BLOB_NAME, MAX_MEMBERS, SMALL, DockerArchive
from containment.image.source import (
    MAX_JSON,
    Image,
    Platform,
    check_digest,
    created_by,
    digest_of,
    parse_json,
)
from containment.image.walk import normalize
from containment.model import ImageError, LayerInfo

DOCKER_SOCKET = "/var/run/docker.sock"
PODMAN_ROOT_SOCKET = "/run/podman/podman.sock"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar"
MAX_KEPT = 64 << 20  # small files kept from one stream (configs, manifests, per-layer json)
SAVE_TIMEOUT = httpx.Timeout(1800.0, connect=5.0)  # between two reads of an export (--timeout bounds a scan)
MAX_CHAIN = 4  # index/manifest blobs between an Id and its config
RECORD_VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,511}$")
ID_RE = re.compile(r"^(?:sha256:)?([a-f0-9]{12,64})$")


class EngineUnavailable(ImageError):
    """No engine answers at the endpoint (no socket, refused, no permission)."""

    def __init__(self, message: str, short: str, absent: bool = False) -> None:
        super().__init__(message)
        self.short = short  # "unix:///PATH: connection refused"
        self.absent = absent  # no socket file at all


# ---------------------------------------------------------------------------- where the engine is


@dataclass(frozen=True)
class Endpoint:
    url: str  # as written: unix:///PATH or tcp://HOST:PORT
    origin: str  # DOCKER_HOST, CONTAINER_HOST, or "" for a default
    kind: str  # podman or docker: what the user asked for (the engine may be either)

    @property
    def socket(self) -> str:
        return self.url[len("unix://") :] if self.url.startswith("unix://") else ""

    @property
    def where(self) -> str:
        return f"{self.origin}={self.url}" if self.origin else self.url


def podman_socket() -> str:
    if os.geteuid() == 0:
        return PODMAN_ROOT_SOCKET
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return os.path.join(runtime, "podman", "podman.sock")


def _from_env(var: str, kind: str) -> Endpoint | None:
    value = os.environ.get(var, "").strip()
    if not value:
        return None
    if value.startswith("unix://") and len(value) > len("unix://"):
        return Endpoint(value, var, kind)
    if value.startswith("tcp://"):
        host = value[len("tcp://") :].rstrip("/")
        if not host or "/" in host:
            raise ImageError(f"{var}={value}: expected tcp://HOST:PORT; fix {var} or unset it")
        if os.environ.get("DOCKER_TLS_VERIFY", "") not in ("", "0"):
            raise ImageError(
                f"{var}={value} with DOCKER_TLS_VERIFY: containment does not speak TLS to an engine; "
                "use its unix socket (DOCKER_HOST=unix:///PATH), or forward it: ssh -L /tmp/engine.sock:/var/run/docker.sock HOST"
            )
        return Endpoint(f"tcp://{host}", var, kind)
    raise ImageError(
        f"{var}={value}: containment reaches an engine over unix:///PATH or tcp://HOST:PORT only; "
        "forward the socket (ssh -L /tmp/engine.sock:/var/run/docker.sock HOST) and set "
        f"{var}=unix:///tmp/engine.sock"
    )


def endpoint_for(kind: str) -> Endpoint:
    """The engine `podman:` or `docker:` names."""
    if kind == "podman":
        ep = _from_env("CONTAINER_HOST", kind) or _from_env("DOCKER_HOST", kind)
        return ep or Endpoint(f"unix://{podman_socket()}", "", kind)
    return _from_env("DOCKER_HOST", kind) or Endpoint(f"unix://{DOCKER_SOCKET}", "", kind)


def local_endpoints() -> list[Endpoint]:
    """Where a bare reference looks first: DOCKER_HOST when set, else Docker's and podman's sockets."""
    ep = _from_env("DOCKER_HOST", "docker")
    if ep is not None:
        return [ep]
    return [
        Endpoint(f"unix://{DOCKER_SOCKET}", "", "docker"),
        Endpoint(f"unix://{podman_socket()}", "", "podman"),
    ]


def start_hint(ep: Endpoint) -> str:
    if ep.origin:
        return f"start the engine {ep.origin} names, or point {ep.origin} at a running one (unix:///PATH or tcp://HOST:PORT)"
    if ep.kind == "podman":
        return (
            "start it: `podman system service --time=0 &` (or `systemctl --user start podman.socket`), "
            "or point DOCKER_HOST at an engine's socket (unix:///PATH or tcp://HOST:PORT)"
        )
    return "start dockerd, or point DOCKER_HOST at an engine's socket (unix:///PATH or tcp://HOST:PORT)"


# ---------------------------------------------------------------------------- the API client


def _reason(e: BaseException) -> str:
    """Why a connection failed, from the OS error under httpx's."""
    x: BaseException | None = e
    for _ in range(8):
        if x is None:
            break
        if isinstance(x, socket.gaierror):
            return f"cannot resolve the host ({x.strerror or x})"
        if isinstance(x, OSError) and x.errno:
            if x.errno == errno.EACCES:
                return "permission denied: join the engine's group (docker) or use your own rootless podman socket"
            return os.strerror(x.errno).lower()
        x = x.__cause__ or x.__context__
    return str(e) or type(e).__name__


class _Body(io.RawIOBase):
    """A streamed response body as a file, for tarfile's stream mode."""

    def __init__(self, resp: httpx.Response, what: str) -> None:
        self._it = resp.iter_raw(1 << 20)
        self._buf = b""
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._buf:
            try:
                self._buf = next(self._it, b"")
            except httpx.HTTPError as e:
                raise ImageError(
                    f"{self._what}: the engine stopped sending the image ({type(e).__name__}: {e}); retry"
                ) from None
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


class _Member(io.RawIOBase):
    """One member of the export stream, its read errors said as the engine's, in one line."""

    def __init__(self, f: IO[bytes], what: str) -> None:
        self._f = f
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._f.read(len(b))
        except ImageError:
            raise
        except (tarfile.TarError, EOFError, OSError, ValueError) as e:
            raise ImageError(
                f"{self._what}: the engine sent a truncated or corrupt archive ({type(e).__name__}: {e}); retry"
            ) from None
        b[: len(data)] = data
        return len(data)


class EngineClient:
    def __init__(self, ep: Endpoint, ref: str) -> None:
        self.ep = ep
        self.ref = ref
        if ep.socket:
            transport = httpx.HTTPTransport(uds=ep.socket)
            base = "http://engine"
        else:
            transport = httpx.HTTPTransport()
            base = "http://" + ep.url[len("tcp://") :]
        self.http = httpx.Client(
            transport=transport,
            base_url=base,
            timeout=httpx.Timeout(60.0, connect=5.0),
            headers={"User-Agent": "containment"},
        )

    def close(self) -> None:
        self.http.close()

    def _unavailable(self, why: str, absent: bool = False) -> EngineUnavailable:
        return EngineUnavailable(
            f"{self.ref}: no engine at {self.ep.where} ({why}); {start_hint(self.ep)}",
            f"{self.ep.where}: {why}",
            absent,
        )

    def _send(self, path: str, stream: bool = False, timeout: httpx.Timeout | None = None) -> httpx.Response:
        if self.ep.socket and not os.path.exists(self.ep.socket):
            raise self._unavailable("no such socket", absent=True)
        try:
            req = self.http.build_request("GET", path, timeout=timeout or self.http.timeout)
            return self.http.send(req, stream=stream)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise self._unavailable(_reason(e)) from None
        except httpx.HTTPError as e:
            raise ImageError(
                f"{self.ref}: the engine at {self.ep.where} did not answer ({type(e).__name__}: {_reason(e)}); retry"
            ) from None

    @staticmethod
    def _message(resp: httpx.Response) -> str:
        try:
            doc = json.loads(resp.read()[:65536])
            msg = doc.get("message") if isinstance(doc, dict) else None
        except ValueError:
            msg = None
        return str(msg or resp.reason_phrase or resp.status_code)[:300]

    def inspect(self, name: str) -> dict[str, Any] | None:
        """The engine's inspect document, or None when it has no such image."""
        resp = self._send(f"/images/{quote(name, safe='/:@')}/json")
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise ImageError(
                f"{self.ref}: the engine at {self.ep.where} answered {resp.status_code} to inspect "
                f"({self._message(resp)}); check the name, or the engine's log"
            )
        if len(resp.content) > MAX_JSON:
            raise ImageError(f"{self.ref}: the engine's inspect answer is over {MAX_JSON} bytes; refusing it")
        return parse_json(resp.content, f"{self.ref}: the engine's inspect answer")

    @contextmanager
    def save(self, image_id: str) -> Iterator[BinaryIO]:
        """The `docker save` stream of one image, as a forward-only file."""
        # podman writes the whole archive to a temp file before the first byte: allow for it
        resp = self._send(f"/images/{quote(image_id, safe=':')}/get", stream=True, timeout=SAVE_TIMEOUT)
        try:
            if resp.status_code != 200:
                resp.read()
                raise ImageError(
                    f"{self.ref}: the engine at {self.ep.where} answered {resp.status_code} to export "
                    f"{image_id} ({self._message(resp)}); was the image removed meanwhile? retry"
                )
            yield _Body(resp, self.ref)  # type: ignore[misc]
        finally:
            resp.close()


# ---------------------------------------------------------------------------- what the cache keeps


def _bound(image_id: str, config: bytes, chain: list[bytes]) -> bool:
    """Do `chain` (index/manifest blobs, top first) and `config` hash their way down from the Id?"""
    if len(chain) > MAX_CHAIN:
        return False
    allowed = {image_id}
    for blob in chain:
        if digest_of(blob) not in allowed:
            return False
        try:
            doc = json.loads(blob)
        except (ValueError, RecursionError):
            return False
        if not isinstance(doc, dict):
            return False
        if isinstance(doc.get("manifests"), list):
            allowed = {str(d.get("digest")) for d in doc["manifests"] if isinstance(d, dict)}
        elif isinstance(doc.get("config"), dict):
            allowed = {str(doc["config"].get("digest"))}
        else:
            return False
    if chain and isinstance(json.loads(chain[-1]).get("manifests"), list):
        return False  # an index must lead to a manifest
    return digest_of(config) in allowed


class Records:
    """Per engine image: its config, the blobs binding it to the Id, and each layer's digest and
    size (`<cache dir>/engine-images/<id hex>.json`). Checked against the Id on every read."""

    def __init__(self, root: Path | None) -> None:
        self.dir = root / "engine-images" if root is not None else None

    def _path(self, image_id: str) -> Path | None:
        if self.dir is None:
            return None
        return self.dir / f"{image_id.split(':', 1)[-1]}.json"

    def get(self, image_id: str) -> tuple[bytes, list[bytes], list[dict[str, Any]]] | None:
        p = self._path(image_id)
        if p is None:
            return None
        try:
            with open(p, "rb") as f:
                doc = json.loads(f.read(4 * MAX_JSON))
            config = base64.b64decode(doc["config"])
            chain = [base64.b64decode(b) for b in doc.get("chain", [])]
            layers = doc["layers"]
            if doc.get("v") != RECORD_VERSION or not isinstance(layers, list):
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing or damaged: the stream gives it again
        if not _bound(image_id, config, chain):
            return None
        return config, chain, layers

    def put(self, image_id: str, config: bytes, chain: list[bytes], layers: list[LayerInfo]) -> None:
        p = self._path(image_id)
        if p is None:
            return
        doc = {
            "v": RECORD_VERSION,
            "id": image_id,
            "config": base64.b64encode(config).decode(),
            "chain": [base64.b64encode(b).decode() for b in chain],
            "layers": [{"digest": x.digest, "size": x.size} for x in layers],
        }
        tmp = ""
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(json.dumps(doc).encode())
            os.replace(tmp, p)
            tmp = ""
        except OSError:
            pass  # a read-only or full cache must not fail a scan
        finally:
            if tmp:
                with suppress(OSError):
                    os.unlink(tmp)


# ---------------------------------------------------------------------------- the image


def parse_name(name: str, ref: str) -> str:
    """Check an engine image name (NAME[:TAG], NAME@DIGEST, an image id); returns it as given."""
    if not NAME_RE.match(name) or ".." in name or "//" in name:
        raise ImageError(
            f"{ref}: {name!r} is not an image name; give NAME[:TAG], NAME@sha256:DIGEST or an image id "
            "(as `podman images` / `docker images` list them)"
        )
    if "@" in name:
        check_digest(name.split("@", 1)[1], ref)
    return name


class _StreamedArchive(DockerArchive):
    """The docker-archive reader's checks on what a stream left: members seen, small files kept."""

    def __init__(self, ref: str, index: dict[str, tarfile.TarInfo], small: dict[str, bytes]) -> None:
        self.ref = ref
        self.path = ""
        self.compressed = False
        self.random_access = False
        self._index = index
        self._small = small
        self._load(None)

    def _members(self, names: list[str]) -> dict[str, bytes]:
        raise ImageError(
            f"{self.ref}: {names[0]} in the engine's archive is over {SMALL} bytes; refusing it as hostile"
        )


class EngineImage(Image):
    random_access = False  # one forward stream

    def __init__(
        self,
        ep: Endpoint,
        name: str,
        ref: str,
        platform: Platform | None = None,
        cache_root: Path | None = None,
        info: dict[str, Any] | None = None,
        client: EngineClient | None = None,
    ) -> None:
        """`platform`: the one --platform asked for (None: take what the engine has)."""
        self.ref = ref
        self.name = name
        self.ep = ep
        self.client = client or EngineClient(ep, ref)
        self.records = Records(cache_root)
        self._streaming = False
        try:
            if info is None:
                info = self.client.inspect(name)
            if info is None:
                raise ImageError(
                    f"{ref}: no image {name!r} in the {ep.kind} engine at {ep.where}; pull it first "
                    f"({ep.kind} pull {name}) or check the name ({ep.kind} images)"
                )
            self._from_inspect(info, platform)
        except BaseException:
            self.client.close()
            raise

    @classmethod
    def find(
        cls, ep: Endpoint, name: str, ref: str, platform: Platform | None, cache_root: Path | None
    ) -> EngineImage | None:
        """The image when this engine has it (for the platform asked), None when not."""
        client = EngineClient(ep, ref)
        try:
            info = client.inspect(name)
            if info is None or (platform is not None and not _matches(info, platform)):
                client.close()
                return None
        except BaseException:
            client.close()
            raise
        return cls(ep, name, ref, platform, cache_root, info, client)

    def _from_inspect(self, info: dict[str, Any], platform: Platform | None) -> None:
        what = f"{self.ref}: the engine's inspect answer"
        # the engine's image id: the config digest (podman, Docker's classic store) or a manifest
        # or index digest (Docker's containerd store); config_digest is set once the config is checked
        self.image_id = self.config_digest = check_digest(info.get("Id"), f"{what}: Id")
        rootfs = info.get("RootFS")
        claimed = rootfs.get("Layers") if isinstance(rootfs, dict) else None
        if not isinstance(claimed, list):
            raise ImageError(f"{what} lists no RootFS.Layers; the engine is not Docker-API compatible")
        claimed = [check_digest(d, f"{what}: RootFS.Layers") for d in claimed]
        digests = info.get("RepoDigests") if isinstance(info.get("RepoDigests"), list) else []
        pulled_by = sorted({str(d).rpartition("@")[2] for d in digests or [] if "@" in str(d)})
        self._check_asked(pulled_by)
        if platform is not None and not _matches(info, platform):
            raise ImageError(
                f"{self.ref}: the engine's image is {_platform_of(info)}, not the {platform} --platform asks "
                f"for; pull that platform ({self.ep.kind} pull --platform {platform} {self.name})"
            )
        key = "\n".join([self.ep.url, self.image_id, *pulled_by])
        self._proof = "engine:" + hashlib.sha256(key.encode()).hexdigest()[:32]
        self.config = {}
        rec = self.records.get(self.image_id)
        self._have_config = rec is not None
        if rec is None:
            self.layers = [
                LayerInfo(index=i, diff_id=d, media_type=LAYER_TYPE) for i, d in enumerate(claimed)
            ]
            return
        config, chain, sizes = rec
        self._bind(config, chain)
        self.config = parse_json(config, f"{self.ref} config {self.image_id}")
        self.layers = _layers(self.config, sizes, self.ref)
        if [x.diff_id for x in self.layers] != claimed:
            raise ImageError(
                f"{self.ref}: the engine lists other layers (RootFS.Layers) than the image's config "
                f"{self.image_id}; the engine's store is inconsistent: re-pull the image"
            )

    def _check_asked(self, pulled_by: list[str]) -> None:
        """A digest or an id in the name must be what the engine answered with."""
        if "@" in self.name:
            want = self.name.split("@", 1)[1]
            if want not in pulled_by and want != self.image_id:
                raise ImageError(
                    f"{self.ref}: asked for {want} but the engine answered with image {self.image_id} "
                    f"(pulled as {', '.join(pulled_by) or 'nothing'}); refusing it"
                )
            return
        m = ID_RE.match(self.name)
        if (
            m
            and self.name.startswith("sha256:")
            and not self.image_id.split(":", 1)[1].startswith(m.group(1))
        ):
            raise ImageError(
                f"{self.ref}: asked for image {self.name} but the engine answered with {self.image_id}; refusing it"
            )

    # -- the cache's proof
    def layer_proof(self, layer: LayerInfo) -> str:
        """This engine endpoint, this image (Id and pull digests): recorded when we verified the
        layer from its stream. Until the image's config is known (no record yet) nothing is
        proved, so every layer is read from the stream, which also yields the config."""
        if self._have_config or self._streaming:
            return self._proof
        return "engine:config-not-yet-read"

    def open_layer(self, layer: LayerInfo) -> AbstractContextManager[BinaryIO]:
        raise ImageError(f"{self.ref}: an engine's layers can only be read in order, from one stream")

    # -- the stream
    def iter_layers(self, wanted: list[LayerInfo]) -> Iterator[tuple[LayerInfo, BinaryIO]]:
        want = {x.diff_id: x for x in wanted}
        order: list[str] = []
        for x in self.layers:
            if x.diff_id not in order:
                order.append(x.diff_id)
        known = set(order)
        index: dict[str, tarfile.TarInfo] = {}
        small: dict[str, bytes] = {}
        walked: dict[str, str] = {}  # diff_id -> member read as that layer
        kept = 0
        legacy = 0  # `<id>/layer.tar` members seen (Docker's classic save: layers in order)
        self._streaming = True
        try:
            with self.client.save(self.image_id) as body:
                try:
                    with tarfile.open(fileobj=body, mode="r|", bufsize=1 << 20) as tf:  # type: ignore[call-overload]
                        for i, m in enumerate(tf):
                            if i > MAX_MEMBERS:
                                raise ImageError(
                                    f"{self.ref}: the engine's archive has more than {MAX_MEMBERS} entries; refusing it"
                                )
                            m.name = normalize(m.name)
                            index[m.name] = m
                            if not m.isreg():
                                continue
                            did = ""
                            blob = BLOB_NAME.match(m.name)
                            if blob and f"{blob.group(1)}:{blob.group(2)}" in known:
                                did = f"{blob.group(1)}:{blob.group(2)}"
                            elif (
                                "/" not in m.name
                                and m.name.endswith(".tar")
                                and f"sha256:{m.name[:-4]}" in known
                            ):
                                did = f"sha256:{m.name[:-4]}"  # podman: <diff_id hex>.tar
                            elif m.name.endswith("/layer.tar"):
                                did = order[legacy] if legacy < len(order) else ""
                                legacy += 1
                            if did:
                                if did in want and did not in walked:
                                    walked[did] = m.name
                                    f = tf.extractfile(m)
                                    if f is None:
                                        continue
                                    yield replace(want[did], size=m.size), _Member(f, self.ref)  # type: ignore[misc]
                                continue
                            if m.size <= SMALL and (m.name.endswith(".json") or "/" not in m.name or blob):
                                kept += m.size
                                if kept > MAX_KEPT:
                                    raise ImageError(
                                        f"{self.ref}: the engine's archive holds over {MAX_KEPT} bytes of small files; "
                                        "refusing it as hostile"
                                    )
                                f = tf.extractfile(m)
                                small[m.name] = f.read() if f is not None else b""
                except ImageError:
                    raise
                except (tarfile.TarError, EOFError, OSError, ValueError) as e:
                    raise ImageError(
                        f"{self.ref}: the engine sent a truncated or corrupt archive ({type(e).__name__}: {e}); retry"
                    ) from None
        finally:
            self._streaming = False
        self._finish(index, small, walked, want)

    def _finish(
        self,
        index: dict[str, tarfile.TarInfo],
        small: dict[str, bytes],
        walked: dict[str, str],
        want: dict[str, LayerInfo],
    ) -> None:
        """The docker-archive reader's checks, then: this is the image the engine named, its
        layers are the ones it listed and the ones we walked; keep what a rescan needs."""
        archive = _StreamedArchive(self.ref, index, small)
        config = small.get(archive._resolve(_config_name(small)), b"")
        chain = self._chain(archive, small)
        if not _bound(self.image_id, config, chain):
            raise ImageError(
                f"{self.ref}: the engine's archive holds image {archive.config_digest}, not {self.image_id} "
                "it named; refusing it (retry: was the tag moved meanwhile?)"
            )
        missing = [d for d in want if d not in walked]
        if missing:
            raise ImageError(
                f"{self.ref}: the engine's archive has no layer {missing[0]}; the engine's store is "
                "incomplete or the image changed meanwhile: retry, or re-pull it"
            )
        if [x.diff_id for x in archive.layers] != [x.diff_id for x in self.layers]:
            raise ImageError(
                f"{self.ref}: the engine lists other layers (RootFS.Layers) than the image's config "
                f"{archive.config_digest}; the engine's store is inconsistent: re-pull the image"
            )
        for x in archive.layers:
            name = archive._member_of[x.index]
            if x.diff_id in walked and walked[x.diff_id] != name:
                raise ImageError(
                    f"{self.ref}: the engine's manifest.json puts layer {x.index} in {name}, not in "
                    f"{walked[x.diff_id]}; the archive is inconsistent: retry"
                )
        self._bind(config, chain)
        self.config = archive.config
        self.layers = [replace(x, media_type=LAYER_TYPE) for x in archive.layers]
        self._have_config = True
        self.records.put(self.image_id, config, chain, self.layers)

    def _bind(self, config: bytes, chain: list[bytes]) -> None:
        """The config and, when the id is a manifest's or an index's, that manifest: both
        checked (`_bound`) to hash their way down from the id."""
        self.config_digest = digest_of(config)
        self.manifest_digest = digest_of(chain[-1]) if chain else ""

    def _chain(self, archive: DockerArchive, small: dict[str, bytes]) -> list[bytes]:
        """[] when the Id is the config's digest; else the index/manifest blobs from the Id down
        to that config (Docker's containerd image store names images by manifest or index)."""
        if archive.config_digest == self.image_id:
            return []

        def blob(digest: object) -> tuple[bytes, dict[str, Any]] | None:
            data = small.get("blobs/" + str(digest).replace(":", "/", 1))
            if (
                data is None
                or not isinstance(digest, str)
                or digest_of(data, digest.split(":", 1)[0]) != digest
            ):
                return None
            try:
                doc = json.loads(data)
            except (ValueError, RecursionError):
                return None
            return (data, doc) if isinstance(doc, dict) else None

        def config_of(doc: dict[str, Any]) -> object:
            return doc["config"].get("digest") if isinstance(doc.get("config"), dict) else None

        top = blob(self.image_id)
        if top is None:
            return []
        if config_of(top[1]) == archive.config_digest:
            return [top[0]]
        for d in top[1].get("manifests") or []:
            below = blob(d.get("digest")) if isinstance(d, dict) else None
            if below is not None and config_of(below[1]) == archive.config_digest:
                return [top[0], below[0]]
        return []

    def close(self) -> None:
        self.client.close()


def _config_name(small: dict[str, bytes]) -> str:
    manifest = json.loads(small["manifest.json"])  # parsed and checked by _load: one image
    return str(manifest[0].get("Config", ""))


def _platform_of(info: dict[str, Any]) -> Platform:
    return Platform(
        str(info.get("Os") or "linux"), str(info.get("Architecture") or ""), str(info.get("Variant") or "")
    )


def _matches(info: dict[str, Any], want: Platform) -> bool:
    have = _platform_of(info)
    if (have.os, have.architecture) != (want.os, want.architecture):
        return False
    return not (want.variant and have.variant and want.variant != have.variant)


def _layers(config: dict[str, Any], sizes: list[dict[str, Any]], ref: str) -> list[LayerInfo]:
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or len(diff_ids) != len(sizes):
        raise ImageError(f"{ref}: the cached config lists no diff_ids; run `containment cache clean`")
    history = created_by(config)
    out = []
    for i, (d, s) in enumerate(zip(diff_ids, sizes, strict=True)):
        size = s.get("size") if isinstance(s, dict) else None
        digest = s.get("digest") if isinstance(s, dict) else None
        out.append(
            LayerInfo(
                index=i,
                diff_id=check_digest(d, f"{ref} diff_id {i}"),
                digest=digest if isinstance(digest, str) else "",
                media_type=LAYER_TYPE,
                size=size if isinstance(size, int) and size >= 0 else 0,
                created_by=history[i] if i < len(history) else "",
            )
        )
    return out


# ---------------------------------------------------------------------------- opening a target


def open_engine(
    kind: str, name: str, ref: str, platform: Platform | None, cache_root: Path | None
) -> EngineImage:
    """`podman:NAME` / `docker:NAME`: that engine, or one clear error."""
    ep = endpoint_for(kind)
    return EngineImage(ep, parse_name(name, ref), ref, platform, cache_root)


def find_local(
    name: str, ref: str, platform: Platform | None, cache_root: Path | None
) -> tuple[EngineImage | None, str]:
    """A bare reference: the image from the first reachable local engine that has it, or None
    and what was tried (for the registry's error message)."""
    tried: list[str] = []
    absent: list[str] = []
    try:
        endpoints = local_endpoints()
    except ImageError as e:  # DOCKER_HOST=ssh://...: no local engine to ask; the registry still is
        return None, str(e)
    for ep in endpoints:
        try:
            img = EngineImage.find(ep, name, ref, platform, cache_root)
        except EngineUnavailable as e:
            if e.absent:
                absent.append(ep.where)
            else:
                tried.append(e.short)
            continue
        except ImageError as e:
            tried.append(f"{ep.where}: {e}")
            continue
        if img is not None:
            return img, ""
        tried.append(f"not in the engine at {ep.where}")
    if absent:
        tried.append(f"no engine socket at {' or '.join(absent)}")
    return None, "; ".join(tried)
