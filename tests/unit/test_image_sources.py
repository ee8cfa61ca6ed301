"""Image sources, layer walk and squash on small images built here."""

from __future__ import annotations

import json
import os

import pytest

from containment.cache import LayerCache
from containment.catalog import apk, dpkg
from containment.image.build import ImageSpec, TarEntry, layer_tar, write_docker_archive, write_oci
from containment.image.walk import Limits
from containment.layers import Analyzer, resolve, scan_target
from containment.model import ImageError
from tests.conftest import base_layer, dpkg_status


def analyzer(**kw) -> Analyzer:
    return Analyzer(catalogers=dpkg.CATALOGERS + apk.CATALOGERS, **kw)


def names(inv) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in inv.packages}


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_oci_layout_compressions(make_oci, compression):
    root = make_oci([base_layer()], compression=compression)
    inv = scan_target(f"oci:{root}:latest", analyzer())
    assert names(inv) == {("libc6", "2.36-9"), ("bash", "5.2.15-2+b2")}
    assert inv.os is not None and inv.os.distro == "debian-12"  # via the etc/os-release symlink
    assert all(p.purl.startswith("pkg:deb/debian/") and "distro=debian-12" in p.purl for p in inv.packages)
    assert inv.packages[0].layer == inv.layers[0].diff_id


def test_deleted_and_replaced_packages_follow_the_top_layer(make_oci):
    l0 = base_layer(("libc6", "2.36-9"), ("bash", "5.2.15-2+b2"), ("curl", "7.88.1-10"))
    l1 = layer_tar(
        [TarEntry("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"), ("bash", "5.2.15-2+b2")))]
    )
    l2 = layer_tar(
        [TarEntry("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9+deb12u4"), ("bash", "5.2.15-2+b2")))]
    )
    root = make_oci([l0, l1, l2])
    inv = scan_target(f"oci:{root}", analyzer())
    assert names(inv) == {("libc6", "2.36-9+deb12u4"), ("bash", "5.2.15-2+b2")}
    by = {p.name: p for p in inv.packages}
    assert by["bash"].layer == inv.layers[0].diff_id  # introduced in the base, rewritten later
    assert by["libc6"].layer == inv.layers[2].diff_id  # upgraded in the top layer


def test_whiteout_and_opaque_dir_remove_lower_databases(make_oci):
    apk_db = b"P:musl\nV:1.1.24-r2\nA:x86_64\no:musl\nL:MIT\n\n"
    l0 = layer_tar(
        [
            TarEntry("etc/alpine-release", b"3.11.5\n"),
            TarEntry("lib/apk/db/installed", apk_db),
            TarEntry("opt/app/var/lib/dpkg/status", dpkg_status(("x", "1"))),
        ]
    )
    l1 = layer_tar([TarEntry("lib/apk/db/.wh.installed"), TarEntry("opt/app/.wh..wh..opq")])
    inv = scan_target(f"oci:{make_oci([l0, l1])}", analyzer())
    assert inv.packages == ()
    assert inv.os is not None and inv.os.id == "alpine"


def test_whiteout_of_a_directory_removes_everything_below(make_oci):
    l0 = layer_tar(
        [
            TarEntry("usr/lib/os-release", b"ID=debian\nVERSION_ID=12\n"),
            TarEntry("var/lib/dpkg/status", dpkg_status(("a", "1"))),
        ]
    )
    l1 = layer_tar([TarEntry("var/lib/.wh.dpkg")])
    l2 = layer_tar([TarEntry("var/lib/dpkg/status.d/b", dpkg_status(("b", "2")))])
    inv = scan_target(f"oci:{make_oci([l0, l1, l2])}", analyzer())
    assert names(inv) == {("b", "2")}


