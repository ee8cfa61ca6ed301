from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import run_cataloger
from containment.catalog.gomod import GoModCataloger, _semver_key, parse_gomod
from containment.model import CatalogError

GO_MOD = b"""\
module github.com/acme/server

go 1.22.1

toolchain go1.22.5

require (
\tgithub.com/gin-gonic/gin v1.9.1
\tgithub.com/google/uuid v1.6.0
\tgolang.org/x/net v0.23.0 // indirect
\tgithub.com/acme/shared v0.0.0-20240101000000-abcdef123456
\tgithub.com/old/lib v1.0.0
\t"github.com/quoted/mod" v2.0.0+incompatible // indirect; keep
\tgopkg.in/yaml.v3 v3.0.1 // indirect
)

require github.com/Azure/azure-sdk-for-go/sdk/azcore v1.11.1

replace github.com/acme/shared => ../shared

replace (
\tgithub.com/old/lib v1.0.0 => github.com/new/lib v1.2.0
\tgolang.org/x/net => golang.org/x/net v0.25.0
)

exclude golang.org/x/net v0.22.0

retract [v1.0.0, v1.0.5] // broken releases

tool golang.org/x/tools/cmd/stringer

godebug default=go1.21
"""


def pkgs_of(files):
    return run_cataloger(GoModCataloger(), files)


def test_gomod_requires_replaces():
    pkgs = pkgs_of({"src/app/go.mod": GO_MOD})
    got = {(p.name, p.version, p.purl) for p in pkgs}
    assert got == {
        ("github.com/gin-gonic/gin", "v1.9.1", "pkg:golang/github.com/gin-gonic/gin@v1.9.1"),
        ("github.com/google/uuid", "v1.6.0", "pkg:golang/github.com/google/uuid@v1.6.0"),
        ("golang.org/x/net", "v0.25.0", "pkg:golang/golang.org/x/net@v0.25.0"),
        ("github.com/new/lib", "v1.2.0", "pkg:golang/github.com/new/lib@v1.2.0"),
        (
            "github.com/quoted/mod",
            "v2.0.0+incompatible",
            "pkg:golang/github.com/quoted/mod@v2.0.0%2Bincompatible",
        ),
        ("gopkg.in/yaml.v3", "v3.0.1", "pkg:golang/gopkg.in/yaml.v3@v3.0.1"),
        (
            "github.com/Azure/azure-sdk-for-go/sdk/azcore",
            "v1.11.1",
            "pkg:golang/github.com/Azure/azure-sdk-for-go/sdk/azcore@v1.11.1",
        ),
    }
    by = {p.name: p for p in pkgs}
    assert by["golang.org/x/net"].extra == {
        "indirect": True,
        "main_module": "github.com/acme/server",
        "replaces": "golang.org/x/net@v0.23.0",
    }
    assert by["github.com/quoted/mod"].extra["indirect"] is True
    assert "indirect" not in by["github.com/gin-gonic/gin"].extra
    assert by["github.com/new/lib"].extra["replaces"] == "github.com/old/lib@v1.0.0"
    assert all(p.type == "golang" and p.cataloger == "go-mod" and not p.dev for p in pkgs)
    assert all(p.path == "src/app/go.mod" for p in pkgs)
    assert "github.com/acme/server" not in by  # main module is not a dependency


def test_versioned_replace_only_matches_that_version():
    mod = b"module m\n\ngo 1.21\n\nrequire github.com/old/lib v1.0.1\n\nreplace github.com/old/lib v1.0.0 => github.com/new/lib v1.2.0\n"
    assert [(p.name, p.version) for p in pkgs_of({"go.mod": mod})] == [("github.com/old/lib", "v1.0.1")]


def test_parse_directives():
    mod = parse_gomod(GO_MOD.decode())
    assert mod.module == "github.com/acme/server"
    assert mod.go == "1.22.1"
    assert mod.toolchain == "go1.22.5"
    assert ("golang.org/x/net", "v0.22.0") in mod.excludes


