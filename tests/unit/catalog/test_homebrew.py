"""Homebrew/Linuxbrew Cellar kegs (INSTALL_RECEIPT.json, .brew/<formula>.rb)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.homebrew import CATALOGERS, HomebrewCataloger, parse_formula
from containment.model import CatalogError

CAT = CATALOGERS[0]
CELLAR = "home/linuxbrew/.linuxbrew/Cellar"

# an install receipt as `brew install openssl@3` writes it on Linux (bottle pour)
OPENSSL_RECEIPT = {
    "homebrew_version": "4.3.9",
    "used_options": [],
    "unused_options": [],
    "built_as_bottle": True,
    "poured_from_bottle": True,
    "loaded_from_api": True,
    "installed_as_dependency": True,
    "installed_on_request": False,
    "changed_files": ["lib/pkgconfig/libcrypto.pc", "lib/pkgconfig/libssl.pc", "lib/pkgconfig/openssl.pc"],
    "time": 1720612345,
    "source_modified_time": 1717520000,
    "compiler": "gcc-11",
    "aliases": ["openssl"],
    "runtime_dependencies": [
        {
            "full_name": "ca-certificates",
            "version": "2024-07-02",
            "revision": 0,
            "pkg_version": "2024-07-02",
            "declared_directly": True,
        }
    ],
    "source": {
        "spec": "stable",
        "versions": {"stable": "3.3.1", "head": None, "version_scheme": 0, "compatibility_version": None},
        "path": "/home/linuxbrew/.linuxbrew/Library/Taps/homebrew/homebrew-core/Formula/o/openssl@3.rb",
        "tap_git_head": "a6c9c7e6b2c0a36e2e5d9e4d1b7f3a9c8d2e1f00",
        "tap": "homebrew/core",
    },
    "arch": "x86_64",
    "built_on": {
        "os": "Linux",
        "os_version": "Ubuntu 22.04",
        "cpu_family": "dunno",
        "xcode": None,
        "clt": None,
        "preferred_perl": "5.34",
        "glibc_version": "2.35",
        "oldest_cpu_family": "core2",
    },
}

OPENSSL_RB = """\
class OpensslAT3 < Formula
  desc "Cryptography and SSL/TLS Toolkit"
  homepage "https://openssl-library.org"
  url "https://github.com/openssl/openssl/releases/download/openssl-3.3.1/openssl-3.3.1.tar.gz"
  mirror "http://fresh-center.net/linux/misc/openssl-3.3.1.tar.gz"
  sha256 "777cd596284c883375a2a7a11bf5d2786fc5413255efab20c50d6ffe6d020b7e"
  license "Apache-2.0"
  revision 1

  livecheck do
    url "https://www.openssl.org/source/"
    regex(/href=.*?openssl[._-]v?(3(?:\\.\\d+)+)\\.t/i)
  end

  depends_on "ca-certificates"

  def install
    system "perl", "./Configure", *(configure_args + arch_args)
  end
end
"""

CURL_RB = """\
class Curl < Formula
  desc "Get a file from an HTTP, HTTPS or FTP server"
  homepage "https://curl.se"
  # Don't forget to update both instances of the version in the GitHub mirror URL.
  url "https://curl.se/download/curl-8.8.0.tar.bz2"
  license "curl"
end
"""

PYTHON_RB = """\
class PythonAT312 < Formula
  desc "Interpreted, interactive, object-oriented programming language"
  homepage "https://www.python.org/"
  license "Python-2.0"
end
"""

RUST_RB = """\
class Rust < Formula
  desc "Safe, concurrent, practical language"
  homepage "https://www.rust-lang.org/"
  license any_of: [
    "Apache-2.0", # primary
    "MIT",
  ]
