"""Nix: store paths registered in nix/var/nix/db/db.sqlite."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.nix import CATALOGERS, NixDBCataloger, parse_store_path
from containment.model import CatalogError

CAT, STORE = CATALOGERS
DB = "nix/var/nix/db/db.sqlite"

# Nix's schema 10 (src/libstore/schema.sql)
SCHEMA = """
create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null,
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer,
    sigs             text,
    ca               text
);
create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);
create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;
create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null,
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);
create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
"""

# the closure of jq in a nixos/nix image (as syft's image-nixos-jq-pkg-db test data keeps it)
PATHS = [
    (
        "/nix/store/02mqs1by2vab9yzw0qc4j7463w78p3ps-glibc-2.37-8",
        "/nix/store/5av396z8xa13jg89g9jws145c0k26k2x-glibc-2.37-8.drv",
        29893472,
    ),
    (
        "/nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.37-8-bin",
        "/nix/store/5av396z8xa13jg89g9jws145c0k26k2x-glibc-2.37-8.drv",
        2983456,
    ),
    ("/nix/store/q38q8ng57zwjg1h15ry5zx0lb0xyax4b-libcap-2.63-lib", "", 66992),
    ("/nix/store/5zzrvdmlkc5rh3k5862krd3wfb3pqhyf-perl5.34.1-TimeDate-2.33", "", 211336),
    ("/nix/store/nwf2y0nc48ybim56308cr5ccvwkabcqc-openssl-1.1.1q", "", 5529624),
    ("/nix/store/n83qx7m848kg51lcjchwbkmlgdaxfckf-tzdata-2022a", "", 1845064),
    ("/nix/store/q5dhwzcn82by5ndc7g0q83wsnn13qkqw-webdav-server-rs-unstable-2021-08-16", "", 8813472),
    ("/nix/store/zkgyp2vra0bgqm0dv1qi514l5fd0aksx-bash-interactive-5.1-p16-man", "", 333104),
    ("/nix/store/jll5j4a3xqr4d7c9qwfz8mhbkq1v7r2k-jq-1.6-bin", "", 75208),
    ("/nix/store/3c2yzh3p7s1a8b8gq6v9hfm3mhr4z1fq-jq-1.6-lib", "", 329840),
    # not packages: sources, a derivation, a hook without version, a name without dash
    ("/nix/store/5q7vxm9lc4b9hifc3br4sr8dy7f2h0qa-source", "", 1),
    ("/nix/store/5av396z8xa13jg89g9jws145c0k26k2x-glibc-2.37-8.drv", "", 1),
    ("/nix/store/9ax2c7wx1yqhhc2g7x1nvd9s8a1rqmzf-make-shell-wrapper-hook", "", 1),
    ("/nix/store/ab2g4k0sd3v7x5x6hs0xw9rvn0pk8cnw-bootstrap-tools.tar.xz", "", 1),
]


def nix_db(rows: list[tuple[str, str, int]], wal: bool = False, tmp_path=None) -> bytes:
    if wal:
        assert tmp_path is not None
        f = tmp_path / "db.sqlite"
        con = sqlite3.connect(f)
        con.execute("PRAGMA journal_mode = WAL")
    else:
        con = sqlite3.connect(":memory:")
    con.executescript(SCHEMA)
    for i, (path, deriver, size) in enumerate(rows):
        con.execute(
            "insert into ValidPaths (path, hash, registrationTime, deriver, narSize) values (?, ?, ?, ?, ?)",
            (path, "sha256:" + f"{i:064x}", 1700000000 + i, deriver or None, size),
        )
    con.commit()
    if wal:
        con.execute("PRAGMA wal_checkpoint(FULL)")
        data = f.read_bytes()
        con.close()
        return data
    return con.serialize()


def test_database():
    pkgs = run_cataloger(CAT, {DB: nix_db(PATHS)})
    assert [(p.name, p.version, p.extra.get("output")) for p in pkgs] == [
        ("glibc", "2.37-8", None),
        ("glibc", "2.37-8", "bin"),
        ("libcap", "2.63", "lib"),
        ("perl5.34.1-TimeDate", "2.33", None),
        ("openssl", "1.1.1q", None),
        ("tzdata", "2022a", None),
        ("webdav-server-rs", "unstable-2021-08-16", None),
        ("bash-interactive", "5.1-p16", "man"),
        ("jq", "1.6", "bin"),
        ("jq", "1.6", "lib"),
    ]
    glibc, glibc_bin = pkgs[0], pkgs[1]
    assert glibc.purl == "pkg:nix/glibc@2.37-8?outputhash=02mqs1by2vab9yzw0qc4j7463w78p3ps"
    assert glibc_bin.purl == "pkg:nix/glibc@2.37-8?output=bin&outputhash=h0cnbmfcn93xm5dg2x27ixhag1cwndga"
    # the store path is where the package is (a layer deleting it deletes the package)
    assert (glibc.type, glibc.cataloger, glibc.path) == (
        "nix",
        "nix-db",
        "nix/store/02mqs1by2vab9yzw0qc4j7463w78p3ps-glibc-2.37-8",
    )
    assert glibc.extra == {
        "db": DB,
        "deriver": "5av396z8xa13jg89g9jws145c0k26k2x-glibc-2.37-8.drv",
        "nar_size": 29893472,
    }


def test_wal_mode_database(tmp_path):
    data = nix_db(PATHS[:3], wal=True, tmp_path=tmp_path)
    assert data[18] == 2  # written in WAL mode, as Nix does
    assert [p.name for p in run_cataloger(CAT, {DB: data})] == ["glibc", "glibc", "libcap"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.34-210-bin", ("glibc", "2.34-210", "bin")),
        (
            "nix/store/p0y8fbpbqr2jm5zfrdll0rgyg2lvp5g2-util-linux-minimal-2.37.4-bin",
            ("util-linux-minimal", "2.37.4", "bin"),
        ),
        ("/nix/store/z24qs6f5d1mmwdp73n1jfc3swj4v2c5s-krb5-1.19.3.9.10", ("krb5", "1.19.3.9.10", "")),
        (
            "/nix/store/0296qxvn30z9b2ah1g5p97k5wr9k8y78-busybox-static-x86_64-unknown-linux-musl-1.35.0",
            ("busybox-static-x86_64-unknown-linux-musl", "1.35.0", ""),
        ),
        ("/nix/store/nwv742f1bxv6g78hy9yc6slxdbxlmqhb-kmod-29", ("kmod", "29", "")),
        (
            "/nix/store/x4z0gs2x5ns2y5yd0mm5wqlx1r11v8ks-python3.11-requests-2.31.0",
            ("python3.11-requests", "2.31.0", ""),
        ),
        (
            "/nix/store/9z1yb5z3fhm8l8qx2jfsyixqswdk5b4l-hello-0-unstable-2024-01-01",
            ("hello", "0-unstable-2024-01-01", ""),
        ),
        ("/nix/store/5q7vxm9lc4b9hifc3br4sr8dy7f2h0qa-source", None),
        ("/nix/store/5q7vxm9lc4b9hifc3br4sr8dy7f2h0qa-foo-1.0.drv", None),
        ("/nix/store/not-a-hash-foo-1.0", None),
        ("/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-foo-1.0", None),  # 'e' is not in Nix's base-32
    ],
)
def test_parse_store_path(path, expected):
    got = parse_store_path(path)
    assert (got[:3] if got else None) == expected


def test_not_a_database():
    with pytest.raises(CatalogError, match="db.sqlite"):
        CAT.parse(DB, b"not sqlite", FileTree())
    con = sqlite3.connect(":memory:")
    con.execute("create table Other (x)")
    with pytest.raises(CatalogError, match="unreadable"):
        CAT.parse(DB, con.serialize(), FileTree())
    assert CAT.wants(DB, 0o100644, 1) and not CAT.wants("x/" + DB, 0o100644, 1)
    assert not CAT.wants("nix/var/nix/db/db.sqlite-wal", 0o100644, 1)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdfg0123-._xyzunstableoutbin", max_size=40))
def test_fuzz_store_path_names(name):
    got = parse_store_path("/nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-" + name)
    if got is not None:
        n, v, out, h = got
        assert n and v and h == "h0cnbmfcn93xm5dg2x27ixhag1cwndga"
        assert v[0].isdigit() or v.startswith("unstable-")


_DB = nix_db(PATHS)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_DB) - 1), st.integers(0, 255)), min_size=1, max_size=30))
def test_fuzz_database(edits):
    b = bytearray(_DB)
    for pos, val in edits:
        b[pos] = val
    try:
        out = list(NixDBCataloger().parse(DB, bytes(b), FileTree()))
    except CatalogError:
        return
    assert all(p.type == "nix" and p.name and p.version for p in out)


# --------------------------------------------------------------------------- the store itself

# a dockerTools.buildLayeredImage closure: store directories, no database (as syft's fixture-1)
STORE_FILES = {
    "nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.34-210-bin/lib/glibc.so": b"\x7fELF",
    "nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.34-210-bin/share/man/glibc.1": b".TH",
    "nix/store/5av396z8xa13jg89g9jws145c0k26k2x-glibc-2.34-210.drv": b"Derive([])",
    "nix/store/nwf2y0nc48ybim56308cr5ccvwkabcqc-openssl-1.1.1q/lib/libssl.so.1.1": b"\x7fELF",
    "nix/store/nwf2y0nc48ybim56308cr5ccvwkabcqc-openssl-1.1.1q/etc/ssl/openssl.cnf": b"#",
    "nix/store/5q7vxm9lc4b9hifc3br4sr8dy7f2h0qa-source/README": b"",
    "nix/store/.links/0b2c9dmlkc5rh3k5862krd3wfb3pqhy0": b"x",
    "nix/var/nix/profiles/default/manifest.json": b"{}",
}


def test_store_paths():
    pkgs = run_cataloger(STORE, STORE_FILES)
    assert [(p.name, p.version, p.purl, p.path) for p in pkgs] == [
        (
            "glibc",
            "2.34-210",
            "pkg:nix/glibc@2.34-210?output=bin&outputhash=h0cnbmfcn93xm5dg2x27ixhag1cwndga",
            "nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.34-210-bin",
        ),
        (
            "openssl",
            "1.1.1q",
            "pkg:nix/openssl@1.1.1q?outputhash=nwf2y0nc48ybim56308cr5ccvwkabcqc",
            "nix/store/nwf2y0nc48ybim56308cr5ccvwkabcqc-openssl-1.1.1q",
        ),
    ]
    assert pkgs[0].cataloger == "nix-store" and pkgs[0].extra == {"output": "bin"}
    assert STORE.paths_only and not STORE.wants("nix/storex/a", 0o100644, 1)


def _image_inventory(make_oci, layers):
    from containment.cache import LayerCache
    from containment.image.build import TarEntry, layer_tar
    from containment.layers import Analyzer, scan_target

    tars = [layer_tar([TarEntry(k, v) for k, v in sorted(files.items())]) for files in layers]
    return scan_target(
        f"oci:{make_oci(tars)}", Analyzer(catalogers=list(CATALOGERS), cache=LayerCache(enabled=False))
    )


def test_store_and_database_in_an_image_are_one_package_each(make_oci):
    db_paths = [
        ("/nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.34-210-bin", "", 2983456),
        ("/nix/store/nwf2y0nc48ybim56308cr5ccvwkabcqc-openssl-1.1.1q", "", 5529624),
    ]
    inv = _image_inventory(make_oci, [{**STORE_FILES, DB: nix_db(db_paths)}])
    assert sorted((p.name, p.version, p.path) for p in inv.packages) == [
        ("glibc", "2.34-210", "nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.34-210-bin"),
        ("openssl", "1.1.1q", "nix/store/nwf2y0nc48ybim56308cr5ccvwkabcqc-openssl-1.1.1q"),
    ]


def test_garbage_collected_store_path_is_gone(make_oci):
    gone = {"nix/store/.wh.nwf2y0nc48ybim56308cr5ccvwkabcqc-openssl-1.1.1q": b""}
    inv = _image_inventory(make_oci, [STORE_FILES, gone])
    assert [(p.name, p.layer == inv.layers[0].diff_id) for p in inv.packages] == [("glibc", True)]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdfg0123-._/xyzunstableoutbin", max_size=60))
def test_fuzz_store_file_paths(rest):
    path = "nix/store/h0cnbmfcn93xm5dg2x27ixhag1cwndga-" + rest
    if STORE.wants(path, 0o100644, 1):
        for p in STORE.parse(path, b"", FileTree()):
            assert p.path == "/".join(path.split("/")[:3]) and p.name and p.version


def test_the_walk_reads_no_store_file_and_keeps_each_package_once():
    from containment.layers import LayerVisitor

    v = LayerVisitor([STORE], "layer")
    assert not any(v.wants(p, 0o100644, len(d)) for p, d in STORE_FILES.items())  # nothing is read
    facts = v.finish()
    assert facts.wanted == [] and facts.warnings == []
    assert sorted(p.name for p in facts.packages) == ["glibc", "openssl"]