GO_SUM_OLD = b"""\
github.com/davecgh/go-spew v1.1.0/go.mod h1:J7Y8YcW2NihsgmVo/mv3lAwl/skON4iLHjSsI+c5H38=
github.com/davecgh/go-spew v1.1.1 h1:vj9j/u1bqnvCEfJOwUhtlOARqs3+rkHYY13jYWTU97c=
github.com/davecgh/go-spew v1.1.1/go.mod h1:J7Y8YcW2NihsgmVo/mv3lAwl/skON4iLHjSsI+c5H38=
github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=
github.com/pkg/errors v0.9.1/go.mod h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=
github.com/stretchr/testify v1.4.0 h1:2E4SXV/wtOkTonXsotYi4li6zVWxYlZuYNCXe9XRJyk=
github.com/stretchr/testify v1.10.0 h1:Xv5erBjTwe/5IxqUQTdXv5kgmIvbHo3QQyRwhJsOfJA=
github.com/stretchr/testify v1.10.0/go.mod h1:r2ic/lqez/lEtzL7wO/rwa5dbSLXVDPFyf8C91i36aY=
gopkg.in/check.v1 v0.0.0-20161208181325-20d25e280405/go.mod h1:Co6ibVJAznAaIkqp8huTwlJQCZ016jof/cbN4VW5Yz0=
github.com/acme/legacy v1.0.0 h1:abc=
github.com/acme/local v0.1.0 h1:def=
"""

GO_MOD_OLD = b"""\
module github.com/acme/legacy

go 1.16

require (
\tgithub.com/pkg/errors v0.9.1
\tgithub.com/acme/local v0.1.0
)

replace github.com/acme/local => ./local
"""


def test_gosum_fills_indirect_for_go_before_117():
    pkgs = pkgs_of({"app/go.mod": GO_MOD_OLD, "app/go.sum": GO_SUM_OLD})
    assert sorted((p.name, p.version, p.path, p.extra.get("indirect", False)) for p in pkgs) == [
        ("github.com/davecgh/go-spew", "v1.1.1", "app/go.sum", True),
        ("github.com/pkg/errors", "v0.9.1", "app/go.mod", False),
        ("github.com/stretchr/testify", "v1.10.0", "app/go.sum", True),  # highest, semver order
    ]


def test_gosum_ignored_for_go_117_and_later():
    mod = GO_MOD_OLD.replace(b"go 1.16", b"go 1.21")
    pkgs = pkgs_of({"app/go.mod": mod, "app/go.sum": GO_SUM_OLD})
    assert [p.name for p in pkgs] == ["github.com/pkg/errors"]


def test_gosum_alone():
    pkgs = pkgs_of({"app/go.sum": GO_SUM_OLD})
    assert sorted((p.name, p.version) for p in pkgs) == [
        ("github.com/acme/legacy", "v1.0.0"),
        ("github.com/acme/local", "v0.1.0"),
        ("github.com/davecgh/go-spew", "v1.1.1"),
        ("github.com/pkg/errors", "v0.9.1"),
        ("github.com/stretchr/testify", "v1.10.0"),
    ]
    assert all(p.path == "app/go.sum" for p in pkgs)


def test_wants_skips_module_cache_and_testdata():
    c = GoModCataloger()
    assert c.wants("go.mod", 0o100644, 1)
    assert c.wants("src/app/go.sum", 0o100644, 1)
    assert not c.wants("root/go/pkg/mod/github.com/pkg/errors@v0.9.1/go.mod", 0o100644, 1)
    assert not c.wants("src/app/internal/testdata/go.mod", 0o100644, 1)
    assert not c.wants("src/app/notgo.mod", 0o100644, 1)


def test_semver_order():
    vs = [
        "v1.0.0",
        "v1.0.0-rc.1",
        "v1.0.0-alpha",
        "v0.0.0-20240101000000-abcdef123456",
        "v1.10.0",
        "v1.9.0",
        "junk",
    ]
    assert sorted(vs, key=_semver_key) == [
        "junk",
        "v0.0.0-20240101000000-abcdef123456",
        "v1.0.0-alpha",
        "v1.0.0-rc.1",
        "v1.0.0",
        "v1.9.0",
        "v1.10.0",
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(["go.mod", "go.sum"]),
    cut=st.integers(min_value=0, max_value=1200),
    junk=st.binary(max_size=40),
    raw=st.binary(max_size=300),
    use_raw=st.booleans(),
)
def test_fuzz_never_crashes(which, cut, junk, raw, use_raw):
    base = GO_MOD if which == "go.mod" else GO_SUM_OLD
    data = raw if use_raw else base[:cut] + junk + base[cut + len(junk) :]
    files = {
        "go.mod": data if which == "go.mod" else GO_MOD_OLD,
        "go.sum": data if which == "go.sum" else GO_SUM_OLD,
    }
    try:
        out = run_cataloger(GoModCataloger(), files)
    except CatalogError:
        return
    assert isinstance(out, list)
