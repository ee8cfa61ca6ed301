"""Gradle lockfile cataloger."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.gradle_lock import CATALOGERS
from containment.model import CatalogError

CAT = CATALOGERS[0]

LOCK = """\
# This is a Gradle generated file for dependency locking.
# Manual edits can break the build and are not advised.
# This file is expected to be part of source control.
com.fasterxml.jackson.core:jackson-annotations:2.15.2=compileClasspath,runtimeClasspath,testCompileClasspath,testRuntimeClasspath
com.google.guava:guava:32.1.2-jre=runtimeClasspath
org.junit.jupiter:junit-jupiter-api:5.10.0=testCompileClasspath,testRuntimeClasspath
org.testcontainers:postgresql:1.19.1=integrationTestRuntimeClasspath
androidx.test:core:1.5.0=debugAndroidTestRuntimeClasspath,debugUnitTestRuntimeClasspath
empty=annotationProcessor,testAnnotationProcessor
"""


def test_wants():
    assert CAT.wants("app/gradle.lockfile", 0o100644, 1)
    assert CAT.wants("gradle.lockfile", 0o100644, 1)
    assert CAT.wants("app/buildscript-gradle.lockfile", 0o100644, 1)
    assert CAT.wants("app/gradle/dependency-locks/compileClasspath.lockfile", 0o100644, 1)
    assert not CAT.wants("app/other.lockfile", 0o100644, 1)
    assert not CAT.wants("app/gradle.lockfile.orig", 0o100644, 1)


def test_lockfile():
    pkgs = run_cataloger(CAT, {"app/gradle.lockfile": LOCK.encode()})
    got = {f"{p.extra['group_id']}:{p.name}": (p.version, p.purl, p.dev) for p in pkgs}
    assert got == {
        "com.fasterxml.jackson.core:jackson-annotations": (
            "2.15.2",
            "pkg:maven/com.fasterxml.jackson.core/jackson-annotations@2.15.2",
            False,
        ),
        "com.google.guava:guava": ("32.1.2-jre", "pkg:maven/com.google.guava/guava@32.1.2-jre", False),
        "org.junit.jupiter:junit-jupiter-api": (
            "5.10.0",
            "pkg:maven/org.junit.jupiter/junit-jupiter-api@5.10.0",
            True,
        ),
        "org.testcontainers:postgresql": ("1.19.1", "pkg:maven/org.testcontainers/postgresql@1.19.1", True),
        "androidx.test:core": ("1.5.0", "pkg:maven/androidx.test/core@1.5.0", True),
    }
    assert pkgs[1].extra["configurations"] == ["runtimeClasspath"]
    assert all(p.type == "maven" and p.cataloger == "gradle-lockfile" for p in pkgs)
    assert all(p.path == "app/gradle.lockfile" for p in pkgs)


def test_per_configuration_files():
    files = {
        "p/gradle/dependency-locks/compileClasspath.lockfile": b"# comment\norg.slf4j:slf4j-api:1.7.36\n",
        "p/gradle/dependency-locks/testRuntimeClasspath.lockfile": b"junit:junit:4.13.2\n",
    }
    pkgs = run_cataloger(CAT, files)
    got = {
        (f"{p.extra['group_id']}:{p.name}", p.version, p.dev, tuple(p.extra["configurations"])) for p in pkgs
    }
    assert got == {
        ("org.slf4j:slf4j-api", "1.7.36", False, ("compileClasspath",)),
        ("junit:junit", "4.13.2", True, ("testRuntimeClasspath",)),
    }


def test_bad_lines_skipped_and_empty_file():
    text = "garbage line\norg.a:b:1=compileClasspath\na:b=x\n:::\n"
    pkgs = run_cataloger(CAT, {"gradle.lockfile": text.encode()})
    assert [p.purl for p in pkgs] == ["pkg:maven/org.a/b@1"]
    assert run_cataloger(CAT, {"gradle.lockfile": b"# only comments\nempty=\n"}) == []
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"gradle.lockfile": b"<html>not a lockfile</html>\n"})
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"gradle.lockfile": b"\xff\xfe\x00"})


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random(data):
    try:
        out = CAT.parse("gradle.lockfile", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(LOCK)), st.integers(0, 30), st.text(max_size=10))
def test_fuzz_mutated(pos, cut, ins):
    data = (LOCK[:pos] + ins + LOCK[pos + cut :]).encode()
    try:
        out = CAT.parse("gradle.lockfile", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)
