"""The registry push side and cosign's .sig/.att layout against an in-memory distribution API
(httpx.MockTransport): uploads (monolithic, chunked, mounted), manifests by tag and digest, tag
pages; attach appends and dedupes like cosign; reading refuses altered blobs per entry; hostile
.sig manifests are an ImageError, never another exception."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as s

from containment.image import registry as regmod
from containment.image.registry import RegistryClient, parse_reference
from containment.model import ImageError
from containment.supplychain import cosign, keys, oci
from containment.supplychain import promote as copier

DIGEST = "sha256:" + "ab" * 32


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


class FakeRegistry:
    def __init__(self) -> None:
        self.blobs: dict[str, dict[str, bytes]] = {}
        self.manifests: dict[str, dict[str, tuple[bytes, str]]] = {}
        self.uploads: dict[str, bytearray] = {}
        self.log: list[str] = []

    def __call__(self, req: httpx.Request) -> httpx.Response:
        path, q = req.url.path, req.url.params
        self.log.append(f"{req.method} {path}")
        m = re.match(r"^/v2/(.+)/(blobs/uploads|blobs|manifests|tags)/?(.*)$", path)
        assert m, path
        repo, kind, rest = m.groups()
        blobs = self.blobs.setdefault(repo, {})
        mans = self.manifests.setdefault(repo, {})
        if kind == "blobs":
            if rest not in blobs:
                return httpx.Response(404)
            body = b"" if req.method == "HEAD" else blobs[rest]
            return httpx.Response(200, content=body, headers={"Content-Length": str(len(blobs[rest]))})
        if kind == "blobs/uploads":
            if req.method == "POST":
                src = self.blobs.get(q.get("from", ""), {})
                if q.get("mount") in src:
                    blobs[q["mount"]] = src[q["mount"]]
                    return httpx.Response(201)
                uid = str(uuid.uuid4())
                self.uploads[uid] = bytearray()
                return httpx.Response(
                    202, headers={"Location": f"/v2/{repo}/blobs/uploads/{uid}?_state=s{uid}"}
                )
            if q.get("_state") != f"s{rest}":
                return httpx.Response(
                    404, json={"errors": [{"code": "BLOB_UPLOAD_INVALID", "message": "state"}]}
                )
            self.uploads[rest] += req.read()
            if req.method == "PATCH":
                return httpx.Response(
                    202, headers={"Location": f"/v2/{repo}/blobs/uploads/{rest}?_state=s{rest}"}
                )
            data = bytes(self.uploads.pop(rest))
            if sha(data) != q.get("digest"):
                return httpx.Response(400, json={"errors": [{"code": "DIGEST_INVALID", "message": "x"}]})
            blobs[sha(data)] = data
            return httpx.Response(201, headers={"Docker-Content-Digest": sha(data)})
        if kind == "manifests":
            if req.method == "PUT":
                body = req.read()
                mans[rest] = mans[sha(body)] = (body, req.headers["Content-Type"])
                return httpx.Response(201, headers={"Docker-Content-Digest": sha(body)})
            if rest not in mans:
                return httpx.Response(404)
            body, mt = mans[rest]
            return httpx.Response(
                200, content=body, headers={"Content-Type": mt, "Docker-Content-Digest": sha(body)}
            )
        tags = sorted(t for t in mans if not t.startswith("sha256:"))
        n = int(q.get("n", 1000))
        last = q.get("last", "")
        page = [t for t in tags if t > last][:n]
        headers = {}
        if len(page) == n and page[-1] != tags[-1]:
            headers["Link"] = f'</v2/{repo}/tags/list?n={n}&last={page[-1]}>; rel="next"'
        return httpx.Response(200, json={"name": repo, "tags": page}, headers=headers)


@pytest.fixture
def fake():
    return FakeRegistry()


def client_for(fake: FakeRegistry, repo: str = "team/app") -> RegistryClient:
    c = RegistryClient(parse_reference(f"reg.test/{repo}:1"))
    c.http = httpx.Client(transport=httpx.MockTransport(fake), base_url="https://reg.test")
    return c


def test_monolithic_chunked_and_mounted_uploads(fake, tmp_path, monkeypatch):
    c = client_for(fake)
    data = bytes(range(256)) * 40
    p = tmp_path / "blob"
    p.write_bytes(data)
    assert c.push_blob(sha(data), len(data), lambda: open(p, "rb")) == "uploaded"  # noqa: SIM115
    assert c.push_blob(sha(data), len(data), lambda: open(p, "rb")) == "exists"  # noqa: SIM115
    monkeypatch.setattr(regmod, "CHUNK", 1000)
    big = data + b"x"
    p.write_bytes(big)
    assert c.push_blob(sha(big), len(big), lambda: open(p, "rb")) == "uploaded"  # noqa: SIM115
    assert sum(1 for line in fake.log if line.startswith("PATCH")) == 11
    assert fake.blobs["team/app"][sha(big)] == big
    other = client_for(fake, "prod/app")
    assert other.push_blob(sha(big), len(big), lambda: open(p, "rb"), mount_from="team/app") == "mounted"
    with pytest.raises(ImageError, match="DIGEST_INVALID"):
        c.push_blob(sha(b"other"), len(big), lambda: open(p, "rb"))  # noqa: SIM115


def test_manifests_and_tag_pages(fake):
    c = client_for(fake)
    body = b'{"schemaVersion":2}'
    for i in range(7):
        c.put_manifest(f"t{i}", body, "application/vnd.oci.image.manifest.v1+json")
    assert c.list_tags(page=3) == [f"t{i}" for i in range(7)]
    with pytest.raises(ImageError, match="refusing to push"):
        c.put_manifest(DIGEST, body, "application/vnd.oci.image.manifest.v1+json")
    assert c.find_manifest("nope") is None
    assert c.get_manifest("t1")[2] == sha(body)


def test_cosign_layout_append_dedupe_and_verify(fake):
    c = client_for(fake)
    priv_pem, pub_pem = keys.generate(b"pw")
    key, pub = keys.parse_private(priv_pem, b"pw"), keys.parse_public(pub_pem)
    payload = cosign.simple_signing_payload("reg.test/team/app", DIGEST)
    sig = cosign.sign(key, payload)
    ann = {cosign.SIGNATURE_ANNOTATION: sig}
    _, added = oci.attach(c, DIGEST, "sig", payload, cosign.SIMPLESIGNING_MEDIA_TYPE, ann)
    _, again = oci.attach(c, DIGEST, "sig", payload, cosign.SIMPLESIGNING_MEDIA_TYPE, ann)
    assert added and not again
    other = keys.parse_private(keys.generate(b"pw")[0], b"pw")
    oci.attach(
        c,
        DIGEST,
        "sig",
        payload,
        cosign.SIMPLESIGNING_MEDIA_TYPE,
        {cosign.SIGNATURE_ANNOTATION: cosign.sign(other, payload)},
    )
    body, mt = fake.manifests["team/app"][cosign.sig_tag(DIGEST)]
    doc = json.loads(body)
    assert mt == doc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert len(doc["layers"]) == 2
    config = fake.blobs["team/app"][doc["config"]["digest"]]
    # what cosign 2.5 writes for two signature layers (go-containerregistry's empty image + 2 layers)
    d = doc["layers"][0]["digest"]
    assert config == (
        b'{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"},'
        b'{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["'
        + d.encode()
        + b'","'
        + d.encode()
        + b'"]},"config":{}}'
    )
    checks = oci.verify_signatures(oci.read(c, DIGEST, "sig"), pub, DIGEST)
    assert [ch.ok for ch in checks] == [True, False]
    assert checks[0].docker_reference == "reg.test/team/app"
    # a .sig read for another digest: the payload binds to DIGEST, refused
    wrong = "sha256:" + "cd" * 32
    assert not any(ch.ok for ch in oci.verify_signatures(oci.read(c, DIGEST, "sig"), pub, wrong))
    # a blob altered in storage: that entry is refused, not the whole read
    fake.blobs["team/app"][d] = payload.replace(b"team", b"evil")
    got = oci.read(c, DIGEST, "sig")
    assert got[0].error and not oci.verify_signatures(got, pub, DIGEST)[0].ok


def test_copy_image_keeps_digest_and_attachments(fake):
    src, dst = client_for(fake), client_for(fake, "prod/app")
    config = b'{"config":{"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":[]}}'
    layer = b"layer-bytes"
    for b in (config, layer):
        src.push_bytes(b)
    man = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "size": len(config),
                "digest": sha(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "size": len(layer),
                    "digest": sha(layer),
                }
            ],
        },
        indent=3,
    ).encode()  # odd spacing: a re-serialised manifest would change the digest
    digest = src.put_manifest("1", man, "application/vnd.oci.image.manifest.v1+json")
    oci.attach(src, digest, "sig", b"{}", cosign.SIMPLESIGNING_MEDIA_TYPE, {cosign.SIGNATURE_ANNOTATION: "x"})
    r = copier.copy_image(src, dst, "1", "1")
    assert r.digest == digest and dst.get_manifest("1")[2] == digest
    assert r.attached == [cosign.sig_tag(digest)] and set(r.counts()) == {"mounted"}
    assert copier.config_diff(None, json.loads(config)) == {"env": {"added": {"A": "1"}}}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    s.recursive(
        s.none() | s.booleans() | s.integers() | s.text(max_size=20),
        lambda inner: (
            s.lists(inner, max_size=4)
            | s.dictionaries(
                s.sampled_from(["layers", "digest", "size", "annotations", "mediaType", "x"]),
                inner,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_hostile_sig_manifests_are_image_errors(doc):
    fake = FakeRegistry()
    c = client_for(fake)
    fake.manifests["team/app"] = {
        cosign.sig_tag(DIGEST): (json.dumps(doc).encode(), "application/vnd.oci.image.manifest.v1+json")
    }
    try:
        oci.read(c, DIGEST, "sig")
    except ImageError as e:
        assert "\n" not in str(e)


@settings(max_examples=100, deadline=None)
@given(s.binary(max_size=300))
def test_binary_sig_manifests_are_image_errors(data):
    fake = FakeRegistry()
    c = client_for(fake)
    fake.manifests["team/app"] = {
        cosign.sig_tag(DIGEST): (data, "application/vnd.oci.image.manifest.v1+json")
    }
    try:
        oci.read(c, DIGEST, "sig")
    except ImageError as e:
        assert "\n" not in str(e)