end
"""

TERRAFORM_RECEIPT = {
    "homebrew_version": "4.3.9",
    "installed_on_request": True,
    "installed_as_dependency": False,
    "poured_from_bottle": False,
    "time": 1720612399,
    "source": {"spec": "stable", "versions": {"stable": "1.9.2"}, "tap": "hashicorp/tap"},
    "arch": "x86_64",
}


def tree() -> dict[str, bytes]:
    return {
        f"{CELLAR}/openssl@3/3.3.1_1/INSTALL_RECEIPT.json": json.dumps(OPENSSL_RECEIPT).encode(),
        f"{CELLAR}/openssl@3/3.3.1_1/.brew/openssl@3.rb": OPENSSL_RB.encode(),
        f"{CELLAR}/curl/8.8.0/INSTALL_RECEIPT.json": json.dumps({"homebrew_version": "4.3.9"}).encode(),
        f"{CELLAR}/curl/8.8.0/.brew/curl.rb": CURL_RB.encode(),
        f"{CELLAR}/rust/1.79.0/.brew/rust.rb": RUST_RB.encode(),
        f"{CELLAR}/terraform/1.9.2/INSTALL_RECEIPT.json": json.dumps(TERRAFORM_RECEIPT).encode(),
        "opt/homebrew/Cellar/python@3.12/3.12.4/.brew/python@3.12.rb": PYTHON_RB.encode(),
        # formulae that could be installed, not installed ones
        "home/linuxbrew/.linuxbrew/Library/Taps/homebrew/homebrew-core/Formula/c/curl.rb": CURL_RB.encode(),
        f"{CELLAR}/curl/8.8.0/share/doc/curl/example.rb": b"puts 1\n",
    }


def test_cellar():
    pkgs = run_cataloger(CAT, tree())
    assert sorted((p.name, p.version, p.purl) for p in pkgs) == [
        ("curl", "8.8.0", "pkg:brew/curl@8.8.0"),
        ("openssl@3", "3.3.1_1", "pkg:brew/openssl%403@3.3.1_1"),
        ("python@3.12", "3.12.4", "pkg:brew/python%403.12@3.12.4"),
        ("rust", "1.79.0", "pkg:brew/rust@1.79.0"),
        ("terraform", "1.9.2", "pkg:brew/hashicorp/tap/terraform@1.9.2"),
    ]
    by = {p.name: p for p in pkgs}
    ssl = by["openssl@3"]
    assert (ssl.type, ssl.cataloger, ssl.path) == (
        "brew",
        "homebrew-installed",
        f"{CELLAR}/openssl@3/3.3.1_1/INSTALL_RECEIPT.json",
    )
    assert ssl.licenses == ("Apache-2.0",)
    assert ssl.extra == {
        "tap": "homebrew/core",
        "stable_version": "3.3.1",
        "installed_on_request": False,
        "installed_as_dependency": True,
        "poured_from_bottle": True,
        "homebrew_version": "4.3.9",
        "arch": "x86_64",
        "install_time": 1720612345,
        "desc": "Cryptography and SSL/TLS Toolkit",
        "homepage": "https://openssl-library.org",
    }
    assert by["curl"].licenses == ("curl",) and by["curl"].path.endswith("INSTALL_RECEIPT.json")
    assert by["rust"].licenses == ("Apache-2.0 OR MIT",) and by["rust"].path.endswith(".brew/rust.rb")
    assert by["terraform"].licenses == () and by["terraform"].extra["tap"] == "hashicorp/tap"


def test_parse_formula_licenses():
    assert parse_formula('  license all_of: ["MIT", "BSD-3-Clause"]\n') == {"license": "MIT AND BSD-3-Clause"}
    assert parse_formula("  license :public_domain\n") == {"license": "Public Domain"}
    assert parse_formula('  license "GPL-2.0-or-later" => { with: "Classpath-exception-2.0" }\n') == {
        "license": "GPL-2.0-or-later WITH Classpath-exception-2.0"
    }
    assert parse_formula("  license any_of: [\n" * 3) == {}
    assert parse_formula("") == {}


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (f"{CELLAR}/curl/8.8.0/INSTALL_RECEIPT.json", True),
        (f"{CELLAR}/curl/8.8.0/.brew/curl.rb", True),
        (f"{CELLAR}/curl/8.8.0/.brew/other.rb", False),
        (f"{CELLAR}/curl/INSTALL_RECEIPT.json", False),
        (f"{CELLAR}/curl/8.8.0/lib/INSTALL_RECEIPT.json", False),
        ("usr/local/Caskroom/x/1.0/INSTALL_RECEIPT.json", False),
        ("opt/homebrew/Library/Taps/homebrew/homebrew-core/Formula/c/curl.rb", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 100) is wanted


def test_bad_receipt():
    with pytest.raises(CatalogError, match="INSTALL_RECEIPT"):
        CAT.parse(f"{CELLAR}/curl/8.8.0/INSTALL_RECEIPT.json", b"{nope", FileTree())
    with pytest.raises(CatalogError):
        CAT.parse(f"{CELLAR}/curl/8.8.0/INSTALL_RECEIPT.json", b"[1]", FileTree())
    odd = {"source": {"tap": 5, "versions": "x"}, "time": "now", "arch": None}
    (p,) = CAT.parse(f"{CELLAR}/curl/8.8.0/INSTALL_RECEIPT.json", json.dumps(odd).encode(), FileTree())
    assert p.extra == {}


def _check(path: str, data: bytes, files: dict[str, bytes]) -> None:
    try:
        out = list(HomebrewCataloger().parse(path, data, FileTree(files)))
    except CatalogError:
        return
    assert all(p.type == "brew" and p.name == "openssl@3" and p.version == "3.3.1_1" for p in out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data):
    receipt = f"{CELLAR}/openssl@3/3.3.1_1/INSTALL_RECEIPT.json"
    rb = f"{CELLAR}/openssl@3/3.3.1_1/.brew/openssl@3.rb"
    _check(receipt, data, {rb: data})
    _check(rb, data, {})


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated(data):
    receipt = f"{CELLAR}/openssl@3/3.3.1_1/INSTALL_RECEIPT.json"
    rb = f"{CELLAR}/openssl@3/3.3.1_1/.brew/openssl@3.rb"
    raw = bytearray(OPENSSL_RB.encode())
    rec = bytearray(json.dumps(OPENSSL_RECEIPT).encode())
    for buf in (raw, rec):
        for _ in range(data.draw(st.integers(1, 10))):
            pos = data.draw(st.integers(0, len(buf) - 1))
            buf[pos] = data.draw(
                st.sampled_from([ord(c) for c in '"[]{}:,\n#'] + [data.draw(st.integers(0, 255))])
            )
    _check(receipt, bytes(rec), {rb: bytes(raw)})
    _check(rb, bytes(raw), {})
