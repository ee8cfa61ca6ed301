from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.python import CATALOGERS, PythonInstalledCataloger, licenses_from, parse_metadata
from containment.model import CatalogError

SITE = "usr/local/lib/python3.11/site-packages"

# A wheel METADATA (Metadata-Version 2.1): description in the body after the blank line.
DJANGO = b"""Metadata-Version: 2.1
Name: Django
Version: 3.2.12
Summary: A high-level Python Web framework.
Home-page: https://www.djangoproject.com/
License: BSD-3-Clause
Classifier: License :: OSI Approved :: BSD License
Requires-Python: >=3.6
Requires-Dist: asgiref (<4,>=3.3.2)

License: this line is in the body and must be ignored
Version: 9.9.9
"""

# PEP 639 metadata: License-Expression wins over everything.
PEP639 = b"""Metadata-Version: 2.4
Name: attrs
Version: 24.3.0
License-Expression: MIT
License-File: LICENSE
Classifier: License :: OSI Approved :: Apache Software License

body
"""

# Old setuptools PKG-INFO: License holds the whole license text, Description is a header
# with continuation lines, and classifiers follow it.
OLD_PKG_INFO = b"""Metadata-Version: 1.1
Name: python-apt
Version: 2.6.0
Summary: Python bindings for APT
Home-page: UNKNOWN
Author: APT Development Team
License: Copyright (c) 2005 Some One
\x20\x20\x20\x20\x20\x20\x20\x20
        Permission is hereby granted, free of charge, to any person obtaining a copy
        of this software...
Description: python-apt
        ==========
        Version: 0.0.0 is not a header here
        License: neither is this
Platform: UNKNOWN
Classifier: License :: OSI Approved :: GNU General Public License (GPL)
Classifier: License :: OSI Approved
Classifier: Programming Language :: Python :: 3
"""

WSGIREF = b"""Metadata-Version: 1.0\r
Name: wsgiref\r
Version: 0.1.2\r
Summary: WSGI (PEP 333) Reference Library\r
License: PSF or ZPL\r
\r
"""


def one(files: dict[str, bytes]):
    pkgs = run_cataloger(PythonInstalledCataloger(), files)
    assert len(pkgs) == 1, pkgs
    return pkgs[0]


def test_catalogers_exported() -> None:
    assert [type(c) for c in CATALOGERS] == [PythonInstalledCataloger]


def test_dist_info_metadata() -> None:
    path = f"{SITE}/Django-3.2.12.dist-info/METADATA"
    p = one({path: DJANGO})
    assert (p.name, p.version, p.type) == ("Django", "3.2.12", "pypi")
    assert p.purl == "pkg:pypi/django@3.2.12"
    assert p.path == path
    assert p.cataloger == "python-installed"
    assert p.licenses == ("BSD-3-Clause",)
    assert p.dev is False
    assert p.extra["site_packages"] == SITE
    assert p.extra["format"] == "dist-info"
    assert "distro_packaged" not in p.extra
    assert p.extra["metadata_version"] == "2.1"


def test_license_expression_first() -> None:
    p = one({f"{SITE}/attrs-24.3.0.dist-info/METADATA": PEP639})
    assert p.licenses == ("MIT",)


def test_long_license_text_falls_back_to_classifiers() -> None:
    path = "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info/PKG-INFO"
    p = one({path: OLD_PKG_INFO})
    assert (p.name, p.version) == ("python-apt", "2.6.0")
    assert p.purl == "pkg:pypi/python-apt@2.6.0"
    assert p.licenses == ("GNU General Public License (GPL)",)
    assert p.extra["format"] == "egg-info"
    assert p.extra["site_packages"] == "usr/lib/python3/dist-packages"
    assert p.extra["distro_packaged"] is True


def test_unknown_license_and_no_classifier() -> None:
    data = b"Metadata-Version: 1.0\nName: foo\nVersion: 1\nLicense: UNKNOWN\n"
    assert one({f"{SITE}/foo-1.egg-info/PKG-INFO": data}).licenses == ()


def test_single_file_egg_info_crlf() -> None:
    path = "usr/lib/python2.7/wsgiref.egg-info"
    p = one({path: WSGIREF})
    assert (p.name, p.version, p.licenses) == ("wsgiref", "0.1.2", ("PSF or ZPL",))
    assert p.extra["format"] == "egg-info-file"
    assert p.extra["site_packages"] == "usr/lib/python2.7"


def test_egg_directory() -> None:
    path = f"{SITE}/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO"
    data = b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n\nbody"
    p = one({path: data})
    assert (p.name, p.version, p.purl) == ("six", "1.16.0", "pkg:pypi/six@1.16.0")
    assert p.extra["format"] == "egg"
    assert p.extra["site_packages"] == SITE


