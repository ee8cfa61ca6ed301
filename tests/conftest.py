"""Shared fixtures: small real images built in tmp dirs, and the corpus location."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci

ROOT = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path:
    return Path(os.environ.get("CONTAINMENT_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()


def corpus_images() -> dict[str, dict]:
    cache = Path(os.environ.get("CORPUS_CACHE", Path.home() / ".cache" / "containment-corpus"))
    p = cache / "images.json"
    if not p.exists():
        return {}
    doc = json.loads(p.read_text())
    return {im["name"]: im for im in doc.get("images", [])}


@pytest.fixture
def corpus_image():
    imgs = corpus_images()

    def get(name: str) -> dict:
        if name not in imgs:
            pytest.skip(f"corpus image {name} not built (run ../shared/corpus/build-images.sh or make test)")
        return imgs[name]

    return get


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTAINMENT_CACHE_DIR", str(tmp_path / "cache"))


def status_stanza(name: str, version: str, source: str = "", arch: str = "amd64") -> str:
    s = f"Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: {arch}\nVersion: {version}\n"
    if source:
        s += f"Source: {source}\n"
    return s + "Maintainer: Someone <a@b.c>\nDescription: test package\n one line more\n"


def dpkg_status(*pkgs: tuple[str, str]) -> bytes:
    return "\n".join(status_stanza(n, v) for n, v in pkgs).encode()


OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n'


def base_layer(*pkgs: tuple[str, str]) -> bytes:
    return layer_tar(
        [
            TarEntry("etc", kind="dir"),
            TarEntry("usr/lib/os-release", OS_RELEASE),
            TarEntry("etc/os-release", kind="symlink", link="../usr/lib/os-release"),
            TarEntry(
                "var/lib/dpkg/status", dpkg_status(*(pkgs or (("libc6", "2.36-9"), ("bash", "5.2.15-2+b2"))))
            ),
        ]
    )


@pytest.fixture
def make_oci(tmp_path):
    def make(layers: list[bytes], name: str = "img", compression: str = "gzip", **kw) -> str:
        root = tmp_path / name
        write_oci(str(root), ImageSpec(layers=layers, **kw), compression=compression)
        return str(root)

    return make
