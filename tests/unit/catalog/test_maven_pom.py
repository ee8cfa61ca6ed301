"""Maven pom.xml cataloger: offline effective-model resolution."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.maven_pom import CATALOGERS, MavenPomCataloger
from containment.model import CatalogError

CAT = CATALOGERS[0]
NS = 'xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

PARENT = f"""<?xml version="1.0" encoding="UTF-8"?>
<project {NS}>
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>demo-parent</artifactId>
  <version>1.4.0</version>
  <packaging>pom</packaging>
  <modules>
    <module>core</module>
  </modules>
  <licenses>
    <license><name>Apache-2.0</name><url>https://www.apache.org/licenses/LICENSE-2.0.txt</url></license>
  </licenses>
  <properties>
    <java.version>17</java.version>
    <jackson.version>2.15.2</jackson.version>
    <junit.version>5.10.0</junit.version>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>com.fasterxml.jackson.core</groupId>
        <artifactId>jackson-databind</artifactId>
        <version>${{jackson.version}}</version>
      </dependency>
      <dependency>
        <groupId>org.postgresql</groupId>
        <artifactId>postgresql</artifactId>
        <version>42.6.0</version>
        <scope>runtime</scope>
      </dependency>
      <dependency>
        <groupId>com.acme</groupId>
        <artifactId>acme-bom</artifactId>
        <version>2.0</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>org.projectlombok</groupId>
      <artifactId>lombok</artifactId>
      <version>1.18.30</version>
      <scope>provided</scope>
      <optional>true</optional>
    </dependency>
  </dependencies>
</project>
"""

CHILD = f"""<?xml version="1.0" encoding="UTF-8"?>
<project {NS}>
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>com.example</groupId>
    <artifactId>demo-parent</artifactId>
    <version>1.4.0</version>
  </parent>
  <artifactId>demo-core</artifactId>
  <properties>
    <guava.version>32.1.2-jre</guava.version>
    <jackson.version>2.16.1</jackson.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
    </dependency>
    <dependency>
      <groupId>com.google.guava</groupId>
      <artifactId>guava</artifactId>
      <version>${{guava.version}}</version>
    </dependency>
    <dependency>
      <groupId>org.postgresql</groupId>
      <artifactId>postgresql</artifactId>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
    </dependency>
    <dependency>
      <groupId>${{project.groupId}}</groupId>
      <artifactId>demo-util</artifactId>
      <version>${{project.parent.version}}</version>
      <classifier>tests</classifier>
      <type>test-jar</type>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>${{junit.version}}</version>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>javax.servlet</groupId>
      <artifactId>javax.servlet-api</artifactId>
      <version>${{servlet.version}}</version>
      <scope>provided</scope>
    </dependency>
  </dependencies>
</project>
"""

BOM = b"""<?xml version="1.0"?>
<project><modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId><artifactId>acme-bom</artifactId><version>2.0</version><packaging>pom</packaging>
  <properties><slf4j.version>2.0.9</slf4j.version></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>${slf4j.version}</version></dependency>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>1.0-bom</version></dependency>
  </dependencies></dependencyManagement>
</project>
"""

SLF4J = b"""<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.slf4j</groupId><artifactId>slf4j-parent</artifactId><version>2.0.9</version></parent>
  <artifactId>slf4j-api</artifactId>
  <dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-log</artifactId><version>${project.version}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-opt</artifactId><version>2.0.9</version><optional>true</optional></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-excluded</artifactId><version>2.0.9</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency>
  </dependencies>
</project>
"""
SLF4J_PARENT = b"""<project><modelVersion>4.0.0</modelVersion>
  <groupId>org.slf4j</groupId><artifactId>slf4j-parent</artifactId><version>2.0.9</version><packaging>pom</packaging>
  <licenses><license><name>MIT</name></license></licenses>