def test_siblings_direct_url_and_installer() -> None:
    d = f"{SITE}/my_pkg-0.1.dist-info"
    direct = {
        "url": "https://user:token@github.com/org/my-pkg.git",
        "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "main"},
    }
    files = {
        f"{d}/METADATA": b"Metadata-Version: 2.1\nName: my_pkg\nVersion: 0.1\n\n",
        f"{d}/direct_url.json": json.dumps(direct).encode(),
        f"{d}/INSTALLER": b"uv\n",
        f"{d}/RECORD": b"not wanted",
    }
    p = one(files)
    assert p.purl == "pkg:pypi/my-pkg@0.1"
    assert p.name == "my_pkg"
    assert p.extra["installer"] == "uv"
    assert p.extra["direct_url"] == {
        "url": "https://github.com/org/my-pkg.git",
        "vcs": "git",
        "commit_id": "a" * 40,
        "requested_revision": "main",
    }


def test_editable_direct_url() -> None:
    d = "app/.venv/lib/python3.12/site-packages/app-0.0.0.dist-info"
    files = {
        f"{d}/METADATA": b"Metadata-Version: 2.1\nName: app\nVersion: 0.0.0\n",
        f"{d}/direct_url.json": b'{"url": "file:///src/app", "dir_info": {"editable": true}}',
    }
    assert one(files).extra["direct_url"] == {"url": "file:///src/app", "editable": True}


def test_broken_direct_url_is_ignored() -> None:
    d = f"{SITE}/x-1.dist-info"
    files = {f"{d}/METADATA": b"Name: x\nVersion: 1\n", f"{d}/direct_url.json": b"{nope"}
    assert "direct_url" not in one(files).extra


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (f"{SITE}/foo-1.dist-info/METADATA", True),
        ("foo-1.dist-info/METADATA", True),
        (f"{SITE}/FOO-1.DIST-INFO/METADATA", True),
        (f"{SITE}/foo-1.egg-info/PKG-INFO", True),
        (f"{SITE}/foo-1.egg/EGG-INFO/PKG-INFO", True),
        (f"{SITE}/foo-1-py3.11.egg-info", True),
        (f"{SITE}/foo-1.dist-info/direct_url.json", True),
        (f"{SITE}/foo-1.dist-info/INSTALLER", True),
        (f"{SITE}/foo-1.dist-info/RECORD", False),
        (f"{SITE}/foo-1.dist-info/licenses/METADATA", False),
        ("src/foo-1.0/PKG-INFO", False),  # an sdist, not an installation
        ("usr/share/doc/METADATA", False),
        ("home/u/direct_url.json", False),
        ("usr/bin/python3", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert PythonInstalledCataloger().wants(path, 0o100644, 100) is wanted


def test_many_packages_in_one_tree() -> None:
    files = {
        f"{SITE}/a-1.dist-info/METADATA": b"Name: a\nVersion: 1\n",
        f"{SITE}/b-2.egg-info/PKG-INFO": b"Name: b\nVersion: 2\n",
        f"{SITE}/c-3-py3.11.egg-info": b"Name: c\nVersion: 3\n",
    }
    pkgs = run_cataloger(PythonInstalledCataloger(), files)
    assert sorted((p.name, p.version) for p in pkgs) == [("a", "1"), ("b", "2"), ("c", "3")]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\xff garbage",
        b"Name: only\n",
        b"Version: 1\n",
        b"\nName: x\nVersion: 1",
        b"Name: \x1c\nVersion: 1\n",
    ],
)
def test_unreadable_metadata_raises_catalog_error(data: bytes) -> None:
    with pytest.raises(CatalogError, match="METADATA"):
        PythonInstalledCataloger().parse(f"{SITE}/x-1.dist-info/METADATA", data, FileTree())


def test_parse_metadata_multiple_classifiers_and_continuations() -> None:
    fields = parse_metadata(OLD_PKG_INFO)
    assert fields["name"] == ["python-apt"]
    assert fields["version"] == ["2.6.0"]
    assert "description" not in fields
    assert len(fields["classifier"]) == 3
    assert fields["license"][0].startswith("Copyright (c) 2005 Some One\n")


def test_classifier_licenses_deduplicated() -> None:
    fields = {
        "classifier": [
            "License :: OSI Approved :: MIT License",
            "License :: OSI Approved :: MIT License",
            "License :: Public Domain",
            "Topic :: License :: Not one",
        ]
    }
    assert licenses_from(fields) == ("MIT License", "Public Domain")


VALID = [DJANGO, PEP639, OLD_PKG_INFO, WSGIREF]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.sampled_from(VALID).flatmap(lambda v: st.binary(max_size=50).map(lambda b, v=v: _mutate(v, b))),
    )
)
def test_fuzz_never_crashes(data: bytes) -> None:
    c = PythonInstalledCataloger()
    tree = FileTree({f"{SITE}/x-1.dist-info/direct_url.json": data, f"{SITE}/x-1.dist-info/INSTALLER": data})
    for path in (
        f"{SITE}/x-1.dist-info/METADATA",
        f"{SITE}/x-1.egg-info",
        f"{SITE}/x-1.dist-info/direct_url.json",
    ):
        try:
            out = list(c.parse(path, data, tree))
        except CatalogError:
            continue
        assert all(p.name and p.version for p in out)


def _mutate(valid: bytes, noise: bytes) -> bytes:
    if not noise:
        return valid
    cut = noise[0] * len(valid) // 256
    return valid[:cut] + noise[1:] + valid[cut:]
