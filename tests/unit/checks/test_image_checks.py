"""checks.image: every rule positive and negative on real-shaped image configs, the corpus app
image's planted problems, and hostile configs (ConfigError, never a traceback)."""

from __future__ import annotations

import copy
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.checks import filefacts, image
from containment.checks.image import RULES, check
from containment.image.walk import Entry, walk_tar
from containment.model import SEVERITIES, ConfigError, FileFact, Misconfiguration

L0 = "sha256:" + "0" * 64
L1 = "sha256:" + "1" * 64
L2 = "sha256:" + "2" * 64

# The shape of a real image config: docker/buildkit history lines (classic builder base, buildkit
# app layers), OCI rootfs, a non-root user and a health check, so that it is clean as is.
CLEAN: dict[str, Any] = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-05-14T01:28:10Z",
    "config": {
        "User": "app",
        "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8",
            "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
            "PYTHON_VERSION=3.12.3",
            "PASSWORD_FILE=/run/secrets/db_password",
            "TOKENIZERS_PARALLELISM=false",
        ],
        "Entrypoint": ["/usr/local/bin/docker-entrypoint.sh"],
        "Cmd": ["gunicorn", "app:app"],
        "ExposedPorts": {"8080/tcp": {}},
        "Healthcheck": {
            "Test": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
            "Interval": 30000000000,
        },
        "Labels": {
            "org.opencontainers.image.source": "https://github.com/example/app",
            "maintainer": "a@b.c",
        },
        "WorkingDir": "/app",
    },
    "history": [
        {
            "created": "2024-05-13T00:00:00Z",
            "created_by": "/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / ",
        },
        {
            "created": "2024-05-13T00:00:01Z",
            "created_by": '/bin/sh -c #(nop)  CMD ["bash"]',
            "empty_layer": True,
        },
        {
            "created": "2024-05-14T01:28:00Z",
            "created_by": "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends "
            "ca-certificates; rm -rf /var/lib/apt/lists/* # buildkit",
            "comment": "buildkit.dockerfile.v0",
        },
        {"created": "2024-05-14T01:28:05Z", "created_by": "WORKDIR /app", "empty_layer": True},
        {
            "created": "2024-05-14T01:28:09Z",
            "created_by": "COPY . /app # buildkit",
            "comment": "buildkit.dockerfile.v0",
        },
        {"created": "2024-05-14T01:28:10Z", "created_by": "USER app", "empty_layer": True},
    ],
    "rootfs": {"type": "layers", "diff_ids": [L0, L1, L2]},
}


def cfg(**changes: Any) -> dict[str, Any]:
    """CLEAN with `config` keys changed (None removes the key)."""
    doc = copy.deepcopy(CLEAN)
    for k, v in changes.items():
        if v is None:
            doc["config"].pop(k, None)
        else:
            doc["config"][k] = v
    return doc


def with_history(*lines: str | tuple[str, bool]) -> dict[str, Any]:
    doc = copy.deepcopy(CLEAN)
    for line in lines:
        text, empty = (line, False) if isinstance(line, str) else line
        h: dict[str, Any] = {"created": "2024-05-14T02:00:00Z", "created_by": text}
        if empty:
            h["empty_layer"] = True
        doc["history"].append(h)
    doc["rootfs"]["diff_ids"].append("sha256:" + "3" * 64)
    return doc


def ids(found: list[Misconfiguration]) -> list[str]:
    return [m.rule.id for m in found]


def of(rule: str, found: list[Misconfiguration]) -> list[Misconfiguration]:
    return [m for m in found if m.rule.id == rule]


def test_the_clean_config_is_clean() -> None:
    assert check(CLEAN, []) == []


# ---------------------------------------------------------------------------- rules as data


def test_rules_are_complete_and_stable() -> None:
    assert [r.id for r in RULES] == [f"CTM-IMG-{i:03d}" for i in range(1, len(RULES) + 1)]
    for r in RULES:
        assert r.kind == "image" and r.severity in SEVERITIES
        assert r.title and r.rationale and r.remediation
    aliases = {a for r in RULES for a in r.aliases}
    assert {
        "CIS Docker 4.1",
        "CIS Docker 4.6",
        "CIS Docker 4.8",
        "CKV_DOCKER_1",
        "CKV_DOCKER_2",
        "DL3002",
    } <= aliases


