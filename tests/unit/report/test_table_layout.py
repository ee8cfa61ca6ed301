"""The vulnerability table as a new user reads it: a header and a Total per target, layers
named by the instruction that made them, where each package was found, one row per
vulnerability of a release however many copies of it are installed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from containment.model import Inventory, LayerInfo, ScanReport
from containment.report._vulns import instruction, layer_label
from containment.report.table import to_table
from tests.unit.report.fixtures import APP, BASE, DJANGO, DJANGO_CVE, GLIBC_CVE, GO_VULN, inventory

# ----------------------------------------------------------------------------- layer names


@pytest.mark.parametrize(
    ("created_by", "shown"),
    [
        # BuildKit
        ("RUN /bin/sh -c apt-get install -y curl # buildkit", "RUN apt-get install -y curl"),
        ("COPY . /app # buildkit", "COPY . /app"),
        # the classic builder
        ('/bin/sh -c #(nop)  CMD ["bash"]', 'CMD ["bash"]'),
        ("/bin/sh -c #(nop) ADD file:" + "4b03b5f5" + "0" * 56 + " in / ", "ADD file:4b03b5f5 in /"),
        ("|2 A=1 B=2 /bin/sh -c apk add --no-cache curl", "RUN apk add --no-cache curl"),
        # steps that say nothing about the layer's content are skipped
        ("RUN /bin/sh -c apt-get update && apt-get install -y curl", "RUN apt-get install -y curl"),
        ("/bin/sh -c set -eux; apk update; apk add git", "RUN apk add git"),
        ("RUN /bin/sh -c apt-get update", "RUN apt-get update"),  # ... unless that is all there is
        # other tools' history is kept as written
        ("debootstrap --variant=minbase bookworm /", "debootstrap --variant=minbase…"),
        ("", ""),
    ],
)
def test_instruction(created_by, shown):
    assert instruction(created_by, 30) == shown


def test_instruction_is_cut_to_the_limit_and_one_line():
    long = "RUN /bin/sh -c pip install " + " ".join(f"pkg{i}" for i in range(100)) + "\n\tfoo"
    shown = instruction(long, 28)
    assert len(shown) == 28 and shown.endswith("…") and shown.startswith("RUN pip install pkg0")
    assert "\n" not in shown and "\t" not in shown


def test_layer_label_without_history_names_the_layer_not_its_hash():
    inv = replace(inventory(), layers=(LayerInfo(0, BASE), LayerInfo(1, APP)))
    assert layer_label(APP, inv) == "layer 1"
    assert layer_label("sha256:" + "9" * 64, inv) == "999999999999"  # unknown: the short hash


def test_hostile_instruction_is_escaped_in_the_table():
    layers = (LayerInfo(0, BASE, created_by="RUN \x1b[31mred\x1b[0m \udcff"),)
    text = to_table(ScanReport(replace(inventory(), layers=layers), (GLIBC_CVE,)), width=200)
    assert "\x1b" not in text and "%1B[31mred" in text


# ----------------------------------------------------------------------------- one Total per target


def test_one_total_per_target_header_and_no_global_total():
    text = to_table(ScanReport(inventory(), (GLIBC_CVE, DJANGO_CVE, GO_VULN)), width=200)
    lines = text.splitlines()
    totals = [i for i, line in enumerate(lines) if line.startswith("Total:")]
    headers = [i for i, line in enumerate(lines) if line.startswith("=")]
    assert len(totals) == len(headers) == 3
    assert all(t == h + 1 for t, h in zip(totals, headers, strict=True))  # right under its header
    assert not any(line.startswith("Total:") for line in lines[: headers[0]])


# ----------------------------------------------------------------------------- scan fs


def _fs(*packages) -> Inventory:
    return Inventory("./repo", "filesystem", None, tuple(packages))


def test_fs_has_no_os_line_and_names_the_file_of_each_package():
    pkg = replace(DJANGO, path="venv/lib/python3.11/site-packages/Django-4.2.1.dist-info/METADATA", layer="")
    text = to_table(ScanReport(_fs(pkg), (replace(DJANGO_CVE, package=pkg),)), width=400)
    assert "no OS" not in text
    assert text.splitlines()[0] == "./repo"
    header = next(line for line in text.splitlines() if "Vulnerability" in line)
    assert "Path" in header and "Layer" not in header  # a directory has no layers
    row = next(line for line in text.splitlines() if "CVE-2023-36053" in line)
    # relative to the scanned directory, as the user named it
    assert "venv/lib/python3.11/site-packages/Django-4.2.1.dist-info/METADATA" in row
    assert "/venv/lib" not in row


def test_fs_lockfile_group_is_named_after_its_file():
    lock = replace(DJANGO, path="app/poetry.lock", cataloger="python-poetry-lock", layer="")
    text = to_table(ScanReport(_fs(lock), (replace(DJANGO_CVE, package=lock),)), width=200)
    assert "app/poetry.lock (pypi)" in text.splitlines()


def test_image_without_os_still_says_so():
    text = to_table(ScanReport(replace(inventory(), os=None), (DJANGO_CVE,)), width=200)
    assert "no OS detected" in text.splitlines()[0]


# ----------------------------------------------------------------------------- copies of one release


def test_a_release_found_twice_is_one_row_with_both_paths():
    egg = replace(
        DJANGO,
        path="usr/lib/python3/dist-packages/Django-4.2.1.egg-info/PKG-INFO",
        cataloger="python-installed",
        layer=BASE,
    )
    findings = (DJANGO_CVE, replace(DJANGO_CVE, package=egg))
    text = to_table(ScanReport(replace(inventory(), packages=(DJANGO, egg)), findings), width=400)
    lines = text.splitlines()
    assert sum("CVE-2023-36053" in line for line in lines) == 1
    py = lines.index("Python (pypi)")
    assert lines[py + 2].startswith("Total: 1 ")
    assert "/usr/lib/python3/dist-packages/Django-4.2.1.egg-info/PKG-INFO" in text
    assert "/usr/local/lib/python3.11/site-packages/Django-4.2.1.dist-info/METADATA" in text
    # both layers are named, each once
    assert text.count("ADD rootfs.tar.xz /") == 1 and text.count("COPY app /usr/local/bin/app") == 1


def test_different_releases_stay_apart():
    old = replace(DJANGO, version="4.1.0", path="opt/old/Django-4.1.0.dist-info/METADATA")
    findings = (DJANGO_CVE, replace(DJANGO_CVE, package=old, installed_version="4.1.0"))
    text = to_table(ScanReport(replace(inventory(), packages=(DJANGO, old)), findings), width=400)
    assert sum("CVE-2023-36053" in line for line in text.splitlines()) == 2
    assert "Total: 2 " in text
