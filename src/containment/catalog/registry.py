"""Every cataloger the walk feeds, in one list.

Two kinds: INSTALLED catalogers read what a package manager put on disk (package databases,
installed metadata, binaries, archives); DECLARED ones read lockfiles and manifests. In an
image the installed tree is the truth: declarations yield to it (see layers.squash.prefer_installed).
"""

from __future__ import annotations

import importlib

from containment.catalog.base import Cataloger

INSTALLED_MODULES: tuple[str, ...] = (
    "dpkg",
    "apk",
    "rpm",
    "rpm_manifest",
    "alpm",
    "portage",
    "nix",
    "python",
    "node",
    "ruby",
    "php",
    "pear",
    "dotnet",
    "golang",
    "rust",
    "java",
    "r_package",
    "luarocks",
    "conan_installed",
    "homebrew",
)
DECLARED_MODULES: tuple[str, ...] = (
    "npm_lock",
    "yarn_lock",
    "pnpm_lock",
    "bun_lock",
    "python_lock",
    "gomod",
    "cargo_lock",
    "gemfile_lock",
    "composer_lock",
    "maven_pom",
    "gradle_lock",
    "sbt_lock",
    "nuget_lock",
    "mix_lock",
    "pubspec_lock",
    "swift_resolved",
    "conan_lock",
    "podfile_lock",
)
MODULES = INSTALLED_MODULES + DECLARED_MODULES

# The names DECLARED_MODULES' catalogers carry, known without importing them (the warm path
# of a scan imports no cataloger). tests/unit/test_registry.py checks this against the modules.
DECLARED_NAMES: frozenset[str] = frozenset(
    {
        "npm-package-lock",
        "yarn-lock",
        "pnpm-lock",
        "bun-lock",
        "python-requirements",
        "python-pipfile-lock",
        "python-poetry-lock",
        "python-uv-lock",
        "python-pylock",
        "go-mod",
        "rust-cargo-lock",
        "ruby-gemfile-lock",
        "php-composer-lock",
        "maven-pom",
        "gradle-lockfile",
        "sbt-lockfile",
        "nuget-packages-lock",
        "nuget-central-packages",
        "nuget-packages-config",
        "elixir-mix-lock",
        "dart-pubspec-lock",
        "swift-package-resolved",
        "conan-lock",
        "cocoapods-podfile-lock",
    }
)

_cache: dict[str, list[Cataloger]] = {}


def _load(modules: tuple[str, ...]) -> list[Cataloger]:
    out: list[Cataloger] = []
    for m in modules:
        if m not in _cache:
            _cache[m] = list(importlib.import_module(f"containment.catalog.{m}").CATALOGERS)
        out.extend(_cache[m])
    return out


def all_catalogers() -> list[Cataloger]:
    return _load(MODULES)


def declared_names() -> frozenset[str]:
    """Names of the catalogers that read declarations (lockfiles, manifests)."""
    return DECLARED_NAMES


def source_key() -> str:
    """A digest of every cataloger's source: the layer-cache key changes with any of them,
    and computing it imports none of them."""
    import hashlib
    from pathlib import Path

    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(here.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]