# ---------------------------------------------------------------------------- config


@pytest.mark.parametrize("user", [None, "", "root", "0", "0:0", "root:staff", " root "])
def test_root_user(user: str | None) -> None:
    found = of("CTM-IMG-001", check(cfg(User=user), []))
    assert len(found) == 1
    m = found[0]
    assert m.location.field == "config.User" and m.resource == "image config" and m.severity == "HIGH"
    assert m.message.startswith("image runs as root (config.User is ")


def test_root_user_message_names_the_cause() -> None:
    assert (
        of("CTM-IMG-001", check(cfg(User=""), []))[0].message == "image runs as root (config.User is empty)"
    )


@pytest.mark.parametrize("user", ["app", "1000", "1000:1000", "nobody:nogroup", "65532"])
def test_non_root_user(user: str) -> None:
    assert of("CTM-IMG-001", check(cfg(User=user), [])) == []


def test_healthcheck_missing_or_disabled() -> None:
    assert of("CTM-IMG-002", check(cfg(Healthcheck=None), []))[0].message == "image has no HEALTHCHECK"
    disabled = of("CTM-IMG-002", check(cfg(Healthcheck={"Test": ["NONE"]}), []))
    assert "HEALTHCHECK NONE" in disabled[0].message
    assert of("CTM-IMG-002", check(cfg(Healthcheck={"Test": ["CMD", "/bin/true"]}), [])) == []


@pytest.mark.parametrize(
    ("port", "service"),
    [
        ("22/tcp", "SSH"),
        ("23/tcp", "telnet"),
        ("3389/tcp", "RDP"),
        ("5900/tcp", "VNC"),
        ("2375/tcp", "Docker"),
        ("22", "SSH"),
    ],
)
def test_admin_ports(port: str, service: str) -> None:
    found = of("CTM-IMG-003", check(cfg(ExposedPorts={"8080/tcp": {}, port: {}}), []))
    assert len(found) == 1 and service in found[0].message and port in found[0].message
    assert found[0].location.field == f"config.ExposedPorts.{port}"


@pytest.mark.parametrize("port", ["80/tcp", "443/tcp", "22/udp", "2222/tcp", "8022/tcp"])
def test_other_ports(port: str) -> None:
    assert of("CTM-IMG-003", check(cfg(ExposedPorts={port: {}}), [])) == []


@pytest.mark.parametrize(
    "env",
    [
        "DB_PASSWORD=Sup3rS3cret-Passw0rd!",
        "POSTGRES_PASSWORD=postgres",
        "API_KEY=9f8e7d6c5b4a",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "GITHUB_TOKEN=ghp_abc",
        "dbPassword=hunter2",
        "SECRET_KEY_BASE=abcdef",
        "STRIPE_CLIENT_SECRET=x1",
    ],
)
def test_secret_env(env: str) -> None:
    doc = cfg()
    doc["config"]["Env"].append(env)
    found = of("CTM-IMG-014", check(doc, []))
    assert len(found) == 1
    name, _, value = env.partition("=")
    m = found[0]
    assert name in m.message and value not in m.message  # never the value
    assert m.location.field == f"config.Env[{len(doc['config']['Env']) - 1}]"


@pytest.mark.parametrize(
    "env",
    [
        "POSTGRES_PASSWORD=",
        "DB_PASSWORD_FILE=/run/secrets/db",
        "API_TOKEN=$RUNTIME_TOKEN",
        "TOKEN_URL=https://auth.example.com/token",
        "PWD=/app",
        "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
        "REQUIRE_PASSWORD=true",
        "PASSWORD_MIN_LENGTH=12",
        "NOEQUALS",
    ],
)
def test_not_secret_env(env: str) -> None:
    doc = cfg()
    doc["config"]["Env"].append(env)
    assert of("CTM-IMG-014", check(doc, [])) == []