</project>
"""
REPO = "app/.m2/repository/"


def tree() -> dict[str, bytes]:
    return {
        "app/pom.xml": PARENT.encode(),
        "app/core/pom.xml": CHILD.encode(),
        REPO + "com/acme/acme-bom/2.0/acme-bom-2.0.pom": BOM,
        REPO + "org/slf4j/slf4j-api/2.0.9/slf4j-api-2.0.9.pom": SLF4J,
        REPO + "org/slf4j/slf4j-parent/2.0.9/slf4j-parent-2.0.9.pom": SLF4J_PARENT,
        "app/README.md": b"hello",
    }


def ga(p):
    assert p.extra["group_id"] == p.purl.split("/")[1]
    return f"{p.extra['group_id']}:{p.name}"


def by_path(pkgs, path):
    return {ga(p): p for p in pkgs if p.path == path}


def test_wants():
    c = MavenPomCataloger()
    assert c.wants("pom.xml", 0o100644, 1)
    assert c.wants("srv/app/pom.xml", 0o100644, 1)
    assert not c.wants("srv/app/mypom.xml", 0o100644, 1)
    assert c.wants("root/.m2/repository/org/x/y/1/y-1.pom", 0o100644, 1)
    assert c.wants("usr/share/maven-repo/org/x/y/1/y-1.pom", 0o100644, 1)
    assert not c.wants("opt/y-1.pom", 0o100644, 1)
    assert not c.wants("pom.xml.bak", 0o100644, 1)


def test_effective_model_child():
    pkgs = run_cataloger(CAT, tree())
    core = by_path(pkgs, "app/core/pom.xml")
    root = core["com.example:demo-core"]
    assert root.version == "1.4.0"  # inherited from the parent
    assert root.purl == "pkg:maven/com.example/demo-core@1.4.0"
    assert root.extra["root"] is True
    assert root.extra["parents"] == ["app/pom.xml"]
    assert root.licenses == ("Apache-2.0",)  # inherited

    # child property overrides the parent's, used in the parent's dependencyManagement
    assert core["com.fasterxml.jackson.core:jackson-databind"].version == "2.16.1"
    # own property; the pom's version beats the BOM's managed one
    assert core["com.google.guava:guava"].version == "32.1.2-jre"
    # managed scope applies
    pg = core["org.postgresql:postgresql"]
    assert (pg.version, pg.extra["scope"], pg.dev) == ("42.6.0", "runtime", False)
    # version from an imported BOM in the local repository, interpolated in the BOM's context
    slf = core["org.slf4j:slf4j-api"]
    assert slf.version == "2.0.9"
    assert slf.licenses == ("MIT",)  # from the local repository pom's parent
    assert slf.extra["direct"] is True
    # project.* interpolation, classifier/type qualifiers, test scope -> dev
    util = core["com.example:demo-util"]
    assert util.version == "1.4.0"
    assert util.purl == "pkg:maven/com.example/demo-util@1.4.0?classifier=tests&type=test-jar"
    assert util.dev is True
    assert core["org.junit.jupiter:junit-jupiter"].dev is True
    assert core["org.junit.jupiter:junit-jupiter"].version == "5.10.0"
    # unresolved property: kept with empty version
    servlet = core["javax.servlet:javax.servlet-api"]
    assert servlet.version == ""
    assert servlet.purl == "pkg:maven/javax.servlet/javax.servlet-api"
    assert servlet.extra["unresolved_version"] == "${servlet.version}"
    assert servlet.extra["scope"] == "provided" and servlet.dev is False
    # inherited dependency from the parent, optional kept and marked
    lombok = core["org.projectlombok:lombok"]
    assert (lombok.version, lombok.extra["optional"], lombok.dev) == ("1.18.30", True, False)


def test_transitive_from_local_repository():
    pkgs = run_cataloger(CAT, tree())
    core = by_path(pkgs, "app/core/pom.xml")
    log = core["org.slf4j:slf4j-log"]
    assert log.version == "2.0.9"  # ${project.version} of slf4j-api, inherited from its parent
    assert log.extra == {"group_id": "org.slf4j", "scope": "compile", "direct": False}
    assert log.name == "slf4j-log"
    assert "org.slf4j:slf4j-opt" not in core  # optional: not transitive
    assert "junit:junit" not in core  # test dep of a dep: not transitive
    assert len(core) == 11


def test_exclusions_and_root_management_pin_transitives():
    child = CHILD.replace(
        "<artifactId>slf4j-api</artifactId>\n    </dependency>",
        "<artifactId>slf4j-api</artifactId>\n      <exclusions><exclusion><groupId>org.slf4j</groupId>"
        "<artifactId>slf4j-excluded</artifactId></exclusion></exclusions>\n    </dependency>",
    ).replace(
        "<dependencies>",
        "<dependencyManagement><dependencies><dependency><groupId>org.slf4j</groupId>"
        "<artifactId>slf4j-log</artifactId><version>2.0.10</version></dependency></dependencies>"
        "</dependencyManagement>\n  <dependencies>",
        1,
    )
    files = tree()
    files["app/core/pom.xml"] = child.encode()
    core = by_path(run_cataloger(CAT, files), "app/core/pom.xml")
    assert "org.slf4j:slf4j-excluded" not in core
    assert core["org.slf4j:slf4j-log"].version == "2.0.10"
    files["app/core/pom.xml"] = CHILD.encode()
    core = by_path(run_cataloger(CAT, files), "app/core/pom.xml")
    assert core["org.slf4j:slf4j-excluded"].version == "2.0.9"


def test_parent_root_itself():
    pkgs = run_cataloger(CAT, tree())
    par = by_path(pkgs, "app/pom.xml")
    assert set(par) == {"com.example:demo-parent", "org.projectlombok:lombok"}
    root = par["com.example:demo-parent"]
    assert root.extra["modules"] == ["core"]
    assert root.extra["packaging"] == "pom"
    # no package from local-repository poms
    assert not [p for p in pkgs if ".m2" in p.path]


def test_parent_not_found_keeps_unresolved():
    files = {"svc/pom.xml": CHILD.encode()}
    core = by_path(run_cataloger(CAT, files), "svc/pom.xml")
    root = core["com.example:demo-core"]
    assert root.version == "1.4.0"  # from <parent><version>
    assert core["com.fasterxml.jackson.core:jackson-databind"].version == ""
    assert core["org.junit.jupiter:junit-jupiter"].extra["unresolved_version"] == "${junit.version}"


def test_relative_path_and_wrong_parent():
    parent = PARENT.replace("<modules>", "<modules><module>../svc</module>")
    child = CHILD.replace(
        "</version>\n  </parent>",
        "</version>\n    <relativePath>../build/pom.xml</relativePath>\n  </parent>",
    )
    files = {"src/build/pom.xml": parent.encode(), "src/svc/pom.xml": child.encode()}
    core = by_path(run_cataloger(CAT, files), "src/svc/pom.xml")
    assert core["com.fasterxml.jackson.core:jackson-databind"].version == "2.16.1"
    # ../pom.xml that is a different artifact is not taken as the parent
    other = PARENT.replace("demo-parent", "unrelated")
    files = {"src/pom.xml": other.encode(), "src/svc/pom.xml": CHILD.encode()}
    core = by_path(run_cataloger(CAT, files), "src/svc/pom.xml")
    assert core["com.fasterxml.jackson.core:jackson-databind"].version == ""
    # empty relativePath: the parent is not looked up on disk
    child = CHILD.replace("</version>\n  </parent>", "</version>\n    <relativePath/>\n  </parent>")
    files = {"app/pom.xml": PARENT.encode(), "app/core/pom.xml": child.encode()}
    core = by_path(run_cataloger(CAT, files), "app/core/pom.xml")
    assert "org.projectlombok:lombok" not in core


def test_parent_from_local_repository():
    files = {
        "p/pom.xml": CHILD.replace("<relativePath>", "").encode(),
        "root/.m2/repository/com/example/demo-parent/1.4.0/demo-parent-1.4.0.pom": PARENT.encode(),
    }
    core = by_path(run_cataloger(CAT, files), "p/pom.xml")
    assert core["org.projectlombok:lombok"].version == "1.18.30"
    assert core["com.fasterxml.jackson.core:jackson-databind"].version == "2.16.1"


def test_property_cycles_nesting_and_blowup():
    laughs = "".join(f"<l{i}>${{l{i + 1}}}${{l{i + 1}}}${{l{i + 1}}}${{l{i + 1}}}</l{i}>" for i in range(40))
    pom = f"""<project {NS}><modelVersion>4.0.0</modelVersion>
      <groupId>g</groupId><artifactId>a</artifactId><version>${{revision}}${{changelist}}</version>
      <properties>
        <revision>3.1</revision><changelist>-SNAPSHOT</changelist>
        <a>${{b}}</a><b>${{a}}</b>
        <major>1</major><ver>${{major}}.${{minor}}</ver><minor>2</minor>
        {laughs}<l40>x</l40>
      </properties>
      <dependencies>
        <dependency><groupId>x</groupId><artifactId>cyc</artifactId><version>${{a}}</version></dependency>
        <dependency><groupId>x</groupId><artifactId>nested</artifactId><version>${{ver}}</version></dependency>
        <dependency><groupId>x</groupId><artifactId>self</artifactId><version>${{project.version}}</version></dependency>
        <dependency><groupId>x</groupId><artifactId>bomb</artifactId><version>${{l0}}</version></dependency>
        <dependency><groupId>x</groupId><artifactId>env</artifactId><version>${{env.VERSION}}</version></dependency>
        <dependency><groupId>${{missing}}</groupId><artifactId>skipped</artifactId><version>1</version></dependency>
        <dependency><groupId>x</groupId><artifactId>range</artifactId><version>[1.0,2.0)</version></dependency>
      </dependencies></project>"""
    pkgs = {ga(p): p for p in run_cataloger(CAT, {"pom.xml": pom.encode()})}
    assert pkgs["g:a"].version == "3.1-SNAPSHOT"
    assert pkgs["x:cyc"].version == "" and pkgs["x:cyc"].extra["unresolved_version"] == "${a}"
    assert pkgs["x:nested"].version == "1.2"
    assert pkgs["x:self"].version == "3.1-SNAPSHOT"
    assert pkgs["x:bomb"].version == ""
    assert pkgs["x:env"].version == ""
    assert pkgs["x:range"].version == "[1.0,2.0)"
    assert not [n for n in pkgs if "skipped" in n]


def test_parent_cycle_is_cut():
    a = f"""<project {NS}><parent><groupId>g</groupId><artifactId>b</artifactId><version>1</version>
      <relativePath>b/pom.xml</relativePath></parent><artifactId>a</artifactId>
      <dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>${{v}}</version></dependency></dependencies></project>"""
    b = f"""<project {NS}><parent><groupId>g</groupId><artifactId>a</artifactId><version>1</version>
      <relativePath>../pom.xml</relativePath></parent><artifactId>b</artifactId><properties><v>9</v></properties></project>"""
    pkgs = run_cataloger(CAT, {"pom.xml": a.encode(), "b/pom.xml": b.encode()})
    top = by_path(pkgs, "pom.xml")
    assert top["x:y"].version == "9"
    assert top["g:a"].version == "1"


def test_entity_expansion_refused():
    evil = b"""<?xml version="1.0"?>
