from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import run_cataloger
from containment.catalog.pnpm_lock import CATALOGERS, PnpmLockCataloger
from containment.model import CatalogError

# pnpm 7 (lockfileVersion 5.4), trimmed, plus a peer-suffixed pair, a scoped package and a
# package from a non-default registry.
V5 = b"""\
lockfileVersion: 5.4

specifiers:
  debug: 2.6.9
  is-number: 7.0.0
  sc: npm:string-width@^1.0.0

dependencies:
  debug: 2.6.9
  sc: /string-width/1.0.2

devDependencies:
  is-number: 7.0.0

packages:

  /debug/2.6.9:
    resolution: {integrity: sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==}
    peerDependencies:
      supports-color: '*'
    dependencies:
      ms: 2.0.0
    dev: false

  /is-number/7.0.0:
    resolution: {integrity: sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==}
    engines: {node: '>=0.12.0'}
    dev: true

  /ms/2.0.0:
    resolution: {integrity: sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==}

  /string-width/1.0.2:
    resolution: {integrity: sha512-0XsVpQLnVCXHJfyEs8tC0zpTVIr5PKKsQtkT29IwupnPTjtPmQ3xT/4yCREF9hYkV/3M3kzcUTSAZT6a6h81tw==}
    dev: false

  /@babel/plugin-syntax-jsx/7.18.6_@babel+core@7.20.5:
    resolution: {integrity: sha512-6mmljtAedFGTWu2p/8WIORGwy+61PLgOMPOdazc7YoJ9ZCWUyFy3A6CpPkRKLKD1ToAesxX8KGEViAiLo9N+7Q==}
    peerDependencies:
      '@babel/core': ^7.0.0-0
    dev: true

  /@babel/plugin-syntax-jsx/7.18.6_@babel+core@7.21.0:
    resolution: {integrity: sha512-6mmljtAedFGTWu2p/8WIORGwy+61PLgOMPOdazc7YoJ9ZCWUyFy3A6CpPkRKLKD1ToAesxX8KGEViAiLo9N+7Q==}
    dev: false

  registry.example.com/private-lib/1.4.0:
    resolution: {integrity: sha512-AAAA, tarball: https://registry.example.com/private-lib/-/private-lib-1.4.0.tgz}
    dev: true

  github.com/stevemao/left-pad/5fd5a5fbe9e4a38a1bb0d9f3fa8e5a6e1f0bd3c5:
    resolution: {tarball: https://codeload.github.com/stevemao/left-pad/tar.gz/5fd5a5fbe9e4a38a1bb0d9f3fa8e5a6e1f0bd3c5}
    name: left-pad
    version: 1.3.0
    dev: false

  file:packages/local:
    resolution: {directory: packages/local, type: directory}
    name: local
    version: 0.0.1
    dev: false

  /broken:
    dev: false
"""


def _run(data, path="app/pnpm-lock.yaml"):
    return run_cataloger(PnpmLockCataloger(), {path: data})


def _rows(pkgs):
    return sorted((p.name, p.version, p.purl, p.dev) for p in pkgs)


def test_v5():
    pkgs = _run(V5)
    assert _rows(pkgs) == [
        ("@babel/plugin-syntax-jsx", "7.18.6", "pkg:npm/%40babel/plugin-syntax-jsx@7.18.6", False),
        ("debug", "2.6.9", "pkg:npm/debug@2.6.9", False),
        ("is-number", "7.0.0", "pkg:npm/is-number@7.0.0", True),
        ("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0", False),
        ("local", "0.0.1", "pkg:npm/local@0.0.1", False),
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0", False),  # no `dev` key: used by both
        ("private-lib", "1.4.0", "pkg:npm/private-lib@1.4.0", True),
        ("string-width", "1.0.2", "pkg:npm/string-width@1.0.2", False),
    ]
    by = {p.name: p for p in pkgs}
    assert by["debug"].path == "app/pnpm-lock.yaml" and by["debug"].cataloger == "pnpm-lock"
    assert by["debug"].extra == {
        "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA=="
    }
    assert by["left-pad"].extra == {
        "resolved": "https://codeload.github.com/stevemao/left-pad/tar.gz/5fd5a5fbe9e4a38a1bb0d9f3fa8e5a6e1f0bd3c5"
    }
    assert by["local"].extra == {"local": True}
    assert (
        by["private-lib"].extra["resolved"]
        == "https://registry.example.com/private-lib/-/private-lib-1.4.0.tgz"
    )