@pytest.mark.parametrize(
    ("env", "hit"),
    [
        ("NODE_TLS_REJECT_UNAUTHORIZED=0", True),
        ("NODE_TLS_REJECT_UNAUTHORIZED=1", False),
        ("PYTHONHTTPSVERIFY=0", True),
        ("GIT_SSL_NO_VERIFY=true", True),
        ("GIT_SSL_NO_VERIFY=", False),
        ("NPM_CONFIG_STRICT_SSL=false", True),
        ("NPM_CONFIG_STRICT_SSL=true", False),
        ("PIP_TRUSTED_HOST=pypi.internal", True),
    ],
)
def test_tls_verification_disabled(env: str, hit: bool) -> None:
    doc = cfg()
    doc["config"]["Env"].append(env)
    assert bool(of("CTM-IMG-020", check(doc, []))) == hit


def test_secret_labels() -> None:
    labels = {
        "org.opencontainers.image.source": "https://github.com/x/y",
        "org.label-schema.docker.secret": "abc",  # the label-schema namespace is skipped
        "com.example.api-token": "abc123def",
        "com.example.deploy.password": "hunter2",
        "com.example.token-url": "https://x",
        "maintainer": "me",
    }
    found = of("CTM-IMG-015", check(cfg(Labels=labels), []))
    assert sorted(m.location.field for m in found) == [
        "config.Labels.com.example.api-token",
        "config.Labels.com.example.deploy.password",
    ]
    assert all("abc123def" not in m.message and "hunter2" not in m.message for m in found)


@pytest.mark.parametrize(
    "argv",
    [
        {"Cmd": ["/bin/sh", "-c", "nginx & php-fpm"], "Entrypoint": None},
        {"Entrypoint": ["sh", "-c"], "Cmd": ["redis-server & worker & wait"]},
        {"Cmd": ["bash", "-ec", "cron && (tail -f /var/log/x &) ; exec app"], "Entrypoint": None},
        {"Cmd": ["sh", "-c", "sidecar --x & exec app --port 80"], "Entrypoint": None},
        {"Cmd": ["sh", "-c", "a & case $M in x) b ;; esac"], "Entrypoint": None},  # bashlex: no case
    ],
)
def test_more_than_one_process(argv: dict[str, Any]) -> None:
    found = of("CTM-IMG-019", check(cfg(**argv), []))
    assert len(found) == 1 and "&" in found[0].message


@pytest.mark.parametrize(
    "argv",
    [
        {"Cmd": ["sh", "-c", "migrate && exec app"], "Entrypoint": None},
        {"Cmd": ["sh", "-c", "app &"], "Entrypoint": None},
        {"Cmd": ["sh", "-c", "app & wait"], "Entrypoint": None},
        {"Cmd": ["/usr/bin/supervisord", "-n", "-c", "/etc/supervisord.conf"], "Entrypoint": None},
        {"Cmd": ["nginx", "-g", "daemon off;"], "Entrypoint": None},
        {"Cmd": ["python", "-c", "import a & b"], "Entrypoint": None},
        {"Cmd": ["sh", "-c", "echo 'a & b'"], "Entrypoint": None},
    ],
)
def test_one_process(argv: dict[str, Any]) -> None:
    assert of("CTM-IMG-019", check(cfg(**argv), [])) == []


# ---------------------------------------------------------------------------- history


def test_history_entries_map_to_layers_skipping_empty_ones() -> None:
    doc = with_history(("ENV X=1", True), "ADD https://example.com/app.tar.gz /opt/ # buildkit")
    found = of("CTM-IMG-016", check(doc, []))
    assert len(found) == 1
    assert found[0].location.field == "history[7]"
    assert found[0].location.layer == "sha256:" + "3" * 64  # the fourth non-empty entry
    assert "https://example.com/app.tar.gz" in found[0].message


@pytest.mark.parametrize(
    ("line", "hit"),
    [
        ("ADD https://example.com/app.tar.gz /opt/ # buildkit", True),
        ("/bin/sh -c #(nop) ADD http://example.com/x.sh /x.sh", True),
        ('ADD ["https://example.com/a b.tgz", "/opt/"] # buildkit', True),
        ("ADD git@github.com:moby/buildkit.git /src # buildkit", True),
        (
            "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/x /x",
            False,
        ),
        ("/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec6097 in / ", False),
        ("COPY https-proxy.conf /etc/ # buildkit", False),
        ("ADD vendor/app.tar.gz /opt/ # buildkit", False),
    ],
)
def test_remote_add(line: str, hit: bool) -> None:
    assert bool(of("CTM-IMG-016", check(with_history(line), []))) == hit


