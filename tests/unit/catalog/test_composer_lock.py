from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import run_cataloger
from containment.catalog.composer_lock import ComposerLockCataloger
from containment.model import CatalogError

COMPOSER_LOCK = json.dumps(
    {
        "_readme": [
            "This file locks the dependencies of your project to a known state",
            "This file is @generated automatically",
        ],
        "content-hash": "2b4c1e5f8c0e2a0b3c4d5e6f7a8b9c0d",
        "packages": [
            {
                "name": "monolog/monolog",
                "version": "3.5.0",
                "source": {
                    "type": "git",
                    "url": "https://github.com/Seldaek/monolog.git",
                    "reference": "c915e2634718dbc8a4a15c61b0e62e7a44e14448",
                },
                "dist": {
                    "type": "zip",
                    "url": "https://api.github.com/repos/Seldaek/monolog/zipball/c915e2634718dbc8a4a15c61b0e62e7a44e14448",
                    "reference": "c915e2634718dbc8a4a15c61b0e62e7a44e14448",
                    "shasum": "",
                },
                "require": {"php": ">=8.1", "psr/log": "^2.0 || ^3.0"},
                "type": "library",
                "license": ["MIT"],
                "time": "2023-10-27T15:32:31+00:00",
            },
            {
                "name": "psr/log",
                "version": "3.0.0",
                "type": "library",
                "license": ["MIT"],
            },
            {
                "name": "symfony/console",
                "version": "v6.4.3",
                "type": "library",
                "license": ["MIT"],
            },
            {
                "name": "acme/internal",
                "version": "dev-main",
                "source": {"type": "git", "url": "git@example.com:acme/internal.git", "reference": "abc"},
                "type": "library",
                "license": "proprietary",
            },
            {
                "name": "doctrine/dbal",
                "version": "3.8.0",
                "license": ["MIT", "(GPL-2.0-only or LGPL-2.1-only)"],
            },
            {"name": "broken"},
            "not an object",
        ],
        "packages-dev": [
            {
                "name": "phpunit/phpunit",
                "version": "10.5.10",
                "type": "library",
                "license": ["BSD-3-Clause"],
            },
            {"name": "psr/log", "version": "3.0.0", "license": ["MIT"]},
        ],
        "aliases": [],
        "minimum-stability": "stable",
        "stability-flags": [],
        "prefer-stable": False,
        "prefer-lowest": False,
        "platform": {"php": "^8.1", "ext-json": "*"},
        "platform-dev": [],
        "plugin-api-version": "2.6.0",
    },
    indent=4,
).encode()


def test_composer_lock():
    pkgs = {
        p.name: p for p in run_cataloger(ComposerLockCataloger(), {"var/www/composer.lock": COMPOSER_LOCK})
    }
    assert {(n, p.version, p.purl, p.dev, p.licenses) for n, p in pkgs.items()} == {
        ("monolog/monolog", "3.5.0", "pkg:composer/monolog/monolog@3.5.0", False, ("MIT",)),
        ("psr/log", "3.0.0", "pkg:composer/psr/log@3.0.0", False, ("MIT",)),
        ("symfony/console", "v6.4.3", "pkg:composer/symfony/console@v6.4.3", False, ("MIT",)),
        ("acme/internal", "dev-main", "pkg:composer/acme/internal@dev-main", False, ("proprietary",)),
        (
            "doctrine/dbal",
            "3.8.0",
            "pkg:composer/doctrine/dbal@3.8.0",
            False,
            ("MIT", "(GPL-2.0-only or LGPL-2.1-only)"),
        ),
        ("phpunit/phpunit", "10.5.10", "pkg:composer/phpunit/phpunit@10.5.10", True, ("BSD-3-Clause",)),
    }
    assert pkgs["symfony/console"].extra == {"normalized_version": "6.4.3", "package_type": "library"}
    assert pkgs["monolog/monolog"].extra["source_reference"] == "c915e2634718dbc8a4a15c61b0e62e7a44e14448"
    assert all(p.type == "composer" and p.cataloger == "php-composer-lock" for p in pkgs.values())
    assert all(p.path == "var/www/composer.lock" for p in pkgs.values())


def test_invalid():
    with pytest.raises(CatalogError, match="composer.lock"):
        run_cataloger(ComposerLockCataloger(), {"composer.lock": b"{"})
    with pytest.raises(CatalogError):
        run_cataloger(ComposerLockCataloger(), {"composer.lock": b'"str"'})
    assert run_cataloger(ComposerLockCataloger(), {"composer.lock": b'{"packages": {"a": 1}}'}) == []


def test_deep_nesting_is_catalog_error_or_empty():
    deep = b'{"packages": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    try:
        out = run_cataloger(ComposerLockCataloger(), {"composer.lock": deep})
    except CatalogError:
        return
    assert out == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=0, max_value=3000),
    junk=st.binary(max_size=40),
    raw=st.binary(max_size=300),
    use_raw=st.booleans(),
)
def test_fuzz_never_crashes(cut, junk, raw, use_raw):
    data = raw if use_raw else COMPOSER_LOCK[:cut] + junk + COMPOSER_LOCK[cut + len(junk) :]
    try:
        out = run_cataloger(ComposerLockCataloger(), {"composer.lock": data})
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: (
            st.lists(c, max_size=4)
            | st.dictionaries(
                st.sampled_from(["name", "version", "license", "packages", "packages-dev", "x"]),
                c,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_fuzz_structures(doc):
    try:
        out = run_cataloger(ComposerLockCataloger(), {"composer.lock": json.dumps(doc).encode()})
    except CatalogError:
        return
    assert isinstance(out, list)
