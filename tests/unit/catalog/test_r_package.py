"""Installed R packages (<library>/<package>/DESCRIPTION)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.r_package import CATALOGERS, RPackageCataloger, parse_dcf

CAT = CATALOGERS[0]
SITE = "usr/local/lib/R/site-library"

# as install.packages() leaves it in a rocker/r-ver image (fields added on install: Packaged,
# Repository, Date/Publication, Built)
JSONLITE = """\
Package: jsonlite
Version: 1.8.7
Title: A Simple and Robust JSON Parser and Generator for R
License: MIT + file LICENSE
Depends: methods
Authors@R: c(
    person("Jeroen", "Ooms", role = c("aut", "cre"), email = "jeroen@berkeley.edu",
      comment = c(ORCID = "0000-0002-4035-0289")),
    person("Duncan", "Temple Lang", role = "ctb"),
    person("Lloyd", "Hilaiel", role = "cph", comment="author of bundled libyajl"))
URL: https://jeroen.r-universe.dev/jsonlite
  https://arxiv.org/abs/1403.2805
BugReports: https://github.com/jeroen/jsonlite/issues
Maintainer: Jeroen Ooms <jeroen@berkeley.edu>
VignetteBuilder: knitr, R.rsp
Description: A reasonably fast JSON parser and generator, optimized for statistical
    data and the web.