@pytest.mark.parametrize(
    ("line", "hit"),
    [
        ("RUN /bin/sh -c curl -fsSL https://get.example.sh | sh # buildkit", True),
        ("/bin/sh -c curl -sL https://deb.nodesource.com/setup_20.x | bash -", True),
        ("RUN /bin/sh -c wget -qO- https://x/install.sh | sudo bash -s -- -y # buildkit", True),
        ("RUN /bin/sh -c set -eux; curl -fsSL https://x | tee /tmp/log | sh # buildkit", True),
        ('RUN /bin/sh -c sh -c "$(curl -fsSL https://raw.example.com/install.sh)" # buildkit', True),
        ("RUN /bin/bash -o pipefail -c bash <(curl -s https://x/i.sh) # buildkit", True),
        ("RUN /bin/sh -c curl -fsSL https://bootstrap.pypa.io/get-pip.py | python3 - # buildkit", True),
        ("RUN /bin/sh -c curl -fsSL https://x/a.tgz | tar -xz -C /opt # buildkit", False),
        ("RUN /bin/sh -c curl -o /tmp/i.sh https://x && sha256sum -c sums && sh /tmp/i.sh # buildkit", False),
        ("RUN /bin/sh -c echo curl | sh # buildkit", False),
        (
            "RUN /bin/sh -c curl -fsSL https://x | gpg --dearmor -o /usr/share/keyrings/x.gpg # buildkit",
            False,
        ),
    ],
)
def test_pipe_to_shell(line: str, hit: bool) -> None:
    found = of("CTM-IMG-017", check(with_history(line), []))
    assert bool(found) == hit
    if hit:
        assert found[0].location.layer == "sha256:" + "3" * 64


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("|1 NPM_TOKEN=npm_abcdef /bin/sh -c npm ci", "build argument NPM_TOKEN"),
        ("RUN |2 A=1 GITHUB_TOKEN=ghp_x /bin/sh -c make # buildkit", "build argument GITHUB_TOKEN"),
        ("RUN /bin/sh -c export API_KEY=abc123 && ./configure # buildkit", "variable API_KEY"),
        ("RUN /bin/sh -c DB_PASSWORD=hunter2 ./migrate # buildkit", "variable DB_PASSWORD"),
        (
            "RUN /bin/sh -c mysqladmin --password=hunter2 create app # buildkit",
            "option --password of mysqladmin",
        ),
        ("RUN /bin/sh -c registry login --auth-token s3cr3t x # buildkit", "option --auth-token of registry"),
        ("ARG DEPLOY_TOKEN=abcdef", "ARG DEPLOY_TOKEN"),
        ("/bin/sh -c #(nop)  ENV SECRET_KEY=abc", "ENV SECRET_KEY"),
    ],
)
def test_secret_in_history(line: str, what: str) -> None:
    found = of("CTM-IMG-018", check(with_history(line), []))
    assert [m.message.split("for ", 1)[1] for m in found] == [what]
    assert "hunter2" not in found[0].message and "ghp_x" not in found[0].message


@pytest.mark.parametrize(
    "line",
    [
        "|1 NPM_TOKEN= /bin/sh -c npm ci",
        "ARG GITHUB_TOKEN",
        'RUN /bin/sh -c mysqladmin --password="$DB_PASSWORD" create app # buildkit',
        "RUN /bin/sh -c --mount=type=secret,id=token cat /run/secrets/token # buildkit",
        "RUN /bin/sh -c curl -H @/run/secrets/headers https://x?token=abc # buildkit",
        "ENV TOKENIZERS_PARALLELISM=false",
    ],
)
def test_no_secret_in_history(line: str) -> None:
    assert of("CTM-IMG-018", check(with_history(line), [])) == []


def test_env_secret_reported_once_from_the_config_and_history_when_overwritten() -> None:
    doc = with_history(("ENV DB_PASSWORD=Sup3rS3cret", True))
    doc["config"]["Env"].append("DB_PASSWORD=Sup3rS3cret")
    found = check(doc, [])
    assert ids(found).count("CTM-IMG-014") == 1 and "CTM-IMG-018" not in ids(found)
    doc["config"]["Env"][-1] = "DB_PASSWORD="  # a later ENV blanked it: the history still holds it
    found = check(doc, [])
    assert "CTM-IMG-014" not in ids(found) and ids(found).count("CTM-IMG-018") == 1


