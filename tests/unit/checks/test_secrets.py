"""The secret scanner's engine: masking, placeholders, binary sniffing, long lines, line
continuations, scan_text on image config strings, the analyzer's path filter, the allowlist
file, and fuzzing (malformed input never raises)."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.analyzers import LayerAnalyzer
from containment.checks import secrets
from containment.checks.secrets import ANALYZERS, Allowlist, fingerprint, load_allowlist, mask, scan_text
from containment.model import ConfigError, Location, SecretFinding

R = random.Random(11)
B62 = string.ascii_letters + string.digits
A = ANALYZERS[0]


def r(alpha: str, n: int) -> str:
    return "".join(R.choice(alpha) for _ in range(n))


AKID = "AKIA" + r(string.ascii_uppercase + "234567", 16)
AWS_SECRET = r(B62, 38) + "+/"
GH = "ghp_" + r(B62, 36)
PASSWORD = "Sup3rS3cret-Passw0rd!"


def parse(path: str, text: str | bytes) -> list[SecretFinding]:
    data = text.encode() if isinstance(text, str) else text
    return list(A.parse(path, data, None))  # type: ignore[arg-type]


def test_analyzer_interface() -> None:
    assert isinstance(A, LayerAnalyzer)
    assert A.group == "secrets" and A.immediate and A.max_size == 10 * 1024 * 1024
    assert secrets.RULES and len(secrets.RULES) >= 40


@pytest.mark.parametrize(
    "path",
    ["usr/share/locale/de/LC_MESSAGES/x.mo", "usr/lib/x86_64-linux-gnu/libssl.so.3", "opt/app/logo.PNG",
     "usr/share/fonts/x.ttf", "app/archive.tar.gz", "usr/lib/python3/dist-packages/x/tests/keys.py",
     "app/node_modules/jsonwebtoken/test/priv.pem", "usr/share/doc/openssl/README", "usr/bin/python3.11",
     "opt/app/venv/lib/python3.11/site-packages/x/settings.py", "usr/local/go/src/crypto/tls/testdata/key.pem"],
)
def test_wants_skips_never_secret_sources(path: str) -> None:
    assert not A.wants(path, 0o100644, 100)


@pytest.mark.parametrize("path", ["opt/app/.env", "etc/app/config.yaml", "root/.ssh/id_rsa", "app/tests/conftest.py",
                                  "app/bundle.min.js", "root/.docker/config.json", "Dockerfile"])
def test_wants_reads_secret_sources(path: str) -> None:
    assert A.wants(path, 0o100644, 100)
    assert not A.wants(path, 0o100644, 0)
    assert not A.wants(path, 0o100644, secrets.MAX_SIZE + 1)


def test_mask_rules() -> None:
    assert mask("AKIAQ3EGRZ7T5WBJ4NXM") == "AKIA" + "*" * 14 + "XM"
    assert mask("short-secret") == "********"
    assert mask("x" * 400) == "xxxx" + "*" * 32 + "xx"  # the length of long secrets is not kept


def test_no_raw_secret_in_any_output_field() -> None:
    text = (f"aws_access_key_id = {AKID}\naws_secret_access_key = {AWS_SECRET}\nGITHUB_TOKEN={GH}\n"
            f"DB_PASSWORD={PASSWORD}\n")
    found = parse("home/app/.aws/credentials", text)
    assert {f.rule.id for f in found} == {"CTM-SEC-001", "CTM-SEC-002", "CTM-SEC-008", "CTM-SEC-066"}
    dumped = json.dumps([f.to_json() for f in found])
    for raw in (AKID, AWS_SECRET, GH, PASSWORD):
        assert raw not in dumped
    assert [f.location.start_line for f in sorted(found, key=lambda f: f.location.start_line)] == [1, 2, 3, 4]
    assert all(f.location.path == "home/app/.aws/credentials" for f in found)


@pytest.mark.parametrize(
    "text",
    [
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "password: changeme",
        "password=password",
        "DB_PASSWORD=db_password",
        "token: xxxxxxxxxxxxxxxx",
        "password: <password>",
        "password=${DB_PASSWORD}",
        "password=$(cat /run/secrets/db)",
        "password: {{ .Values.db.password }}",
        "api_key = 'example-api-key-123'",
        "secret: dummy-secret-value",
        "password: aaaaaaaaaaaa",
        "password = abc",
        "token_url: https://auth.example.io/token",
        "password_hash: 5f4dcc3b5aa765d61d8327deb882cf99",
        "TOKEN_TYPE=Bearer",
        "password = os.environ['DB']",
        "secret: !vault |",
        "secret = pass:insta # openssl.cnf",
        "DB_PASSWORD_FILE=/run/secrets/db_password",
    ],
)
def test_placeholders_and_non_secrets_not_reported(text: str) -> None:
    assert parse("app/config.env", text + "\n") == []


def test_code_needs_a_quoted_literal() -> None:
    assert parse("app/settings.py", "password = get_password()\ntoken = request.token\n") == []
    found = parse("app/settings.py", f'password = "{PASSWORD}"\n')
    assert [f.rule.id for f in found] == ["CTM-SEC-066"]
    assert found[0].match.startswith("password=")


def test_binary_skipped_by_content() -> None:
    assert parse("opt/app/blob", b"\x7fELF" + GH.encode()) == []
    assert parse("opt/app/blob", b"abc\0def " + f"GITHUB_TOKEN={GH}".encode()) == []
    # UTF-16 text with a BOM is text
    utf16 = f"GITHUB_TOKEN={GH}\n".encode("utf-16")
    assert [f.rule.id for f in parse("opt/app/x.txt", utf16)] == ["CTM-SEC-008"]


def test_long_minified_line_is_scanned_not_skipped() -> None:
    filler = ",".join(f'v{i}="{r(string.ascii_lowercase, 8)}"' for i in range(20000))  # ~300 KiB, one line
    found = parse("app/bundle.min.js", f"var {filler},k=\"{GH}\",{filler};\n")
    assert [(f.rule.id, f.location.start_line) for f in found] == [("CTM-SEC-008", 1)]


def test_secret_split_across_line_continuation() -> None:
    text = (f"FROM alpine\nRUN echo start && \\\n    export AWS_SECRET_ACCESS_KEY={AWS_SECRET[:15]}\\\n{AWS_SECRET[15:]} "
            "&& true\nUSER app\n")
    found = parse("Dockerfile", text)
    assert [(f.rule.id, f.location.start_line, f.location.end_line) for f in found] == [("CTM-SEC-002", 3, 4)]


def test_private_key_in_yaml_block() -> None:
    import base64

    body = base64.b64encode(R.randbytes(900)).decode()
    pem = ["-----BEGIN RSA PRIVATE KEY-----", *[body[i : i + 64] for i in range(0, len(body), 64)], "-----END RSA PRIVATE KEY-----"]
    text = "tls:\n  private_key: |\n" + "\n".join("    " + ln for ln in pem) + "\nother: 1\n"
    found = parse("opt/app/config/settings.yaml", text)
    assert [(f.rule.id, f.location.start_line) for f in found] == [("CTM-SEC-040", 3)]
    assert found[0].location.end_line == 3 + len(pem) - 1


def test_inline_allow_marker() -> None:
    assert parse("a.env", f"GITHUB_TOKEN={GH}  # containment:allow\n") == []
    assert parse("a.py", f'T = "{GH}"  # pragma: allowlist secret\n') == []


def test_scan_text_env_label_history() -> None:
    env = scan_text(f"DB_PASSWORD={PASSWORD}", Location(field="Env[3]"))
    assert [(f.rule.id, f.location.field) for f in env] == [("CTM-SEC-066", "Env[3]")]
    assert env[0].match == "DB_PASSWORD=" + mask(PASSWORD)
    hist = scan_text(f"/bin/sh -c #(nop)  ENV DB_PASSWORD={PASSWORD}", Location(field="history[5]", layer="sha256:ab"))
    assert [(f.rule.id, f.location.layer) for f in hist] == [("CTM-SEC-066", "sha256:ab")]
    legacy = scan_text(f"ENV API_TOKEN {r(B62, 24)}", Location(field="history[1]"))
    assert [f.rule.id for f in legacy] == ["CTM-SEC-066"]
    assert scan_text("PATH=/usr/local/bin:/usr/bin", Location(field="Env[0]")) == []
    assert scan_text("DB_PASSWORD_FILE=/run/secrets/db", Location(field="Env[1]")) == []
    label = scan_text(f"git clone https://{GH}@github.com/o/r", Location(field="Labels[x]"))
    assert [f.rule.id for f in label] == ["CTM-SEC-008"]


def test_base64_value_starting_with_slash_is_not_a_path() -> None:
    assert [f.rule.id for f in parse("a.env", "APP_SECRET=/s+L6M+t6ddgSfwhGVtbJqz+CwkB\n")] == ["CTM-SEC-066"]


def test_specific_rule_wins_over_generic() -> None:
    found = parse("a.env", f"GITHUB_TOKEN={GH}\n")
    assert [f.rule.id for f in found] == ["CTM-SEC-008"]


def test_k8s_env_name_value_and_xml() -> None:
    k8s = f"env:\n  - name: DB_PASSWORD\n    value: \"{PASSWORD}\"\n"
    assert [(f.rule.id, f.location.start_line) for f in parse("deploy.yaml", k8s)] == [("CTM-SEC-066", 3)]
    xml = f"<settings>\n  <password>{PASSWORD}</password>\n</settings>\n"
    assert [(f.rule.id, f.location.start_line) for f in parse("settings.xml", xml)] == [("CTM-SEC-066", 2)]
    net = f'<add key="DbPassword" value="{PASSWORD}" />\n'
    assert [f.rule.id for f in parse("web.config", net)] == ["CTM-SEC-066"]


# ---------------------------------------------------------------------------- allowlist


def _findings() -> list[SecretFinding]:
    return parse("opt/app/.env", f"GITHUB_TOKEN={GH}\nDB_PASSWORD={PASSWORD}\n") + parse(
        "srv/other.env", f"GITHUB_TOKEN={GH}\n"
    )


def test_allowlist_by_rule_path_fingerprint(tmp_path: Path) -> None:
    f = tmp_path / "allow.yaml"
    f.write_text("rules: [CTM-SEC-066]\npaths: ['srv/**']\nfingerprints: ['opt/app/.env:CTM-SEC-008:1']\n")
    al = load_allowlist(str(f))
    out = al.apply(_findings())
    assert all(x.suppressed is not None for x in out)
    assert {x.suppressed.kind for x in out if x.suppressed} == {"allowlist"}
    assert {x.suppressed.source for x in out if x.suppressed} == {str(f)}
    assert fingerprint(out[0]) == "opt/app/.env:CTM-SEC-008:1"
    f.write_text("paths: ['opt/']\n")
    out = load_allowlist(str(f)).apply(_findings())
    assert [x.suppressed is not None for x in out] == [True, True, False]


def test_allowlist_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "allow.yaml"
    f.write_text("")
    assert load_allowlist(str(f)).apply(_findings()) == _findings()
    assert Allowlist().apply(_findings()) == _findings()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("rules: [CTM-SEC-999]\n", "line 1"),
        ("rules: [CTM-SEC-001]\nvalues: ['abc']\n", "line 2"),
        ("paths: 'opt/**'\n", "must be a list"),
        ("- a\n- b\n", "not a mapping"),
        ("rules: [\n", "line"),
        ("paths:\n  - {a: 1}\n", "must be a list"),
        ("a: &x [*x]\n", "unknown key"),
    ],
)
def test_allowlist_errors_name_file_line_and_fix(tmp_path: Path, content: str, needle: str) -> None:
    f = tmp_path / "allow.yaml"
    f.write_text(content)
    with pytest.raises(ConfigError) as e:
        load_allowlist(str(f))
    msg = str(e.value)
    assert str(f) in msg and needle in msg and "\n" not in msg


def test_allowlist_binary_missing_and_bomb(tmp_path: Path) -> None:
    b = tmp_path / "allow.yaml"
    b.write_bytes(b"\xff\xfe\x00\x01binary")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_allowlist(str(b))
    with pytest.raises(ConfigError, match="cannot read"):
        load_allowlist(str(tmp_path / "missing.yaml"))
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ) + "rules: *i\n"
    b.write_text(bomb)
    with pytest.raises(ConfigError):
        load_allowlist(str(b))


# ---------------------------------------------------------------------------- fuzz

_fragments = st.sampled_from(
    ["password=", "token: ", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "\\\n", "eyJ", "AKIA",
     "ghp_", "\"auth\": \"", "postgres://u:", "@h/", "<password>", "PuTTY-User-Key-File-2: x\nPrivate-Lines: 2\n",
     "service_account", "\"private_key\": \"-----BEGIN PRIVATE KEY-----", "\n", " ", "'", "\"", "=", "ENV ", "name: x_token\n"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_fragments, st.text(max_size=40)), max_size=40))
def test_fuzz_text_never_raises(parts: list[str]) -> None:
    text = "".join(parts)
    for f in parse("fuzz.env", text) + scan_text(text, Location(field="Env[0]")):
        assert f.location.start_line >= 0 and f.rule.id.startswith("CTM-SEC-")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_bytes_never_raise(data: bytes) -> None:
    parse("fuzz.yaml", data)
    parse("fuzz.py", data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_allowlist_only_config_error(tmp_path_factory: pytest.TempPathFactory, content: str) -> None:
    f = tmp_path_factory.mktemp("al") / "allow.yaml"
    f.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        load_allowlist(str(f))
    except ConfigError as e:
        assert "\n" not in str(e) and str(f) in str(e)