Suggests: httr, vctrs, testthat, knitr, rmarkdown, R.rsp, sf
RoxygenNote: 7.2.3
Encoding: UTF-8
NeedsCompilation: yes
Packaged: 2023-06-29 08:47:14 UTC; jeroen
Author: Jeroen Ooms [aut, cre] (<https://orcid.org/0000-0002-4035-0289>),
  Duncan Temple Lang [ctb],
  Lloyd Hilaiel [cph] (author of bundled libyajl)
Repository: CRAN
Date/Publication: 2023-06-29 09:40:02 UTC
Built: R 4.3.1; x86_64-pc-linux-gnu; 2023-07-20 12:34:56 UTC; unix
"""

BASE = """\
Package: base
Version: 4.3.1
Priority: base
Title: The R Base Package
Author: R Core Team and contributors worldwide
Maintainer: R Core Team <do-use-Contact-address@r-project.org>
Contact: R-help mailing list <r-help@r-project.org>
Description: Base R functions.
License: Part of R 4.3.1
Suggests: methods
Built: R 4.3.1; ; 2023-06-16 21:53:09 UTC; unix
"""

IGRAPH = """\
Package: igraph
Version: 1.2.2-1
Title: Network Analysis and Visualization
License: GPL (>= 2)
Repository: CRAN
Built: R 3.5.1; x86_64-pc-linux-gnu; 2018-09-01 10:00:00 UTC; unix
"""

BIOC = """\
Package: BiocGenerics
Title: S4 generic functions used in Bioconductor
Description: The package defines many S4 generic functions used in Bioconductor.
biocViews: Infrastructure
Version: 0.48.1
License: Artistic-2.0
git_url: https://git.bioconductor.org/packages/BiocGenerics
git_branch: RELEASE_3_18
Built: R 4.3.1; ; 2023-11-02 10:11:12 UTC; unix
"""

# DESCRIPTION in latin1, as older packages declare it
LATIN1 = "Package: ade4\nVersion: 1.7-22\nTitle: Analyse des Donn\xe9es \xc9cologiques\nAuthor: St\xe9phane Dray\nLicense: GPL (>= 2)\nEncoding: latin1\n".encode(
    "latin-1"
)


def tree() -> dict[str, bytes]:
    return {
        f"{SITE}/jsonlite/DESCRIPTION": JSONLITE.encode(),
        f"{SITE}/jsonlite/NAMESPACE": b"export(fromJSON)\n",
        "usr/lib/R/library/base/DESCRIPTION": BASE.encode(),
        "opt/app/renv/library/R-3.5/x86_64-pc-linux-gnu/igraph/DESCRIPTION": IGRAPH.encode(),
        f"{SITE}/BiocGenerics/DESCRIPTION": BIOC.encode(),
        "usr/lib/R/site-library/ade4/DESCRIPTION": LATIN1,
        # not installed R packages: a source checkout in a differently named directory, a
        # DESCRIPTION that is no DCF, a Perl distribution's file of that name
        "src/jsonlite-main/DESCRIPTION": JSONLITE.encode(),
        "usr/share/doc/foo/DESCRIPTION": b"This program does things.\n",
        "usr/share/perl5/Foo/DESCRIPTION": b"Package: Foo\nVersion: v1.2_3\n",
    }


def test_libraries():
    pkgs = run_cataloger(CAT, tree())
    assert sorted((p.name, p.version, p.purl) for p in pkgs) == [
        ("BiocGenerics", "0.48.1", "pkg:cran/BiocGenerics@0.48.1"),
        ("ade4", "1.7-22", "pkg:cran/ade4@1.7-22"),
        ("base", "4.3.1", "pkg:cran/base@4.3.1"),
        ("igraph", "1.2.2-1", "pkg:cran/igraph@1.2.2-1"),
        ("jsonlite", "1.8.7", "pkg:cran/jsonlite@1.8.7"),
    ]
    by = {p.name: p for p in pkgs}
    j = by["jsonlite"]
    assert (j.type, j.cataloger, j.path) == ("cran", "r-package-installed", f"{SITE}/jsonlite/DESCRIPTION")
    assert j.licenses == ("MIT + file LICENSE",)
    assert j.extra == {
        "repository": "CRAN",
        "built": "R 4.3.1; x86_64-pc-linux-gnu; 2023-07-20 12:34:56 UTC; unix",
        "url": "https://jeroen.r-universe.dev/jsonlite https://arxiv.org/abs/1403.2805",
        "title": "A Simple and Robust JSON Parser and Generator for R",
    }
    assert by["base"].extra["priority"] == "base"
    assert by["BiocGenerics"].extra["repository"] == "Bioconductor"
    assert by["ade4"].extra["title"] == "Analyse des Donn\u00e9es \u00c9cologiques"  # read as latin1
    assert by["ade4"].licenses == ("GPL (>= 2)",)


def test_parse_dcf():
    d = parse_dcf("A: 1\nB: two\n  lines\n\tand three\nA: again\n\nC: next record\n")
    assert d == {"A": "1", "B": "two lines and three"}
    assert parse_dcf("") == {}
    assert parse_dcf("Encoding: latin1\r\nPackage: x\r\n") == {"Encoding": "latin1", "Package": "x"}


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (f"{SITE}/jsonlite/DESCRIPTION", True),
        ("DESCRIPTION", False),
        (f"{SITE}/jsonlite/DESCRIPTION.txt", False),
        (f"{SITE}/jsonlite/description", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 100) is wanted


def test_invalid_versions_and_names():
    bad = {
        f"{SITE}/x/DESCRIPTION": b"Package: x\nVersion: 1.0\n",  # one-letter name
        f"{SITE}/pkg/DESCRIPTION": b"Package: pkg\nVersion: 1\n",  # one-number version
        f"{SITE}/pkg2/DESCRIPTION": b"Package: pkg2\nVersion: 1.0-beta\n",
        f"{SITE}/pkg3/DESCRIPTION": b"Version: 1.0\n",
    }
    assert run_cataloger(CAT, bad) == []


def _check(data: bytes) -> None:
    out = list(RPackageCataloger().parse(f"{SITE}/jsonlite/DESCRIPTION", data, FileTree()))
    assert all(p.type == "cran" and p.name == "jsonlite" and p.version for p in out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data):
    try:
        _check(data)
    except Exception as e:  # only CatalogError may escape
        from containment.model import CatalogError

        assert isinstance(e, CatalogError)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated(data):
    from containment.model import CatalogError

    raw = bytearray(JSONLITE.encode())
    for _ in range(data.draw(st.integers(1, 20))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["set", "del", "ins"]))
        byte = data.draw(st.sampled_from([10, 13, 32, 58, 9, 0, data.draw(st.integers(0, 255))]))
        if op == "set":
            raw[pos] = byte
        elif op == "del":
            del raw[pos]
        else:
            raw.insert(pos, byte)
    try:
        _check(bytes(raw))
    except CatalogError:
        pass