def test_history_forms() -> None:
    assert image.split_history('/bin/sh -c #(nop)  CMD ["bash"]') == ("CMD", '["bash"]')
    assert image.split_history("RUN /bin/sh -c apt-get update # buildkit") == (
        "RUN",
        "/bin/sh -c apt-get update",
    )
    assert image.split_history("|1 A=b /bin/sh -c x")[0] == "RUN"
    assert image.split_history("debootstrap --variant=minbase bookworm /") == (
        "",
        "debootstrap --variant=minbase bookworm /",
    )


# ---------------------------------------------------------------------------- files


def test_setuid_copy_is_high_with_its_layer_and_distro_ones_low() -> None:
    files = [
        FileFact("usr/local/bin/find", "setuid", 0o104755, 300000, L2),
        FileFact("usr/bin/passwd", "setuid", 0o104755, 60000, L0),
        FileFact("usr/bin/chage", "setgid", 0o102755, 60000, L0),
        FileFact("usr/lib/openssh/ssh-keysign", "setuid", 0o104755, 60000, L1),
        FileFact("opt/app/bin/passwd", "setuid", 0o104755, 60000, L1),
    ]
    found = check(CLEAN, files)
    high = of("CTM-IMG-009", found)
    assert [(m.location.path, m.location.layer) for m in high] == [
        ("usr/local/bin/find", L2),
        ("opt/app/bin/passwd", L1),
    ]
    assert high[0].message == "/usr/local/bin/find is setuid (mode 4755); no distribution installs it so"
    assert high[0].severity == "HIGH"
    low = of("CTM-IMG-010", found)
    assert sorted(m.location.path for m in low) == [
        "usr/bin/chage",
        "usr/bin/passwd",
        "usr/lib/openssh/ssh-keysign",
    ]
    assert all(m.severity == "LOW" for m in low)


def test_world_writable() -> None:
    files = [
        FileFact("opt/shared", "world-writable", 0o040777, 0, L1),
        FileFact("etc/app.conf", "world-writable", 0o100666, 3, L2),
    ]
    found = check(CLEAN, files)
    (d,) = of("CTM-IMG-011", found)
    (f,) = of("CTM-IMG-012", found)
    assert d.location.path == "opt/shared" and "sticky" in d.message and "0777" in d.message
    assert f.location.path == "etc/app.conf" and f.location.layer == L2


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("usr/sbin/sshd", "CTM-IMG-004"),
        ("usr/bin/gdb", "CTM-IMG-005"),
        ("usr/bin/strace", "CTM-IMG-005"),
        ("bin/nc.openbsd", "CTM-IMG-006"),
        ("usr/bin/tcpdump", "CTM-IMG-006"),
        ("usr/bin/curl", "CTM-IMG-007"),
        ("usr/bin/sudo", "CTM-IMG-008"),
    ],
)
def test_tools(path: str, rule: str) -> None:
    found = check(CLEAN, [FileFact(path, "tool", 0o100755, 1000, L1)])
    assert ids(found) == [rule]
    assert found[0].location.path == path and found[0].location.layer == L1
    assert found[0].message.startswith(f"/{path} is installed")


def test_caches_summed_per_directory_and_layer() -> None:
    files = [
        FileFact("var/lib/apt/lists", "cache", 0, 40 << 20, L1),
        FileFact("var/lib/apt/lists", "cache", 0, 2 << 20, L1),
        FileFact("var/lib/apt/lists", "cache", 0, 1 << 20, L2),
        FileFact("root/.cache/pip", "cache", 0, 512, L2),
    ]
    found = of("CTM-IMG-013", check(CLEAN, files))
    assert [(m.location.path, m.location.layer, m.message) for m in found] == [
        ("var/lib/apt/lists", L1, "package manager cache /var/lib/apt/lists holds 42.0 MiB"),
        ("var/lib/apt/lists", L2, "package manager cache /var/lib/apt/lists holds 1.0 MiB"),
        ("root/.cache/pip", L2, "package manager cache /root/.cache/pip holds 512 B"),
    ]


