"""The service entry and the analyzer groups: one walk feeds every scanner, each group is
cached apart, squash keeps what a later layer deleted only where it must (secrets)."""

from __future__ import annotations

import pytest

from containment import analyzers
from containment.image.build import TarEntry, layer_tar
from containment.layers import Analyzer, scan_target
from containment.model import ContainmentError
from containment.service import ScanOptions, scan
from tests.conftest import base_layer

GH_TOKEN = "ghp_" + "Zq8sT3vW1xY5bN7mK2pL9rD4fH6jC0gA1eU3"  # fake, planted
WHITEOUT = ".wh."


def _secret_layer() -> bytes:
    return layer_tar(
        [
            TarEntry("opt", kind="dir"),
            TarEntry("opt/app", kind="dir"),
            TarEntry("opt/app/.env", f"GITHUB_TOKEN={GH_TOKEN}\n".encode()),
            TarEntry("opt/app/Dockerfile", b"FROM debian:latest\nEXPOSE 22\nCMD bash\n"),
            TarEntry("usr/local/bin/find", b"\x7fELF", mode=0o4755),
        ]
    )


def _delete_layer() -> bytes:
    return layer_tar(
        [
            TarEntry("opt/app", kind="dir"),
            TarEntry(f"opt/app/{WHITEOUT}.env"),
            TarEntry(f"opt/app/{WHITEOUT}Dockerfile"),
        ]
    )


class _NoStore:
    def close(self) -> None:
        pass

    def summary(self) -> dict:
        return {}


@pytest.fixture
def image(make_oci) -> str:
    return "oci:" + make_oci(
        [base_layer(), _secret_layer(), _delete_layer()],
        config={
            "User": "",
            "Env": ["PATH=/usr/bin", "DB_PASSWORD=Zk8!vQ2#pL5wR9xT"],
            "ExposedPorts": {"22/tcp": {}},
        },
    )


def test_one_walk_feeds_every_scanner_and_secrets_outlive_their_file(image):
    report = scan(image, ScanOptions(scanners=("secret", "config"), cache=False))
    assert report.scanners == ("secret", "config") and report.findings == ()
    env = [s for s in report.secrets if s.location.field.startswith("config.Env")]
    assert env and "Zk8!vQ2#pL5wR9xT" not in env[0].match  # masked
    gh = [s for s in report.secrets if s.location.path == "opt/app/.env"]
    assert len(gh) == 1 and GH_TOKEN not in gh[0].match
    layers = [layer.diff_id for layer in report.inventory.layers]
    assert gh[0].location.layer == layers[1] and gh[0].removed_in == layers[2]
    ids = {m.rule.id for m in report.misconfigurations}
    setuid = [m for m in report.misconfigurations if m.location.path == "usr/local/bin/find"]
    assert setuid and setuid[0].location.layer == layers[1]
    assert any(m.location.field == "config.User" for m in report.misconfigurations), ids
    # the Dockerfile was deleted by the last layer: its checks do not apply to the image
    assert not [m for m in report.misconfigurations if m.location.path == "opt/app/Dockerfile"]


def test_groups_are_cached_apart(image, monkeypatch):
    walked: list[tuple[str, ...]] = []
    real = Analyzer._walk_layer

    def counting(self, img, layer, blob, groups):  # type: ignore[no-untyped-def]
        walked.append(groups)
        return real(self, img, layer, blob, groups)

    monkeypatch.setattr(Analyzer, "_walk_layer", counting)
    scan_target(image, Analyzer(groups=("packages",), workers=1))
    assert walked == [("packages",)] * 3
    walked.clear()
    # a second scanner walks each layer for its own group only; packages come from the cache
    scan_target(image, Analyzer(groups=("packages", "secrets"), workers=1))
    assert walked == [("secrets",)] * 3
    walked.clear()
    inv = scan_target(image, Analyzer(groups=("packages", "secrets"), workers=1))
    assert walked == [] and inv.secrets and inv.packages
    # a changed secret analyzer (new source: new group key) re-reads layers for secrets only
    real_key = analyzers.group_key
    monkeypatch.setattr(
        "containment.layers.scheduler.group_key", lambda g: real_key(g) + ("x" if g == "secrets" else "")
    )
    scan_target(image, Analyzer(groups=("packages", "secrets"), workers=1))
    assert walked == [("secrets",)] * 3


def test_group_keys_follow_the_analyzers_source():
    keys = {g: analyzers.group_key(g) for g in analyzers.GROUPS}
    assert len(set(keys.values())) == len(keys)
    assert all(len(k) == 16 for k in keys.values())
    assert analyzers.groups_for(["vuln", "config"]) == ("packages", "config", "files")
    names = [a.name for _, a in analyzers.registered()]
    assert len(names) == len(set(names)), "analyzer names are unique"
    assert {"config-files"} <= set(names)


def test_vulnerability_scan_through_the_service(image, monkeypatch):
    opened = []

    def opener(inv):  # type: ignore[no-untyped-def]
        opened.append(inv.target)
        return _NoStore()

    matched = []
    monkeypatch.setattr(
        "containment.match.match", lambda inv, store, include_dev=False: matched.append(inv) or ([], [])
    )
    monkeypatch.setattr("containment.match.coverage", lambda *a, **k: [])
    report = scan(image, ScanOptions(cache=False), open_store=opener)
    assert opened == [image] and len(matched) == 1 and report.scanners == ("vuln",)
    assert report.secrets == () and report.misconfigurations == ()
    assert report.inventory.groups == ("packages",) and report.inventory.packages


def test_bad_options_are_named():
    with pytest.raises(ContainmentError, match="--scanners vuln,license: unknown license"):
        ScanOptions(scanners=("vuln", "license"))
    with pytest.raises(ContainmentError, match="unknown severity"):
        ScanOptions(severities=frozenset({"SEVERE"}))


def test_config_scan_of_one_file_and_of_a_tree(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM alpine:latest\nRUN apk add curl\n")
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
        "    securityContext:\n      privileged: true\n"
    )
    one = scan(str(tmp_path / "Dockerfile"), ScanOptions(kind="config", scanners=("config",)))
    assert one.misconfigurations and {m.location.path for m in one.misconfigurations} == {
        str(tmp_path / "Dockerfile")
    }
    tree = scan(str(tmp_path), ScanOptions(kind="config", scanners=("config",)))
    kinds = {m.rule.kind for m in tree.misconfigurations}
    assert kinds == {"dockerfile", "kubernetes"}
    priv = [
        m for m in tree.misconfigurations if m.location.path == "k8s/pod.yaml" and m.location.start_line == 10
    ]
    assert priv, [(m.rule.id, m.location) for m in tree.misconfigurations]
    (tmp_path / "bad.yaml").write_bytes(b"\x00\x01binary")
    with pytest.raises(ContainmentError, match="bad.yaml"):
        scan(str(tmp_path / "bad.yaml"), ScanOptions(kind="config", scanners=("config",)))