def test_multi_platform_index_and_platform_flag(tmp_path):
    amd = ImageSpec(layers=[base_layer(("amd", "1"))], architecture="amd64")
    arm = ImageSpec(layers=[base_layer(("arm", "1"))], architecture="arm64")
    write_oci(str(tmp_path / "multi"), [amd, arm])
    assert names(scan_target(f"oci:{tmp_path}/multi", analyzer(), platform="linux/arm64")) == {("arm", "1")}
    assert names(scan_target(f"oci:{tmp_path}/multi", analyzer(), platform="linux/amd64")) == {("amd", "1")}
    with pytest.raises(ImageError, match="linux/amd64, linux/arm64"):
        scan_target(f"oci:{tmp_path}/multi", analyzer(), platform="linux/s390x")


def test_unknown_tag(make_oci):
    root = make_oci([base_layer()])
    with pytest.raises(ImageError, match="no image tagged 'nope'"):
        scan_target(f"oci:{root}:nope", analyzer())


@pytest.mark.parametrize("gz", [False, True])
def test_docker_archive(tmp_path, gz):
    p = tmp_path / ("img.tar.gz" if gz else "img.tar")
    l1 = layer_tar([TarEntry("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9")))])
    write_docker_archive(str(p), ImageSpec(layers=[base_layer(), l1]), gzip_outer=gz)
    inv = scan_target(f"docker-archive:{p}", analyzer())
    assert names(inv) == {("libc6", "2.36-9")}
    assert len(inv.layers) == 2


def test_docker_archive_layer_tampered(tmp_path):
    p = tmp_path / "img.tar"
    write_docker_archive(str(p), ImageSpec(layers=[base_layer()]))
    data = bytearray(p.read_bytes())
    i = data.find(b"bash")
    data[i : i + 4] = b"BASH"
    p.write_bytes(bytes(data))
    with pytest.raises(ImageError, match="does not match the config's diff_id"):
        scan_target(f"docker-archive:{p}", analyzer(cache=LayerCache(enabled=False)))


def _blob(root: str, digest: str) -> str:
    return os.path.join(root, "blobs", "sha256", digest.split(":")[1])


def test_wrong_layer_digest_is_refused(make_oci):
    root = make_oci([base_layer()], compression="none")
    idx = json.load(open(os.path.join(root, "index.json")))
    man = json.load(open(_blob(root, idx["manifests"][0]["digest"])))
    layer = _blob(root, man["layers"][0]["digest"])
    data = bytearray(open(layer, "rb").read())
    i = data.find(b"bash")
    data[i : i + 4] = b"BASH"  # content, not a header: the tar still parses
    open(layer, "wb").write(bytes(data))
    with pytest.raises(ImageError, match="blob digest .* does not match"):
        scan_target(f"oci:{root}", analyzer())


def test_wrong_manifest_digest_is_refused(make_oci):
    root = make_oci([base_layer()])
    idx = json.load(open(os.path.join(root, "index.json")))
    mpath = _blob(root, idx["manifests"][0]["digest"])
    man = json.load(open(mpath))
    man["annotations"] = {"x": "y"}
    open(mpath, "w").write(json.dumps(man))
    with pytest.raises(ImageError, match="does not match"):
        scan_target(f"oci:{root}", analyzer())


def test_unknown_layer_media_type(make_oci):
    root = make_oci([base_layer()])
    idx = json.load(open(os.path.join(root, "index.json")))
    man = json.load(open(_blob(root, idx["manifests"][0]["digest"])))
    man["layers"][0]["mediaType"] = "application/vnd.example.weird"
    data = json.dumps(man).encode()
    import hashlib

    d = "sha256:" + hashlib.sha256(data).hexdigest()
    open(_blob(root, d), "wb").write(data)
    idx["manifests"][0]["digest"] = d
    idx["manifests"][0]["size"] = len(data)
    open(os.path.join(root, "index.json"), "w").write(json.dumps(idx))
    with pytest.raises(ImageError, match="unsupported media type"):
        scan_target(f"oci:{root}", analyzer())