def test_findings_per_rule_are_capped() -> None:
    files = [FileFact(f"app/data/{i}", "world-writable", 0o100666, 1, L1) for i in range(250)]
    found = of("CTM-IMG-012", check(CLEAN, files))
    assert len(found) == image.MAX_PER_RULE + 1
    assert found[-1].message.startswith("... and 150 more: world-writable file")


# ---------------------------------------------------------------------------- a real walk


class FactsVisitor:
    def __init__(self) -> None:
        self.facts: list[FileFact] = []

    def entry(self, e: Entry) -> None:
        self.facts.extend(filefacts.ANALYZERS[0].entry(e))

    def wants(self, path: str, mode: int, size: int) -> bool:
        return False

    def file(self, path: str, data: bytes) -> None:
        pass

    def unreadable(self, path: str, error: OSError, is_dir: bool) -> None:
        pass


def facts_of(layers: list[tuple[bytes, str]]) -> tuple[list[FileFact], list[str]]:
    """Walk layer blobs, merge each layer's facts and stamp them with the layer (a squash stand-in)."""
    out: list[FileFact] = []
    diff_ids: list[str] = []
    for blob, media_type in layers:
        v = FactsVisitor()
        stats = walk_tar(io.BytesIO(blob), v, "layer", media_type=media_type)
        out += [FileFact(f.path, f.what, f.mode, f.size, stats.diff_id) for f in filefacts.merge(v.facts)]
        diff_ids.append(stats.diff_id)
    return out, diff_ids


def test_built_image_end_to_end() -> None:
    from containment.image.build import TarEntry, compress, layer_tar

    base = layer_tar(
        [
            TarEntry("usr/bin/passwd", b"\x7fELF", mode=0o4755),
            TarEntry("tmp", kind="dir", mode=0o1777),
            TarEntry("usr/bin/ls", b"\x7fELF", mode=0o755),
        ]
    )
    app = layer_tar(
        [
            TarEntry("usr/local/bin/find", b"\x7fELF", mode=0o4755),
            TarEntry("srv/upload", kind="dir", mode=0o777),
            TarEntry("var/lib/apt/lists/x_Packages", b"p" * 2048),
            TarEntry("var/lib/apt/lists/y_Packages", b"p" * 2048),
            TarEntry("usr/sbin/sshd", b"\x7fELF", mode=0o755),
        ]
    )
    files, diff_ids = facts_of([compress(base, "gzip"), compress(app, "zstd")])
    doc = copy.deepcopy(CLEAN)
    doc["rootfs"]["diff_ids"] = diff_ids
    doc["history"] = [{"created_by": "ADD rootfs.tar /"}, {"created_by": "RUN /bin/sh -c make # buildkit"}]
    found = check(doc, files)
    got = {(m.rule.id, m.location.path, m.location.layer) for m in found}
    assert got == {
        ("CTM-IMG-010", "usr/bin/passwd", diff_ids[0]),
        ("CTM-IMG-009", "usr/local/bin/find", diff_ids[1]),
        ("CTM-IMG-011", "srv/upload", diff_ids[1]),
        ("CTM-IMG-013", "var/lib/apt/lists", diff_ids[1]),
        ("CTM-IMG-004", "usr/sbin/sshd", diff_ids[1]),
    }
    assert "4.0 KiB" in of("CTM-IMG-013", found)[0].message


def _corpus_oci(root: Path) -> tuple[dict[str, Any], list[tuple[Path, str]]]:
    index = json.loads((root / "index.json").read_text())
    blob = root / "blobs" / "sha256"
    manifest = json.loads((blob / index["manifests"][0]["digest"].split(":")[1]).read_text())
    config = json.loads((blob / manifest["config"]["digest"].split(":")[1]).read_text())
    return config, [(blob / lay["digest"].split(":")[1], lay["mediaType"]) for lay in manifest["layers"]]


