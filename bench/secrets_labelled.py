"""Labelled secret corpus: recall and precision of containment's secret scanner against
detect-secrets, on a corpus generated here (seeded, deterministic, in a temp dir, never kept).

True secrets of every credential type the catalogue claims are written into many file formats
(.env, YAML, JSON, properties, shell, Python, JS, Dockerfile, INI, XML, Terraform, Kubernetes
Secret stringData, docker config.json, .npmrc, .pypirc, id_rsa, ...); hard negatives beside
them (placeholders, documentation keys, hashes, UUIDs, git SHAs, base64 of prose, public keys,
integrity= sha512 hashes, template references, lorem ipsum). A finding counts at file + line
(any line of a multi-line key counts as its first line).

    .venv/bin/python bench/secrets_labelled.py [--seed N] [--per-type N] [--keep DIR]

Needs `detect-secrets` (`.venv/bin/pip install detect-secrets`, bench only); without it only
our figures are printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from containment.checks.secrets import ANALYZERS  # noqa: E402

B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = B62 + "+/"
URLSAFE = B62 + "_-"


def rs(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def b62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = (string.digits + string.ascii_uppercase + string.ascii_lowercase)[r] + out
    return out.rjust(width, "0")


def gh(rng: random.Random, prefix: str) -> str:
    body = rs(rng, B62, 30)
    if rng.random() < 0.5:  # half with a valid checksum, half random (as in most test corpora)
        return f"{prefix}_{body}{b62(zlib.crc32(body.encode()), 6)}"
    return f"{prefix}_{body}{rs(rng, B62, 6)}"


def b64url(d: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")


def pem_body(rng: random.Random, n: int) -> list[str]:
    raw = base64.b64encode(rng.randbytes(n)).decode()
    return [raw[i : i + 64] for i in range(0, len(raw), 64)]


def pem(rng: random.Random, label: str, n: int = 900) -> str:
    return "\n".join([f"-----BEGIN {label}-----", *pem_body(rng, n), f"-----END {label}-----"])


# Single-line credential types: name -> (generator, variable name used in assignments)
Gen = Callable[[random.Random], str]
SINGLE: dict[str, tuple[Gen, str]] = {
    "aws-access-key-id": (lambda r: "AKIA" + rs(r, string.ascii_uppercase + "234567", 16), "AWS_ACCESS_KEY_ID"),
    "aws-secret-access-key": (lambda r: rs(r, B64, 40), "AWS_SECRET_ACCESS_KEY"),
    "gcp-api-key": (lambda r: "AIza" + rs(r, URLSAFE, 35), "GOOGLE_API_KEY"),
    "azure-storage-key": (
        lambda r: "DefaultEndpointsProtocol=https;AccountName=acct" + rs(r, string.digits, 4)
        + ";AccountKey=" + base64.b64encode(r.randbytes(64)).decode() + ";EndpointSuffix=core.windows.net",
        "AZURE_STORAGE_CONNECTION_STRING",
    ),
    "azure-ad-client-secret": (lambda r: rs(r, B62, 3) + str(r.randint(0, 9)) + "Q~" + rs(r, B62 + "_~.-", 34),
                               "AZURE_CLIENT_SECRET"),
    "github-pat": (lambda r: gh(r, "ghp"), "GITHUB_TOKEN"),
    "github-oauth": (lambda r: gh(r, "gho"), "GH_OAUTH"),
    "github-u2s": (lambda r: gh(r, "ghu"), "GH_USER_TOKEN"),
    "github-s2s": (lambda r: gh(r, "ghs"), "GH_APP_TOKEN"),
    "github-refresh": (lambda r: gh(r, "ghr"), "GH_REFRESH"),
    "github-fine-grained": (lambda r: "github_pat_" + rs(r, B62, 22) + "_" + rs(r, B62, 59), "GH_PAT"),
    "gitlab-pat": (lambda r: "glpat-" + rs(r, URLSAFE, 20), "GITLAB_TOKEN"),
    "gitlab-runner": (lambda r: "glrt-" + rs(r, URLSAFE, 20), "RUNNER_TOKEN"),
    "gitlab-deploy": (lambda r: "gldt-" + rs(r, URLSAFE, 20), "DEPLOY_TOKEN"),
    "bitbucket-app-password": (lambda r: "ATBB" + rs(r, B62, 32), "BITBUCKET_APP_PASSWORD"),
    "slack-token": (lambda r: f"xoxb-{r.randint(10**10, 10**12)}-{r.randint(10**10, 10**12)}-{rs(r, B62, 24)}",
                    "SLACK_BOT_TOKEN"),
    "slack-webhook": (lambda r: f"https://hooks.slack.com/services/T{rs(r, string.ascii_uppercase + string.digits, 8)}"
                      f"/B{rs(r, string.ascii_uppercase + string.digits, 8)}/{rs(r, B62, 24)}", "SLACK_WEBHOOK_URL"),
    "discord-webhook": (lambda r: f"https://discord.com/api/webhooks/{r.randint(10**17, 10**18)}/{rs(r, URLSAFE, 68)}",
                        "DISCORD_WEBHOOK"),
    "discord-bot-token": (lambda r: "M" + rs(r, URLSAFE, 23) + "." + rs(r, URLSAFE, 6) + "." + rs(r, URLSAFE, 27),
                          "DISCORD_BOT_TOKEN"),
    "telegram-bot-token": (lambda r: f"{r.randint(10**8, 10**9)}:AA{rs(r, URLSAFE, 33)}", "TELEGRAM_BOT_TOKEN"),
    "twilio-api-key": (lambda r: "SK" + rs(r, HEX, 32), "TWILIO_API_KEY"),
    "sendgrid": (lambda r: "SG." + rs(r, URLSAFE, 22) + "." + rs(r, URLSAFE, 43), "SENDGRID_API_KEY"),
    "mailgun": (lambda r: "key-" + rs(r, HEX, 32), "MAILGUN_API_KEY"),
    "mailchimp": (lambda r: rs(r, HEX, 32) + f"-us{r.randint(1, 20)}", "MAILCHIMP_KEY"),
    "stripe-live": (lambda r: "sk_live_" + rs(r, B62, 24 + r.randint(0, 75)), "STRIPE_SECRET_KEY"),
    "stripe-restricted": (lambda r: "rk_live_" + rs(r, B62, 24 + r.randint(0, 75)), "STRIPE_RESTRICTED_KEY"),
    "braintree": (lambda r: f"access_token$production${rs(r, string.ascii_lowercase + string.digits, 16)}${rs(r, HEX, 32)}",
                  "BRAINTREE_TOKEN"),
    "square": (lambda r: "EAAA" + rs(r, URLSAFE, 60), "SQUARE_ACCESS_TOKEN"),
    "shopify": (lambda r: "shpat_" + rs(r, HEX, 32), "SHOPIFY_TOKEN"),
    "npm-token": (lambda r: "npm_" + rs(r, B62, 36), "NPM_TOKEN"),
    "pypi-token": (lambda r: "pypi-AgEIcHlwaS5vcmc" + rs(r, URLSAFE, 70), "PYPI_TOKEN"),
    "rubygems": (lambda r: "rubygems_" + rs(r, HEX, 48), "GEM_HOST_API_KEY"),
    "nuget": (lambda r: "oy2" + rs(r, string.ascii_lowercase + string.digits, 43), "NUGET_API_KEY"),
    "dockerhub-pat": (lambda r: "dckr_pat_" + rs(r, URLSAFE, 27), "DOCKERHUB_TOKEN"),
    "jwt": (lambda r: b64url({"alg": "HS256", "typ": "JWT"}) + "." + b64url(
        {"sub": rs(r, string.digits, 8), "iat": r.randint(1_600_000_000, 1_800_000_000), "role": "svc"}) + "." + rs(r, URLSAFE, 43),
        "SESSION_JWT"),
    "database-url": (lambda r: f"{r.choice(['postgres', 'postgresql', 'mysql', 'mongodb+srv', 'redis', 'amqp'])}://"
                     f"app{r.randint(1, 99)}:{rs(r, B62, 16)}@db{r.randint(1, 9)}.internal:{r.randint(1000, 9999)}/app",
                     "DATABASE_URL"),
    "vault-token": (lambda r: "hvs." + rs(r, URLSAFE, 90), "VAULT_TOKEN"),
    "terraform-cloud": (lambda r: rs(r, B62, 14) + ".atlasv1." + rs(r, URLSAFE, 67), "TFE_TOKEN"),
    "heroku": (lambda r: "HRKU-" + rs(r, URLSAFE, 60), "HEROKU_API_KEY"),
    "digitalocean": (lambda r: "dop_v1_" + rs(r, HEX, 64), "DIGITALOCEAN_TOKEN"),
    "datadog": (lambda r: rs(r, HEX, 32), "DD_API_KEY"),
    "newrelic": (lambda r: "NRAK-" + rs(r, string.ascii_uppercase + string.digits, 27), "NEW_RELIC_API_KEY"),
    "sentry-dsn": (lambda r: f"https://{rs(r, HEX, 32)}@o{r.randint(10**5, 10**6)}.ingest.sentry.io/{r.randint(10**6, 10**7)}",
                   "SENTRY_DSN"),
    "openai": (lambda r: "sk-proj-" + rs(r, URLSAFE, 74) + "T3BlbkFJ" + rs(r, URLSAFE, 74), "OPENAI_API_KEY"),
    "anthropic": (lambda r: "sk-ant-api03-" + rs(r, URLSAFE, 93) + "AA", "ANTHROPIC_API_KEY"),
    "huggingface": (lambda r: "hf_" + rs(r, string.ascii_letters, 34), "HF_TOKEN"),
    "atlassian": (lambda r: "ATATT3" + rs(r, URLSAFE, 186), "JIRA_API_TOKEN"),
    "okta": (lambda r: "00" + rs(r, URLSAFE, 40), "OKTA_API_TOKEN"),
    "linear": (lambda r: "lin_api_" + rs(r, B62, 40), "LINEAR_API_KEY"),
    "doppler": (lambda r: "dp.pt." + rs(r, B62, 43), "DOPPLER_TOKEN"),
    "age": (lambda r: "AGE-SECRET-KEY-1" + rs(r, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58), "AGE_KEY"),
    "generic-password": (lambda r: r.choice(["Tr0ub4dor&", "S3cure!", "Pr0d-", "xK9#", "Blu3Sky$"]) + rs(r, B62 + "!#%&*-", 8),
                         "DB_PASSWORD"),
    "generic-api-key": (lambda r: rs(r, B62, 32), "PAYMENTS_API_KEY"),
    "generic-secret": (lambda r: rs(r, B64, 28), "APP_SECRET"),
}


# Formats for one assignment: (suffix, render(var, value) -> (text, line of value))
def _fmt_env(v: str, s: str) -> tuple[str, int]:
    return f"# service settings\nPORT=8080\n{v}={s}\nLOG_LEVEL=info\n", 3


def _fmt_yaml(v: str, s: str) -> tuple[str, int]:
    return f"service:\n  name: api\n  {v.lower()}: \"{s}\"\n  replicas: 2\n", 3


def _fmt_json(v: str, s: str) -> tuple[str, int]:
    return "{\n  \"name\": \"api\",\n  \"" + v.lower() + "\": \"" + s + "\",\n  \"debug\": false\n}\n", 3


def _fmt_props(v: str, s: str) -> tuple[str, int]:
    return f"app.name=api\nserver.port=8080\napp.{v.lower().replace('_', '.')}={s}\n", 3


def _fmt_sh(v: str, s: str) -> tuple[str, int]:
    return f"#!/bin/sh\nset -eu\nexport {v}=\"{s}\"\nexec /app/server\n", 3


def _fmt_py(v: str, s: str) -> tuple[str, int]:
    return f"import os\n\nDEBUG = False\n{v} = \"{s}\"\n\n\ndef main():\n    return {v}\n", 4


def _fmt_js(v: str, s: str) -> tuple[str, int]:
    return f"'use strict';\nmodule.exports = {{\n  port: 8080,\n  {v[0].lower() + v.title().replace('_', '')[1:]}: '{s}',\n}};\n", 4


def _fmt_docker(v: str, s: str) -> tuple[str, int]:
    return f"FROM python:3.12-slim\nWORKDIR /app\nENV {v}={s}\nCOPY . .\nCMD [\"python\", \"app.py\"]\n", 3


def _fmt_ini(v: str, s: str) -> tuple[str, int]:
    return f"[main]\nhost = 0.0.0.0\n{v.lower()} = {s}\n", 3


def _fmt_xml(v: str, s: str) -> tuple[str, int]:
    t = v.lower().replace("_", "-")
    return f"<?xml version=\"1.0\"?>\n<settings>\n  <host>db</host>\n  <{t}>{s}</{t}>\n</settings>\n", 4


def _fmt_tf(v: str, s: str) -> tuple[str, int]:
    return f"variable \"region\" {{\n  default = \"eu-west-1\"\n}}\n\nlocals {{\n  {v.lower()} = \"{s}\"\n}}\n", 6


def _fmt_k8s(v: str, s: str) -> tuple[str, int]:
    return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\nstringData:\n  {v}: \"{s}\"\n"), 7


FORMATS: dict[str, tuple[str, Callable[[str, str], tuple[str, int]]]] = {
    "env": (".env", _fmt_env), "yaml": ("config.yaml", _fmt_yaml), "json": ("config.json", _fmt_json),
    "properties": ("application.properties", _fmt_props), "shell": ("entrypoint.sh", _fmt_sh),
    "python": ("settings.py", _fmt_py), "js": ("config.js", _fmt_js), "dockerfile": ("Dockerfile", _fmt_docker),
    "ini": ("app.ini", _fmt_ini), "xml": ("settings.xml", _fmt_xml), "terraform": ("main.tf", _fmt_tf),
    "k8s-secret": ("secret.yaml", _fmt_k8s),
}


def multi_line(rng: random.Random) -> list[tuple[str, str, str, list[int]]]:
    """(type, file name, content, value lines) for the credential types that are files themselves."""
    out: list[tuple[str, str, str, list[int]]] = []
    for label, kind, name in (("RSA PRIVATE KEY", "rsa-private-key", "id_rsa"), ("EC PRIVATE KEY", "ec-private-key", "ec.pem"),
                              ("DSA PRIVATE KEY", "dsa-private-key", "dsa.pem"), ("PRIVATE KEY", "pkcs8-private-key", "key.pem"),
                              ("ENCRYPTED PRIVATE KEY", "encrypted-private-key", "enc.pem"),
                              ("OPENSSH PRIVATE KEY", "openssh-private-key", "id_ed25519"),
                              ("PGP PRIVATE KEY BLOCK", "pgp-private-key", "private.asc.txt")):
        out.append((kind, name, pem(rng, label, rng.choice([120, 300, 1200])) + "\n", [1]))
        body = "\n".join("    " + ln for ln in pem(rng, label, 600).splitlines())
        out.append((kind, "tls.yaml", f"tls:\n  enabled: true\n  key: |\n{body}\n", [4]))
    putty = ["PuTTY-User-Key-File-3: ssh-rsa", "Encryption: none", "Comment: deploy", "Public-Lines: 2",
             *pem_body(rng, 90)[:2], "Private-Lines: 4", *pem_body(rng, 180), "Private-MAC: " + rs(rng, HEX, 64)]
    out.append(("putty-private-key", "deploy.ppk", "\n".join(putty) + "\n", [1]))
    pk = "\\n".join(["-----BEGIN PRIVATE KEY-----", *pem_body(rng, 1200), "-----END PRIVATE KEY-----"]) + "\\n"
    sa = json.dumps({"type": "service_account", "project_id": "proj-" + rs(rng, string.digits, 5),
                     "private_key_id": rs(rng, HEX, 40), "private_key": pk, "client_email": "svc@proj.iam.gserviceaccount.com"},
                    indent=2)
    out.append(("gcp-service-account", "sa.json", sa + "\n", [5]))
    auth = base64.b64encode(f"deployer:{rs(rng, B62, 20)}".encode()).decode()
    out.append(("docker-config-auth", "config.json",
                json.dumps({"auths": {"registry.example.io": {"auth": auth}}}, indent=2) + "\n", [4]))
    out.append(("npmrc-auth-token", ".npmrc",
                f"registry=https://registry.npmjs.org/\n//npm.corp.io/:_authToken={rs(rng, URLSAFE, 40)}\n", [2]))
    out.append(("pypirc-password", ".pypirc",
                f"[distutils]\nindex-servers = corp\n\n[corp]\nrepository = https://pypi.corp.io/\nusername = ci\n"
                f"password = {rs(rng, B62, 18)}\n", [7]))
    akid, sec = "AKIA" + rs(rng, string.ascii_uppercase + "234567", 16), rs(rng, B64, 40)
    out.append(("aws-pair-csv", "credentials.csv", f"User name,Access key ID,Secret access key\nci,{akid},{sec}\n", [2, 2]))
    long_js = "var a=" + ",".join(f"x{i}=\"{rs(rng, string.ascii_lowercase, 8)}\"" for i in range(3000))
    tok = "sk_live_" + rs(rng, B62, 40)
    out.append(("stripe-live-minified", "bundle.min.js", long_js + f",stripeKey=\"{tok}\";" + long_js + "\n", [1]))
    sec2 = rs(rng, B64, 40)
    out.append(("aws-secret-continuation", "Dockerfile.split",
                f"FROM alpine\nRUN aws configure set aws_secret_access_key {sec2[:18]}\\\n{sec2[18:]} && true\n", [2]))
    return out


def negatives(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """Hard negatives: things that look like secrets and are not."""
    out: list[tuple[str, str]] = []
    for i in range(n):
        sha = rs(rng, HEX, 40)
        uuid = f"{rs(rng, HEX, 8)}-{rs(rng, HEX, 4)}-4{rs(rng, HEX, 3)}-a{rs(rng, HEX, 3)}-{rs(rng, HEX, 12)}"
        integrity = "sha512-" + base64.b64encode(rng.randbytes(64)).decode()
        prose = base64.b64encode(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit " + str(i).encode()).decode()
        pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rs(rng, B64, 43) + " ops@host"
        out += [
            (f"neg{i}/.env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
            (f"neg{i}/values.yaml", "db:\n  password: changeme\n  token: \"{{ .Values.token }}\"\n  apiKey: ${API_KEY}\n"),
            (f"neg{i}/settings.py", "PASSWORD = os.environ[\"DB_PASSWORD\"]\nsecret = get_secret('db')\ntoken = request.headers.get('X-Token')\n"),
            (f"neg{i}/docker-compose.yml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: <password>\n      MYSQL_PASSWORD: $(cat /run/secrets/db)\n"),
            (f"neg{i}/app.properties", "spring.datasource.password=password\nspring.datasource.url=jdbc:postgresql://db/app\n"),
            (f"neg{i}/package-lock.json", "{\n  \"node_modules/x\": {\n    \"resolved\": \"https://registry.npmjs.org/x/-/x-1.0.0.tgz\",\n"
                                         f"    \"integrity\": \"{integrity}\"\n  }}\n}}\n"),
            (f"neg{i}/build.txt", f"commit {sha}\nbuild-id: {uuid}\nchecksum sha256: {rs(rng, HEX, 64)}\n"),
            (f"neg{i}/data.yaml", f"blob: {prose}\nimage: registry.io/app@sha256:{rs(rng, HEX, 64)}\n"),
            (f"neg{i}/authorized_keys", pub + "\n"),
            (f"neg{i}/README.md", "Set `password: xxxxxxxx` and `API_KEY=your-api-key-here` then run\n"
                                  "`curl -H 'Authorization: Bearer <token>'`. Lorem ipsum dolor sit amet.\n"),
            (f"neg{i}/doc.md", "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n"),
            (f"neg{i}/jwt.md", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
                               "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n"),
            (f"neg{i}/db.env", "DATABASE_URL=postgres://user:password@localhost:5432/app\nREDIS_URL=redis://localhost:6379/0\n"),
            (f"neg{i}/tokens.ts", f"const tokenizer = new Tokenizer('{rs(rng, string.ascii_lowercase, 12)}');\n"
                                  "const passwordField = 'password';\nexport const TOKEN_TYPE = 'Bearer';\n"),
            (f"neg{i}/ci.yml", "steps:\n  - run: deploy\n    env:\n      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n"
                               "      NPM_TOKEN: ${NPM_TOKEN}\n"),
            (f"neg{i}/hashes.txt", f"password_hash: $2b$12${rs(rng, B62 + './', 53)}\nmd5: {rs(rng, HEX, 32)}\n"),
            (f"neg{i}/ghp.md", "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nsk_live_" + "0" * 24 + "\n"),
            (f"neg{i}/main.go", f"package main\n\nconst version = \"{rs(rng, HEX, 7)}\"\nvar id = \"{uuid}\"\n"),
        ]
    return out


@dataclass
class Corpus:
    root: Path
    truth: dict[tuple[str, int], str] = field(default_factory=dict)  # (file, line) -> type
    spans: dict[tuple[str, int], int] = field(default_factory=dict)  # (file, line) -> first line of the secret


def build(root: Path, seed: int, per_type: int) -> Corpus:
    rng = random.Random(seed)
    c = Corpus(root)

    def write(rel: str, text: str, kind: str | None, lines: list[int]) -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        for ln in lines:
            if kind:
                c.truth[(rel, ln)] = kind
        if kind and len(text.splitlines()) > 1 and ("-----BEGIN" in text or "PuTTY" in text):
            first = lines[0]
            for k in range(first, first + len(text.splitlines())):
                c.spans[(rel, k)] = first

    fmts = list(FORMATS)
    for n, (kind, (gen, var)) in enumerate(SINGLE.items()):
        for j in range(per_type):
            fmt = fmts[(j + n) % len(fmts)]
            name, render = FORMATS[fmt]
            text, line = render(var, gen(rng))
            write(f"pos/{kind}/{j}-{fmt}/{name}", text, kind, [line])
    for j in range(per_type):
        for kind, name, text, lines in multi_line(rng):
            write(f"pos/{kind}/{j}/{name}", text, kind, sorted(set(lines)))
    for rel, text in negatives(rng, per_type):
        write("neg/" + rel, text, None, [])
    return c


def ours(root: Path) -> set[tuple[str, int]]:
    a = ANALYZERS[0]
    out: set[tuple[str, int]] = set()
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath, f)
            rel = p.relative_to(root).as_posix()
            data = p.read_bytes()
            if not a.wants(rel, 0o100644, len(data)):
                continue
            for finding in a.parse(rel, data, None):  # type: ignore[arg-type]
                out.add((rel, finding.location.start_line))
    return out


def detect_secrets(root: Path) -> set[tuple[str, int]] | None:
    exe = shutil.which("detect-secrets") or str(Path(sys.executable).with_name("detect-secrets"))
    if not Path(exe).exists():
        return None
    r = subprocess.run([exe, "scan", "--all-files", "."], cwd=root, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        print("detect-secrets failed:", r.stderr[-500:], file=sys.stderr)
        return None
    res = json.loads(r.stdout)["results"]
    return {(f, int(x["line_number"])) for f, xs in res.items() for x in xs}


def score(c: Corpus, found: set[tuple[str, int]]) -> tuple[float, float, dict[str, tuple[int, int]], int, int]:
    norm = {(f, c.spans.get((f, ln), ln)) for f, ln in found}
    tp = norm & set(c.truth)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for k, kind in c.truth.items():
        per[kind][1] += 1
        per[kind][0] += k in tp
    recall = len(tp) / len(c.truth)
    precision = len(tp) / len(norm) if norm else 0.0
    return recall, precision, {k: (v[0], v[1]) for k, v in per.items()}, len(tp), len(norm) - len(tp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--per-type", type=int, default=6)
    ap.add_argument("--keep", help="write the corpus here and keep it")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="secrets-labelled-"))
    try:
        c = build(tmp, args.seed, args.per_type)
        files = sum(len(fs) for _, _, fs in os.walk(tmp))
        print(f"corpus: {files} files, {len(c.truth)} labelled secrets of {len(set(c.truth.values()))} types (seed {args.seed})")
        t0 = time.perf_counter()
        mine = ours(tmp)
        t1 = time.perf_counter()
        theirs = detect_secrets(tmp)
        t2 = time.perf_counter()
        r1, p1, per1, tp1, fp1 = score(c, mine)
        per2: dict[str, tuple[int, int]] = {}
        if theirs is not None:
            r2, p2, per2, tp2, fp2 = score(c, theirs)
        print(f"\n{'type':32} {'ours':>9} {'detect-secrets':>15}")
        for kind in sorted(per1):
            a, n = per1[kind]
            b = f"{per2[kind][0]}/{n}" if kind in per2 else "-"
            print(f"{kind:32} {a:>4}/{n:<4} {b:>15}")
        print(f"\ncontainment     recall {r1:.3f}  precision {p1:.3f}  (TP {tp1}, FP {fp1})  {t1 - t0:.2f} s")
        if theirs is not None:
            print(f"detect-secrets  recall {r2:.3f}  precision {p2:.3f}  (TP {tp2}, FP {fp2})  {t2 - t1:.2f} s")
            print(f"ratio ours/theirs: recall {r1 / r2 if r2 else float('inf'):.2f}x, "
                  f"precision {p1 / p2 if p2 else float('inf'):.2f}x")
        if args.show_misses:
            norm = {(f, c.spans.get((f, ln), ln)) for f, ln in mine}
            for k in sorted(set(c.truth) - norm):
                print("MISS", k, c.truth[k])
            for k in sorted(norm - set(c.truth)):
                print("FP  ", k)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