# pnpm 8 (lockfileVersion '6.0'), trimmed, plus peers in parentheses.
V6 = b"""\
lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

dependencies:
  debug:
    specifier: 2.6.9
    version: 2.6.9
  sc:
    specifier: npm:string-width@^1.0.0
    version: /string-width@1.0.2

devDependencies:
  is-number:
    specifier: 7.0.0
    version: 7.0.0

packages:

  /debug@2.6.9:
    resolution: {integrity: sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==}
    dependencies:
      ms: 2.0.0
    dev: false

  /is-number@7.0.0:
    resolution: {integrity: sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==}
    dev: true

  /ms@2.0.0:
    resolution: {integrity: sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==}
    dev: false

  /string-width@1.0.2:
    resolution: {integrity: sha512-0XsVpQLnVCXHJfyEs8tC0zpTVIr5PKKsQtkT29IwupnPTjtPmQ3xT/4yCREF9hYkV/3M3kzcUTSAZT6a6h81tw==}
    dev: false

  /@testing-library/react@14.0.0(react-dom@18.2.0)(react@18.2.0):
    resolution: {integrity: sha512-S04gSNJbYE30TlIMLTzv6QCTzt9AqIF5y6s6SzVFILNcNvbV/jYfUiC8BUcsXMm4wfYFKcq0sK7Yy8t3sKnQAw==}
    dev: true

  /@testing-library/react@14.0.0(react-dom@18.2.0)(react@18.3.1):
    resolution: {integrity: sha512-S04gSNJbYE30TlIMLTzv6QCTzt9AqIF5y6s6SzVFILNcNvbV/jYfUiC8BUcsXMm4wfYFKcq0sK7Yy8t3sKnQAw==}
    dev: true
"""


def test_v6():
    assert _rows(_run(V6)) == [
        ("@testing-library/react", "14.0.0", "pkg:npm/%40testing-library/react@14.0.0", True),
        ("debug", "2.6.9", "pkg:npm/debug@2.6.9", False),
        ("is-number", "7.0.0", "pkg:npm/is-number@7.0.0", True),
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0", False),
        ("string-width", "1.0.2", "pkg:npm/string-width@1.0.2", False),
    ]


# pnpm 9 (lockfileVersion '9.0'): a workspace with two importers, an alias, optional
# dependencies, peers, a link: dependency and a tarball package.
V9 = b"""\
lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      debug:
        specifier: 2.6.9
        version: 2.6.9
      sc:
        specifier: npm:string-width@^1.0.0
        version: string-width@1.0.2
      '@mono/a':
        specifier: workspace:*
        version: link:packages/a
    optionalDependencies:
      is-odd:
        specifier: 3.0.1
        version: 3.0.1
    devDependencies:
      is-number:
        specifier: 7.0.0
        version: 7.0.0
      '@testing-library/react':
        specifier: ^14.0.0
        version: 14.0.0(react@18.2.0)

  packages/a:
    dependencies:
      left-pad:
        specifier: https://codeload.github.com/stevemao/left-pad/tar.gz/5fd5a5f
        version: https://codeload.github.com/stevemao/left-pad/tar.gz/5fd5a5f
    devDependencies:
      react:
        specifier: ^18.2.0
        version: 18.2.0

packages:

  '@testing-library/react@14.0.0':
    resolution: {integrity: sha512-S04gSNJbYE30TlIMLTzv6QCTzt9AqIF5y6s6SzVFILNcNvbV/jYfUiC8BUcsXMm4wfYFKcq0sK7Yy8t3sKnQAw==}
    peerDependencies:
      react: ^18.0.0

  debug@2.6.9:
    resolution: {integrity: sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==}

  is-number@6.0.0:
    resolution: {integrity: sha512-Wu1VHeILBK8KAWJUAiSZQX94GmOE45Rg6/538fKwiloUu21KncEkYGPqob2oSZ5mUT73vLGrHQjKw3KMPwfDzg==}

  is-number@7.0.0:
    resolution: {integrity: sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==}

  is-odd@3.0.1:
    resolution: {integrity: sha512-CQpnWPrDwmP1+SMHXZhtLtJv90yiyVfluGsX5iNCVkrhQtU3TQHsUWPG9wkdk9Lgd5yNpAg9jQEo90CBaXgWMA==}

  js-tokens@4.0.0:
    resolution: {integrity: sha512-RdJUflcE3cUzKiMqQgsCu06FPu9UdIJO0beYbPhHN4k6apgJtifcoCtT9bcxOpYBtpD2kCM6Sbzg4CausW/PKQ==}

  left-pad@https://codeload.github.com/stevemao/left-pad/tar.gz/5fd5a5f:
    resolution: {tarball: https://codeload.github.com/stevemao/left-pad/tar.gz/5fd5a5f}
    version: 1.3.0

  loose-envify@1.4.0:
    resolution: {integrity: sha512-lyuxPGr/Wfhrlem2CL/UcnUc1zcqKAImBDzukY7Y5F/yQiNdko6+fRLevlw1HgMySw7f611UIY408EtxRSoK3Q==}

  ms@2.0.0:
    resolution: {integrity: sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==}

  react@18.2.0:
    resolution: {integrity: sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==}

  string-width@1.0.2:
    resolution: {integrity: sha512-0XsVpQLnVCXHJfyEs8tC0zpTVIr5PKKsQtkT29IwupnPTjtPmQ3xT/4yCREF9hYkV/3M3kzcUTSAZT6a6h81tw==}

snapshots:

  '@testing-library/react@14.0.0(react@18.2.0)':
    dependencies:
      react: 18.2.0

  debug@2.6.9:
    dependencies:
      ms: 2.0.0

  is-number@6.0.0:
    optional: true

  is-number@7.0.0: {}

  is-odd@3.0.1:
    dependencies:
      is-number: 6.0.0
    optional: true

  js-tokens@4.0.0: {}

  left-pad@https://codeload.github.com/stevemao/left-pad/tar.gz/5fd5a5f: {}

  loose-envify@1.4.0:
    dependencies:
      js-tokens: 4.0.0

  ms@2.0.0: {}

  react@18.2.0:
    dependencies:
      loose-envify: 1.4.0

  string-width@1.0.2:
    dependencies:
      ms: 2.0.0
"""