def test_corpus_debian_app(corpus_image: Any) -> None:
    info = corpus_image("debian-app")
    cache = Path(os.environ.get("CORPUS_CACHE", Path.home() / ".cache" / "containment-corpus"))
    config, layers = _corpus_oci(cache / info["oci_layout"])
    files, diff_ids = facts_of([(p.read_bytes(), mt) for p, mt in layers])
    assert diff_ids == config["rootfs"]["diff_ids"]
    found = check(config, files)
    by_rule = {m.rule.id: m for m in found}
    assert by_rule["CTM-IMG-001"].message == "image runs as root (config.User is 'root')"
    assert by_rule["CTM-IMG-003"].message == "image exposes port 22/tcp (SSH)"
    assert "DB_PASSWORD" in by_rule["CTM-IMG-014"].message and "Sup3r" not in by_rule["CTM-IMG-014"].message
    assert "CTM-IMG-002" in by_rule  # no HEALTHCHECK, on purpose
    (find,) = of("CTM-IMG-009", found)  # the only setuid file no distribution installs
    assert find.location.path == "usr/local/bin/find" and find.location.layer == diff_ids[3]
    assert find.message == "/usr/local/bin/find is setuid (mode 4755); no distribution installs it so"
    assert {m.location.path for m in of("CTM-IMG-010", found)} >= {
        "usr/bin/passwd",
        "usr/bin/su",
        "usr/bin/mount",
    }
    assert of("CTM-IMG-013", found) == []  # layer 2 cleaned its apt lists in the same RUN


# ---------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("doc", "names"),
    [
        (cfg(User=0), "config.User"),
        (cfg(Env="DB_PASSWORD=x"), "config.Env"),
        (cfg(Env=["A=b", 3]), "config.Env"),
        (cfg(ExposedPorts=["22/tcp"]), "config.ExposedPorts"),
        (cfg(Labels={"a": 1}), "config.Labels['a']"),
        (cfg(Healthcheck={"Test": "CMD true"}), "config.Healthcheck.Test"),
        (cfg(Cmd="nginx"), "config.Cmd"),
        ({**CLEAN, "history": {"0": "x"}}, "history"),
        ({**CLEAN, "history": ["RUN x"]}, "history[0]"),
        ({**CLEAN, "history": [{"created_by": ["RUN"]}]}, "history[0].created_by"),
        ({**CLEAN, "config": "User=root"}, "config"),
        ({**CLEAN, "rootfs": {"diff_ids": "sha256:x"}}, "rootfs.diff_ids"),
        ([], "the document"),
    ],
)
def test_invalid_config_is_one_line_config_error(doc: Any, names: str) -> None:
    with pytest.raises(ConfigError) as e:
        check(doc, [])
    msg = str(e.value)
    assert " a int," not in msg and " a str," not in msg
    assert "\n" not in msg and msg.startswith(f"image config: {names} is ") and "rebuild the image" in msg


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
SHELLISH = st.text(alphabet=st.sampled_from(list("ab $(){}[]|&;<>'\"`\\\n#=-:/curlsh|")), max_size=120)
CONFIG_KEYS = ["User", "Env", "Entrypoint", "Cmd", "ExposedPorts", "Healthcheck", "Labels", "WorkingDir"]


@settings(max_examples=300, deadline=None)
@given(
    config=st.dictionaries(st.sampled_from(CONFIG_KEYS), JSON, max_size=8),
    history=st.lists(
        st.one_of(
            st.fixed_dictionaries({"created_by": SHELLISH.map(lambda s: "RUN /bin/sh -c " + s)}),
            st.fixed_dictionaries({"created_by": SHELLISH, "empty_layer": st.booleans()}),
            JSON,
        ),
        max_size=6,
    ),
)
def test_fuzz_never_raises_anything_but_config_error(config: dict[str, Any], history: list[Any]) -> None:
    doc = {"config": config, "history": history, "rootfs": {"diff_ids": [L0]}}
    try:
        found = check(doc, [])
    except ConfigError as e:
        assert "\n" not in str(e) and str(e).startswith("image config: ")
        return
    assert all(isinstance(m, Misconfiguration) for m in found)


@settings(max_examples=300, deadline=None)
@given(cmd=SHELLISH, env=st.lists(st.text(max_size=30), max_size=5))
def test_fuzz_entrypoint_and_env_strings(cmd: str, env: list[str]) -> None:
    found = check(cfg(Cmd=["/bin/sh", "-c", cmd], Env=env), [])
    assert all(isinstance(m, Misconfiguration) for m in found)


def test_huge_history_line_is_bounded() -> None:
    line = "RUN /bin/sh -c " + " && ".join(f"echo {i}" for i in range(60000)) + " | sh"
    found = check(with_history(line), [])
    assert all(isinstance(m, Misconfiguration) for m in found)