<!DOCTYPE project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<project><groupId>g</groupId><artifactId>&b;</artifactId><version>1</version></project>"""
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"pom.xml": evil})


def test_unreadable():
    with pytest.raises(CatalogError, match="pom.xml"):
        run_cataloger(CAT, {"pom.xml": b"<project><groupId>"})
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"pom.xml": b"<settings/>"})
    # a broken parent does not break the child
    files = {"app/pom.xml": b"<<<", "app/core/pom.xml": CHILD.encode()}
    pkgs = CAT.parse("app/core/pom.xml", files["app/core/pom.xml"], FileTree(files))
    assert {ga(p) for p in pkgs} >= {"com.example:demo-core"}


def test_latin1_encoding():
    pom = '<?xml version="1.0" encoding="ISO-8859-1"?><project><groupId>g</groupId><artifactId>a</artifactId><version>1</version><name>Caf\xe9</name></project>'
    pkgs = run_cataloger(CAT, {"pom.xml": pom.encode("latin-1")})
    assert [p.purl for p in pkgs] == ["pkg:maven/g/a@1"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data):
    try:
        out = CAT.parse("pom.xml", data, FileTree({"pom.xml": data}))
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(0, len(CHILD) - 1), st.integers(0, 40), st.text(max_size=20))
def test_fuzz_mutated(pos, cut, insert):
    data = (CHILD[:pos] + insert + CHILD[pos + cut :]).encode()
    files = tree()
    files["app/core/pom.xml"] = data
    try:
        out = CAT.parse("app/core/pom.xml", data, FileTree(files))
    except CatalogError:
        return
    assert isinstance(out, list)


def test_maven_config_ci_friendly_version():
    parent = PARENT.replace("<version>1.4.0</version>", "<version>${revision}</version>", 1)
    child = CHILD.replace("<version>1.4.0</version>", "<version>${revision}</version>", 1)
    files = {
        "app/pom.xml": parent.encode(),
        "app/core/pom.xml": child.encode(),
        "app/.mvn/maven.config": b"-Drevision=2.5.0 -T 1C --define junit.version=5.9.9\n-DskipTests\n",
    }
    assert CAT.wants("app/.mvn/maven.config", 0o100644, 1)
    pkgs = run_cataloger(CAT, files)
    core = by_path(pkgs, "app/core/pom.xml")
    assert core["com.example:demo-core"].version == "2.5.0"
    assert core["org.junit.jupiter:junit-jupiter"].version == "5.9.9"
    assert by_path(pkgs, "app/pom.xml")["com.example:demo-parent"].version == "2.5.0"
    assert not [p for p in pkgs if p.path.endswith("maven.config")]
    # without maven.config the version stays unresolved
    del files["app/.mvn/maven.config"]
    core = by_path(run_cataloger(CAT, files), "app/core/pom.xml")
    assert core["com.example:demo-core"].version == ""
    assert core["com.example:demo-core"].extra["unresolved_version"] == "${revision}"


def test_bom_import_cycle_and_fanout_bounded():
    files = {}
    n = 12

    def bom(i: int) -> bytes:
        imports = "".join(
            f"<dependency><groupId>b</groupId><artifactId>bom{j}</artifactId><version>1</version>"
            "<type>pom</type><scope>import</scope></dependency>"
            for j in range(n)
            if j != i
        )
        return (
            f"<project><groupId>b</groupId><artifactId>bom{i}</artifactId><version>1</version>"
            f"<dependencyManagement><dependencies>{imports}"
            f"<dependency><groupId>m</groupId><artifactId>lib{i}</artifactId><version>{i}.0</version></dependency>"
            "</dependencies></dependencyManagement></project>"
        ).encode()

    for i in range(n):
        files[f"r/.m2/repository/b/bom{i}/1/bom{i}-1.pom"] = bom(i)
    deps = "".join(
        f"<dependency><groupId>m</groupId><artifactId>lib{i}</artifactId></dependency>" for i in range(n)
    )
    files["pom.xml"] = (
        "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version>"
        "<dependencyManagement><dependencies><dependency><groupId>b</groupId><artifactId>bom0</artifactId>"
        "<version>1</version><type>pom</type><scope>import</scope></dependency></dependencies></dependencyManagement>"
        f"<dependencies>{deps}</dependencies></project>"
    ).encode()
    pkgs = {ga(p): p.version for p in run_cataloger(CAT, files)}
    assert all(pkgs[f"m:lib{i}"] == f"{i}.0" for i in range(n))