def test_v9_dev_from_importers():
    pkgs = _run(V9)
    assert _rows(pkgs) == [
        ("@testing-library/react", "14.0.0", "pkg:npm/%40testing-library/react@14.0.0", True),
        ("debug", "2.6.9", "pkg:npm/debug@2.6.9", False),
        ("is-number", "6.0.0", "pkg:npm/is-number@6.0.0", False),  # under optional is-odd
        ("is-number", "7.0.0", "pkg:npm/is-number@7.0.0", True),
        ("is-odd", "3.0.1", "pkg:npm/is-odd@3.0.1", False),  # optionalDependencies are production
        ("js-tokens", "4.0.0", "pkg:npm/js-tokens@4.0.0", True),
        ("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0", False),  # workspace packages/a dependency
        ("loose-envify", "1.4.0", "pkg:npm/loose-envify@1.4.0", True),
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0", False),
        ("react", "18.2.0", "pkg:npm/react@18.2.0", True),  # peer of a dev dep, dev of packages/a
        ("string-width", "1.0.2", "pkg:npm/string-width@1.0.2", False),  # alias sc
    ]
    left_pad = next(p for p in pkgs if p.name == "left-pad")
    assert left_pad.extra == {"resolved": "https://codeload.github.com/stevemao/left-pad/tar.gz/5fd5a5f"}


def test_v9_package_used_by_prod_and_dev():
    lock = V9.replace(
        b"  ms@2.0.0: {}\n",
        b"  ms@2.0.0:\n    dependencies:\n      js-tokens: 4.0.0\n",
    )
    by = {p.name: p.dev for p in _run(lock)}
    assert by["js-tokens"] is False and by["loose-envify"] is True


def test_v9_multiple_documents_skips_env_lockfile():
    env = b"""\
---
lockfileVersion: '9.0'

importers:

  .:
    configDependencies: {}
    packageManagerDependencies:
      pnpm:
        specifier: 11.0.0
        version: 11.0.0

packages:

  pnpm@11.0.0:
    resolution: {integrity: sha512-AAAA}

snapshots:

  pnpm@11.0.0: {}

"""
    pkgs = _run(env + b"---\n" + V9)
    assert "pnpm" not in {p.name for p in pkgs} and len(pkgs) == 11


def test_wants():
    c = PnpmLockCataloger()
    assert c.wants("pnpm-lock.yaml", 0o100644, 1)
    assert c.wants("srv/app/pnpm-lock.yaml", 0o100644, 1)
    assert not c.wants("srv/app/node_modules/.pnpm/lock.yaml", 0o100644, 1)
    assert not c.wants("srv/app/node_modules/foo/pnpm-lock.yaml", 0o100644, 1)
    assert not c.wants("srv/app/pnpm-workspace.yaml", 0o100644, 1)
    assert [type(x) for x in CATALOGERS] == [PnpmLockCataloger]


def test_missing_version_is_inferred():
    v6 = V6.replace(b"lockfileVersion: '6.0'\n", b"")
    assert len(_run(v6)) == 5
    v9 = V9.replace(b"lockfileVersion: '9.0'\n", b"")
    assert len(_run(v9)) == 11


@pytest.mark.parametrize("data", [b"lockfileVersion: [\n", b"- a\n- b\n", b"just text", b"\t\x00"])
def test_unreadable_raises_catalog_error(data):
    with pytest.raises(CatalogError, match="pnpm-lock.yaml"):
        _run(data)


def test_empty_lockfile():
    assert _run(b"") == []
    assert _run(b"lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n") == []


def _check(data: bytes) -> None:
    try:
        out = _run(data)
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(data):
    _check(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([V5, V6, V9]), st.data())
def test_fuzz_mutated_lockfiles(base, data):
    lines = base.split(b"\n")
    for _ in range(data.draw(st.integers(0, 6))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["drop", "dup", "garble", "indent"]))
        if op == "drop":
            lines.pop(i)
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "garble":
            lines[i] = data.draw(st.binary(max_size=40))
        else:
            lines[i] = b"  " + lines[i]
        if not lines:
            lines = [b""]
    _check(b"\n".join(lines))
