"""The layer cache under concurrency, cache info/clean, and registry credential files."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from containment import cache
from containment.image.registry import credentials_for, parse_reference
from containment.layers import Analyzer, scan_target
from tests.conftest import base_layer


def test_concurrent_scans_share_the_cache(make_oci, tmp_path):
    root = make_oci([base_layer(), base_layer(("x", "1"))])

    def scan(_: int):
        return sorted(p.purl for p in scan_target(f"oci:{root}", Analyzer()).packages)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(scan, range(8)))
    assert all(r == results[0] for r in results) and results[0]
    info = cache.info()
    assert info.layers == 2
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "containment", "sbom", f"oci:{root}", "-f", "json", "-q"],
            stdout=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outs = [json.loads(p.communicate()[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len({json.dumps(o["packages"], sort_keys=True) for o in outs}) == 1


def test_cache_cli_info_and_clean(make_oci):
    scan_target(f"oci:{make_oci([base_layer()])}", Analyzer())
    out = subprocess.run(
        [sys.executable, "-m", "containment", "cache", "info"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "layers      1" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "containment", "cache", "clean"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "removed 1 cached layers" in out.stdout
    assert cache.info().layers == 0


def test_credentials_from_docker_config_and_auth_file(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    tok = base64.b64encode(b"alice:pw1").decode()
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {"reg.example:5000": {"auth": tok}}}))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert credentials_for("reg.example:5000") == ("alice", "pw1")
    assert credentials_for("other.example") is None
    auth = tmp_path / "auth.json"
    auth.write_text(
        json.dumps({"auths": {"reg.example:5000": {"auth": base64.b64encode(b"bob:pw2").decode()}}})
    )
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    assert credentials_for("reg.example:5000") == ("bob", "pw2")  # REGISTRY_AUTH_FILE first, like skopeo


def test_reference_parsing_follows_docker_rules():
    r = parse_reference("alpine")
    assert (r.registry, r.repository, r.tag) == ("docker.io", "library/alpine", "latest")
    r = parse_reference("127.0.0.1:5000/team/app:1.4")
    assert (r.registry, r.repository, r.tag) == ("127.0.0.1:5000", "team/app", "1.4")
    r = parse_reference("localhost/app@sha256:" + "a" * 64)
    assert r.registry == "localhost" and r.digest and r.tag is None