def test_truncated_layer(make_oci):
    root = make_oci([base_layer()])
    idx = json.load(open(os.path.join(root, "index.json")))
    man = json.load(open(_blob(root, idx["manifests"][0]["digest"])))
    layer = _blob(root, man["layers"][0]["digest"])
    data = open(layer, "rb").read()
    open(layer, "wb").write(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt|cannot be decompressed|does not match"):
        scan_target(f"oci:{root}", analyzer(cache=LayerCache(enabled=False)))


def test_not_an_image(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="no oci-layout"):
        scan_target(f"oci:{tmp_path}/empty", analyzer())
    (tmp_path / "f.txt").write_text("hello")
    with pytest.raises(ImageError, match="not a readable tar|no manifest.json"):
        scan_target(f"docker-archive:{tmp_path}/f.txt", analyzer())
    with pytest.raises(ImageError, match="looks like a path"):
        scan_target(str(tmp_path), analyzer())


def test_rescan_reads_no_known_layer(make_oci):
    root = make_oci([base_layer()])
    a = analyzer()
    first = scan_target(f"oci:{root}", a)
    idx = json.load(open(os.path.join(root, "index.json")))
    man = json.load(open(_blob(root, idx["manifests"][0]["digest"])))
    os.unlink(_blob(root, man["layers"][0]["digest"]))  # a rescan must not need it
    second = scan_target(f"oci:{root}", analyzer())
    assert names(first) == names(second)


# ------------------------------------------------------------------ hostile layers


def test_escaping_member_names_stay_inside_the_root(make_oci):
    l0 = layer_tar(
        [
            TarEntry("../../../var/lib/dpkg/status", dpkg_status(("evil", "1"))),
            TarEntry("/etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
        ]
    )
    inv = scan_target(f"oci:{make_oci([l0])}", analyzer())
    assert names(inv) == {("evil", "1")}
    assert inv.packages[0].path == "var/lib/dpkg/status"
    assert any("escapes the root" in w for w in inv.warnings)


def test_symlinks_resolve_inside_the_image_never_the_host(make_oci):
    l0 = layer_tar(
        [
            TarEntry("etc/os-release", kind="symlink", link="../../../../../usr/lib/os-release"),
            TarEntry("usr/lib/os-release", b"ID=alpine\nVERSION_ID=9.9\n"),
        ]
    )
    inv = scan_target(f"oci:{make_oci([l0])}", analyzer())
    assert inv.os is not None and inv.os.version_id == "9.9"  # the image's file, not the host's


def test_symlink_loop_is_harmless(make_oci):
    l0 = layer_tar(
        [
            TarEntry("etc/os-release", kind="symlink", link="a"),
            TarEntry("etc/a", kind="symlink", link="b"),
            TarEntry("etc/b", kind="symlink", link="os-release"),
            TarEntry("usr/lib/os-release", b"ID=debian\nVERSION_ID=12\n"),
        ]
    )
    inv = scan_target(f"oci:{make_oci([l0])}", analyzer())
    assert inv.os is not None and inv.os.id == "debian"  # falls back to usr/lib/os-release
    assert resolve("etc/os-release", {"etc/os-release": "a", "etc/a": "os-release"}) is None


def test_hardlink_to_unwanted_file_is_read_from_the_layer(make_oci):
    l0 = layer_tar(
        [
            TarEntry("usr/lib/os-release", b"ID=debian\nVERSION_ID=12\n"),
            TarEntry("backup/statusfile", dpkg_status(("linked", "1.0"))),
            TarEntry("var/lib/dpkg/status", kind="hardlink", link="backup/statusfile"),
        ]
    )
    inv = scan_target(f"oci:{make_oci([l0], compression='none')}", analyzer())
    assert names(inv) == {("linked", "1.0")}


def _sparse_member(name: str, real_size: int) -> bytes:
    """An old-GNU sparse header ('S') claiming `real_size` bytes with no data stored."""

    def octal(n: int, width: int) -> bytes:
        return (b"%0*o" % (width - 1, n)) + b"\0"

    hdr = bytearray(512)
    assert len(name) < 100
    hdr[0 : len(name)] = name.encode()
    hdr[100:108] = octal(0o644, 8)
    hdr[108:116] = octal(0, 8)
    hdr[116:124] = octal(0, 8)
    hdr[124:136] = octal(0, 12)  # stored size
    hdr[136:148] = octal(0, 12)
    hdr[156:157] = b"S"
    hdr[257:265] = b"ustar  \0"

    def base256(n: int) -> bytes:  # GNU encoding for numbers past 8 GiB
        return b"\x80" + n.to_bytes(11, "big")

    hdr[386:398] = base256(real_size - 1)  # one sparse block of 0 bytes at the end
    hdr[398:410] = octal(0, 12)
    hdr[483:495] = base256(real_size)
    hdr[148:156] = b" " * 8
    chk = sum(hdr)
    hdr[148:156] = b"%06o\0 " % chk
    assert len(hdr) == 512
    return bytes(hdr)


def test_ten_gigabyte_sparse_member_is_skipped_fast(make_oci):
    body = _sparse_member("var/lib/dpkg/status", 10 << 30)
    tail = layer_tar([TarEntry("usr/lib/os-release", b"ID=debian\nVERSION_ID=12\n")])
    raw = body + tail  # tail ends with the end-of-archive blocks
    inv = scan_target(f"oci:{make_oci([raw])}", analyzer())
    assert inv.packages == ()
    assert any("over its" in w for w in inv.warnings)


def test_gzip_bomb_is_refused(make_oci):
    zeros = layer_tar([TarEntry("big", b"\0" * (8 << 20))])
    root = make_oci([zeros])
    lim = Limits(ratio_floor=1 << 20, max_ratio=50)
    with pytest.raises(ImageError, match="decompression bomb"):
        scan_target(f"oci:{root}", analyzer(limits=lim, cache=LayerCache(enabled=False)))
    with pytest.raises(ImageError, match="decompression bomb"):
        scan_target(
            f"oci:{root}", analyzer(limits=Limits(max_layer_bytes=1 << 20), cache=LayerCache(enabled=False))
        )


def test_garbage_layer(make_oci):
    root = make_oci([b"this is not a tar file at all" * 100], compression="gzip")
    with pytest.raises(ImageError):
        scan_target(f"oci:{root}", analyzer())


def test_dir_source_never_follows_links_out(tmp_path):
    root = tmp_path / "rootfs"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "etc").mkdir()
    outside = tmp_path / "host-status"
    outside.write_bytes(dpkg_status(("host-only", "9")))
    os.symlink(str(outside), root / "var/lib/dpkg/status")
    os.symlink("/etc/os-release", root / "etc/os-release")
    inv = scan_target(f"dir:{root}", analyzer())
    assert inv.packages == ()
    assert inv.os is None  # the host's /etc/os-release was not read


def test_dir_source(tmp_path):
    root = tmp_path / "rootfs"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_bytes(dpkg_status(("a", "1")))
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/os-release").write_bytes(b"ID=debian\nVERSION_ID=12\n")
    inv = scan_target(f"dir:{root}", analyzer())
    assert names(inv) == {("a", "1")} and inv.kind == "filesystem"


def test_a_config_claiming_a_cached_diff_id_does_not_get_its_facts(tmp_path):
    """Cache poisoning: image B's config claims the diff_id of image A's (cached) layer while its
    blob holds something else. B must be read and refused, not answered from A's cache entry."""
    good = base_layer(("benign", "1"))
    evil = base_layer(("malware", "6.6.6"))
    write_oci(str(tmp_path / "a"), ImageSpec(layers=[good]))
    assert names(scan_target(f"oci:{tmp_path}/a", analyzer())) == {("benign", "1")}
    write_oci(str(tmp_path / "b"), ImageSpec(layers=[evil]))
    # rewrite B's config so its diff_id claims A's layer
    import hashlib

    root = tmp_path / "b"
    idx = json.loads((root / "index.json").read_text())
    mpath = root / "blobs" / "sha256" / idx["manifests"][0]["digest"][7:]
    man = json.loads(mpath.read_text())
    cpath = root / "blobs" / "sha256" / man["config"]["digest"][7:]
    cfg = json.loads(cpath.read_text())
    cfg["rootfs"]["diff_ids"] = ["sha256:" + hashlib.sha256(good).hexdigest()]
    cdata = json.dumps(cfg).encode()
    man["config"]["digest"] = "sha256:" + hashlib.sha256(cdata).hexdigest()
    (root / "blobs" / "sha256" / man["config"]["digest"][7:]).write_bytes(cdata)
    mdata = json.dumps(man).encode()
    idx["manifests"][0]["digest"] = "sha256:" + hashlib.sha256(mdata).hexdigest()
    (root / "blobs" / "sha256" / idx["manifests"][0]["digest"][7:]).write_bytes(mdata)
    (root / "index.json").write_text(json.dumps(idx))
    with pytest.raises(ImageError, match="does not match the config's diff_id"):
        scan_target(f"oci:{root}", analyzer())


def test_docker_archive_cache_hits_are_bound_to_the_file(tmp_path):
    p = tmp_path / "img.tar"
    write_docker_archive(str(p), ImageSpec(layers=[base_layer()]))
    a = analyzer()
    first = scan_target(f"docker-archive:{p}", a)
    second = scan_target(f"docker-archive:{p}", a)  # same file: cache hit
    assert names(first) == names(second)
    copy = tmp_path / "copy.tar"
    copy.write_bytes(p.read_bytes())  # another file: read and verified again, then cached too
    assert names(scan_target(f"docker-archive:{copy}", a)) == names(first)


def test_a_layer_of_endless_symlinks_is_refused(make_oci, monkeypatch):
    import containment.layers.visitor as an

    monkeypatch.setattr(an, "MAX_LINK_ENTRIES", 100)
    links = [TarEntry(f"l/{i}", kind="symlink", link="/etc/passwd") for i in range(101)]
    root = make_oci([layer_tar(links)])
    with pytest.raises(ImageError, match="more than 100 symlinks"):
        scan_target(f"oci:{root}", analyzer())


@pytest.mark.parametrize("gz", [False, True])
def test_docker_25_archive_with_an_oci_layout_inside(tmp_path, gz):
    """`docker save` from Docker 25+ names config and layers blobs/sha256/<hex>; it was refused
    as 'config missing from the archive; it is corrupt'."""
    import gzip

    from tests.unit.test_hostile_cli import docker25

    p = tmp_path / "img.tar"
    digest = docker25(p)
    if gz:
        p.write_bytes(gzip.compress(p.read_bytes()))
    inv = scan_target(f"docker-archive:{p}", analyzer(cache=LayerCache(enabled=False)))
    assert names(inv) == {("libc6", "2.36-9"), ("bash", "5.2.15-2+b2")}
    assert inv.layers[0].digest == digest  # the member's name is its digest, checked as it is read


def test_docker_25_archive_blob_that_is_not_its_name(tmp_path):
    import io
    import tarfile

    from tests.unit.test_hostile_cli import docker25

    p = tmp_path / "img.tar"
    digest = docker25(p)
    with tarfile.open(p) as tf:
        members = [(m, tf.extractfile(m).read() if m.isreg() else b"") for m in tf]  # type: ignore[union-attr]
    with tarfile.open(p, "w") as tf:
        for m, data in members:
            if m.name == f"blobs/sha256/{digest[7:]}":
                i = data.find(b"bash")
                data = data[:i] + b"BASH" + data[i + 4 :]  # same size, other bytes
            tf.addfile(m, io.BytesIO(data))
    with pytest.raises(ImageError, match=f"blob digest .* does not match the manifest's {digest}"):
        scan_target(f"docker-archive:{p}", analyzer(cache=LayerCache(enabled=False)))
