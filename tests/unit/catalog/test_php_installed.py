from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.php import CATALOGERS, ComposerInstalledCataloger
from containment.model import CatalogError

PATH = "var/www/html/vendor/composer/installed.json"

MONOLOG = {
    "name": "monolog/monolog",
    "version": "v2.9.1",
    "version_normalized": "2.9.1.0",
    "source": {
        "type": "git",
        "url": "https://github.com/Seldaek/monolog.git",
        "reference": "f259e2b15fb95494c83f52d3caad003bbf5ffaa1",
    },
    "require": {"php": ">=7.2", "psr/log": "^1.0.1 || ^2.0 || ^3.0"},
    "time": "2023-02-06T13:44:46+00:00",
    "type": "library",
    "installation-source": "dist",
    "license": ["MIT"],
}
PSR_LOG = {
    "name": "psr/log",
    "version": "3.0.0",
    "version_normalized": "3.0.0.0",
    "type": "library",
    "license": ["MIT"],
}
PHPUNIT = {
    "name": "phpunit/phpunit",
    "version": "9.6.13",
    "version_normalized": "9.6.13.0",
    "type": "library",
    "license": ["BSD-3-Clause"],
    "install-path": "../phpunit/phpunit",
}
DEV_BRANCH = {
    "name": "acme/tools",
    "version": "dev-main",
    "version_normalized": "dev-main",
    "source": {"type": "git", "url": "https://x/acme/tools.git", "reference": "0123456789abcdef"},
    "type": "composer-plugin",
    "license": "GPL-2.0-or-later",
}

COMPOSER2 = {
    "packages": [MONOLOG, PSR_LOG, PHPUNIT, DEV_BRANCH],
    "dev": True,
    "dev-package-names": ["phpunit/phpunit", "acme/tools"],
}


def parse(doc: object, path: str = PATH):
    return {p.name: p for p in ComposerInstalledCataloger().parse(path, json.dumps(doc).encode(), FileTree())}


def test_catalogers_exported() -> None:
    assert [type(c) for c in CATALOGERS] == [ComposerInstalledCataloger]


def test_composer2_with_dev_packages() -> None:
    got = parse(COMPOSER2)
    assert sorted(got) == ["acme/tools", "monolog/monolog", "phpunit/phpunit", "psr/log"]
    mono = got["monolog/monolog"]
    assert (mono.version, mono.type, mono.purl) == (
        "v2.9.1",
        "composer",
        "pkg:composer/monolog/monolog@v2.9.1",
    )
    assert mono.licenses == ("MIT",)
    assert mono.dev is False
    assert mono.path == PATH
    assert mono.cataloger == "php-composer-installed"
    assert mono.extra == {
        "composer_format": 2,
        "package_type": "library",
        "reference": "f259e2b15fb95494c83f52d3caad003bbf5ffaa1",
    }
    assert got["psr/log"].purl == "pkg:composer/psr/log@3.0.0"
    assert got["psr/log"].dev is False
    assert got["phpunit/phpunit"].dev is True
    tools = got["acme/tools"]
    assert (tools.version, tools.dev, tools.licenses) == ("dev-main", True, ("GPL-2.0-or-later",))
    assert tools.extra["package_type"] == "composer-plugin"


def test_composer2_no_dev_install() -> None:
    got = parse({"packages": [MONOLOG, PSR_LOG], "dev": False, "dev-package-names": []})
    assert not any(p.dev for p in got.values())


def test_composer1_list() -> None:
    got = parse([MONOLOG, PHPUNIT])
    assert sorted(got) == ["monolog/monolog", "phpunit/phpunit"]
    assert not any(p.dev for p in got.values())  # composer 1 does not record dev packages
    assert got["phpunit/phpunit"].extra == {"composer_format": 1, "package_type": "library"}


def test_bad_entries_skipped() -> None:
    doc = {
        "packages": [
            MONOLOG,
            "junk",
            {"name": "no/version"},
            {"version": "1.0"},
            {"name": "", "version": "1"},
            {"name": "bad/", "version": "1"},
            {"name": "x/y", "version": 3},
            {"name": "/lonely", "version": "1"},
            {"name": "a/\x0c", "version": "1"},
            {"name": "plain", "version": "1.0", "license": [1, "MIT", "MIT"]},
        ],
        "dev-package-names": "not a list",
    }
    got = parse(doc)
    assert sorted(got) == ["monolog/monolog", "plain"]
    assert got["plain"].purl == "pkg:composer/plain@1.0"
    assert got["plain"].licenses == ("MIT",)


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("vendor/composer/installed.json", True),
        ("composer/installed.json", True),
        ("srv/app/vendor/composer/installed.json", True),
        ("srv/app/lib/composer/installed.json", True),  # custom vendor-dir
        ("srv/app/vendor/mycomposer/installed.json", False),
        ("srv/app/installed.json", False),
        ("srv/app/composer.lock", False),
        ("srv/app/vendor/composer/installed.php", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert ComposerInstalledCataloger().wants(path, 0o100644, 10) is wanted


def test_run_cataloger_end_to_end() -> None:
    pkgs = run_cataloger(ComposerInstalledCataloger(), {PATH: json.dumps(COMPOSER2).encode()})
    assert len(pkgs) == 4


@pytest.mark.parametrize("data", [b"{broken", b'{"dev": true}', b"42", b'"x"', b"[" * 50000])
def test_unreadable_raises_catalog_error(data: bytes) -> None:
    with pytest.raises(CatalogError, match="installed.json"):
        ComposerInstalledCataloger().parse(PATH, data, FileTree())


def _mutate(valid: bytes, noise: bytes) -> bytes:
    if not noise:
        return valid
    cut = noise[0] * len(valid) // 256
    return valid[:cut] + noise[1:] + valid[cut:]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=15),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "version": json_values,
        "license": json_values,
        "source": json_values,
        "type": json_values,
    },
)
docs = st.one_of(
    st.lists(entries | json_values, max_size=4),
    st.fixed_dictionaries(
        {"packages": st.lists(entries | json_values, max_size=4)},
        optional={"dev-package-names": json_values, "dev": json_values},
    ),
).map(lambda d: json.dumps(d).encode())


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=500),
        docs,
        st.just(json.dumps(COMPOSER2).encode()).flatmap(
            lambda v: st.binary(max_size=30).map(lambda b: _mutate(v, b))
        ),
    )
)
def test_fuzz_never_crashes(data: bytes) -> None:
    try:
        out = list(ComposerInstalledCataloger().parse(PATH, data, FileTree()))
    except CatalogError:
        return
    assert all(p.name and p.version and p.purl.startswith("pkg:composer/") for p in out)
