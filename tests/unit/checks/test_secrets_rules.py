"""Every secret rule: one positive it must find, one hard negative (same shape, not a secret) it must not."""

from __future__ import annotations

import base64
import json
import random
import string
import zlib

import pytest

from containment.checks.secret_rules import RULES, github_checksum, jwt_structure
from containment.checks.secrets import ANALYZERS

R = random.Random(7)
B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
URL = B62 + "_-"
UP = string.ascii_uppercase + "234567"


def r(alpha: str, n: int) -> str:
    return "".join(R.choice(alpha) for _ in range(n))


def pem(label: str) -> str:
    body = base64.b64encode(R.randbytes(600)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"


def b64url(d: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")


AKID = "AKIA" + r(UP, 16)
GCP_PK = "\\n".join(["-----BEGIN PRIVATE KEY-----", base64.b64encode(R.randbytes(900)).decode(), "-----END PRIVATE KEY-----"])
JWT = b64url({"alg": "HS256", "typ": "JWT"}) + "." + b64url({"sub": "svc-42", "iat": 1700000000}) + "." + r(URL, 43)

# rule id -> (file name, positive content, hard negative content)
CASES: dict[str, tuple[str, str, str]] = {
    "CTM-SEC-001": ("a.env", f"KEY_ID={AKID}\n", "KEY_ID=AKIAIOSFODNN7EXAMPLE\n"),
    "CTM-SEC-002": ("a.ini", f"aws_secret_access_key = {r(B62 + '+/', 40)}\n",
                    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
    "CTM-SEC-003": ("c.csv", f"id,secret\n{AKID},{r(B62, 38)}+/\n", f"id,sha\n{AKID[:4]}x,{r(HEX, 40)}\n"),
    "CTM-SEC-004": ("sa.json", json.dumps({"type": "service_account", "private_key": GCP_PK}),
                    json.dumps({"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----"})),
    "CTM-SEC-005": ("m.js", f"const k = 'AIza{r(URL, 35)}';\n", "const k = 'AIzaxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';\n"),
    "CTM-SEC-006": ("a.env", "CONN=DefaultEndpointsProtocol=https;AccountName=x;AccountKey="
                    + base64.b64encode(R.randbytes(64)).decode() + ";\n",
                    "CONN=DefaultEndpointsProtocol=https;AccountName=x;AccountKey=<key>;\n"),
    "CTM-SEC-007": ("a.env", f"CS={r(B62, 3)}8Q~{r(B62, 34)}\n", "CS=abc8Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"),
    "CTM-SEC-013": ("a.env", f"T=github_pat_{r(B62, 22)}_{r(B62, 59)}\n", "T=github_pat_" + "x" * 22 + "_" + "x" * 59 + "\n"),
    "CTM-SEC-014": ("a.env", f"T=glpat-{r(URL, 20)}\n", "T=glpat-xxxxxxxxxxxxxxxxxxxx\n"),
    "CTM-SEC-015": ("a.env", f"T=glrt-{r(URL, 20)}\n", "T=glrt-<runner-token-here>\n"),
    "CTM-SEC-016": ("a.env", f"T=gldt-{r(URL, 20)}\n", "T=gldt-xxxxxxxxxxxxxxxxxxxx\n"),
    "CTM-SEC-017": ("a.env", f"T=ATBB{r(B62, 32)}\n", "T=ATBB" + "x" * 32 + "\n"),
    "CTM-SEC-018": ("a.env", f"T=xoxb-293847561029-918273645501-{r(B62, 24)}\n", "T=xoxb-your-token\n"),
    "CTM-SEC-019": ("a.env", f"U=https://hooks.slack.com/services/T{r(UP, 8)}/B{r(UP, 8)}/{r(B62, 24)}\n",
                    "U=https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX\n"),
    "CTM-SEC-020": ("a.env", f"U=https://discord.com/api/webhooks/918273645501928374/{r(URL, 68)}\n",
                    "U=https://discord.com/api/webhooks/123456789012345678/xxxxxxxx\n"),
    "CTM-SEC-021": ("bot.py", f"# discord bot\nDISCORD = 'M{r(URL, 23)}.{r(URL, 6)}.{r(URL, 27)}'\n",
                    f"# no chat here\nX = 'M{r(URL, 23)}.{r(URL, 6)}.{r(URL, 27)}'\n"),
    "CTM-SEC-022": ("a.env", f"T=918273645:AA{r(URL, 33)}\n", "T=123456789:AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"),
    "CTM-SEC-023": ("a.env", f"TWILIO_KEY=SK{r(HEX, 32)}\n", f"CHECKSUM=SK{r(HEX, 32)}\n"),
    "CTM-SEC-024": ("a.env", f"K=SG.{r(URL, 22)}.{r(URL, 43)}\n", "K=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"),
    "CTM-SEC-025": ("a.env", f"K=key-{r(HEX, 32)}\n", "K=key-00000000000000000000000000000000\n"),
    "CTM-SEC-026": ("a.env", f"K={r(HEX, 32)}-us14\n", "K=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-us14\n"),
    "CTM-SEC-027": ("a.env", f"K=sk_live_{r(B62, 32)}\n", f"K=sk_test_{r(B62, 32)}\n"),
    "CTM-SEC-028": ("a.env", f"K=rk_live_{r(B62, 32)}\n", f"K=rk_test_{r(B62, 32)}\n"),
    "CTM-SEC-029": ("a.env", f"K=access_token$production${r(string.ascii_lowercase, 16)}${r(HEX, 32)}\n",
                    f"K=access_token$sandbox${r(string.ascii_lowercase, 16)}${r(HEX, 32)}\n"),
    "CTM-SEC-030": ("a.env", f"K=EAAA{r(URL, 60)}\n", "K=EAAA" + "x" * 60 + "\n"),
    "CTM-SEC-031": ("a.env", f"K=shpat_{r(HEX, 32)}\n", "K=shpat_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"),
    "CTM-SEC-032": ("a.env", f"K=npm_{r(B62, 36)}\n", "K=npm_" + "x" * 36 + "\n"),
    "CTM-SEC-033": ("a.env", f"K=pypi-AgEIcHlwaS5vcmc{r(URL, 70)}\n", "K=pypi-AgEIcHlwaS5vcmc" + "x" * 70 + "\n"),
    "CTM-SEC-034": ("a.env", f"K=rubygems_{r(HEX, 48)}\n", "K=rubygems_" + "0" * 48 + "\n"),
    "CTM-SEC-035": ("a.env", f"K=oy2{r(string.ascii_lowercase + string.digits, 43)}\n", "K=oy2" + "a" * 43 + "\n"),
    "CTM-SEC-036": ("a.env", f"K=dckr_pat_{r(URL, 27)}\n", "K=dckr_pat_xxxxxxxxxxxxxxxxxxxxxxxxxxx\n"),
    "CTM-SEC-037": ("config.json", json.dumps({"auths": {"r.io": {"auth": base64.b64encode(b"ci:" + r(B62, 20).encode()).decode()}}}),
                    json.dumps({"auths": {"r.io": {"auth": base64.b64encode(b"no colon here at all").decode()}}})),
    "CTM-SEC-038": (".npmrc", f"//npm.corp.io/:_authToken={r(URL, 40)}\n", "//npm.corp.io/:_authToken=${NPM_TOKEN}\n"),
    "CTM-SEC-039": (".pypirc", f"[corp]\nrepository = https://p.io\nusername = ci\npassword = {r(B62, 18)}\n",
                    "[corp]\nrepository = https://p.io\nusername = ci\npassword = <your password>\n"),
    "CTM-SEC-040": ("id_rsa", pem("RSA PRIVATE KEY"), "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n"),
    "CTM-SEC-041": ("ec.pem", pem("EC PRIVATE KEY"), pem("EC PARAMETERS")),
    "CTM-SEC-042": ("dsa.pem", pem("DSA PRIVATE KEY"), pem("DSA PARAMETERS")),
    "CTM-SEC-043": ("k.pem", pem("PRIVATE KEY"), pem("PUBLIC KEY")),
    "CTM-SEC-044": ("k.pem", pem("ENCRYPTED PRIVATE KEY"), pem("CERTIFICATE")),
    "CTM-SEC-045": ("id_ed25519", pem("OPENSSH PRIVATE KEY"), f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{r(B62, 43)} me@h\n"),
    "CTM-SEC-046": ("k.txt", pem("PGP PRIVATE KEY BLOCK"), pem("PGP PUBLIC KEY BLOCK")),
    "CTM-SEC-047": ("k.ppk", "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nPrivate-Lines: 3\n"
                    + base64.b64encode(R.randbytes(140)).decode() + "\nPrivate-MAC: 00\n",
                    "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nPrivate-Lines: 3\n...\n"),
    "CTM-SEC-048": ("a.env", f"SESSION={JWT}\n",
                    "T=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
                    "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n"),
    "CTM-SEC-049": ("a.env", f"DB=postgresql://app:{r(B62, 14)}@db:5432/app\n", "DB=postgresql://user:password@localhost:5432/app\n"),
    "CTM-SEC-050": ("a.env", f"V=hvs.{r(URL, 90)}\n", f"V=s.{r(B62, 24)}\n"),  # legacy s. tokens need a vault context
    "CTM-SEC-051": ("a.env", f"T={r(B62, 14)}.atlasv1.{r(URL, 67)}\n", "T=xxxxxxxxxxxxxx.atlasv1." + "x" * 67 + "\n"),
    "CTM-SEC-052": ("a.env", f"T=HRKU-{r(URL, 60)}\n", "HEROKU_APP_ID=2c1a6a45-0000-0000-0000-000000000000\n"),
    "CTM-SEC-053": ("a.env", f"T=dop_v1_{r(HEX, 64)}\n", "T=dop_v1_" + "0" * 64 + "\n"),
    "CTM-SEC-054": ("a.env", f"DD_API_KEY={r(HEX, 32)}\n", "DD_API_KEY=<datadog api key>\n"),
    "CTM-SEC-055": ("a.env", f"K=NRAK-{r(string.ascii_uppercase + string.digits, 27)}\n", "K=NRAK-XXXXXXXXXXXXXXXXXXXXXXXXXXX\n"),
    "CTM-SEC-056": ("a.env", f"DSN=https://{r(HEX, 32)}@o12345.ingest.sentry.io/123456\n",
                    "DSN=https://examplePublicKey@o0.ingest.sentry.io/0\n"),
    "CTM-SEC-057": ("a.env", f"T=sntrys_{r(URL, 60)}\n", "T=sntrys_" + "x" * 60 + "\n"),
    "CTM-SEC-058": ("a.env", f"K=sk-proj-{r(URL, 40)}T3BlbkFJ{r(URL, 40)}\n", f"K=sk-{r(URL, 48)}\n"),
    "CTM-SEC-059": ("a.env", f"K=sk-ant-api03-{r(URL, 93)}AA\n", "K=sk-ant-api03-xxxxxxxx\n"),
    "CTM-SEC-060": ("a.env", f"K=hf_{r(string.ascii_letters, 34)}\n", "K=hf_" + "x" * 34 + "\n"),
    "CTM-SEC-061": ("a.env", f"K=ATATT3{r(URL, 186)}\n", "JIRA_TOKEN=<your-jira-token>\n"),
    "CTM-SEC-062": ("a.env", f"OKTA_API_TOKEN=00{r(URL, 40)}\n", f"OKTA_ORG_ID=00{r(string.ascii_lowercase, 18)}\n"),
    "CTM-SEC-063": ("a.env", f"K=lin_api_{r(B62, 40)}\n", "K=lin_api_" + "x" * 40 + "\n"),
    "CTM-SEC-064": ("a.env", f"K=dp.pt.{r(B62, 43)}\n", "K=dp.pt." + "x" * 43 + "\n"),
    "CTM-SEC-065": ("a.env", "K=AGE-SECRET-KEY-1" + r("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58) + "\n",
                    "age1" + r("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58) + "\n"),
    "CTM-SEC-066": ("app.yaml", f"db:\n  password: 'Tr0ub4dor&{r(B62, 6)}'\n", "db:\n  password: changeme\n"),
    "CTM-SEC-067": ("run.sh", f"curl -H \"Authorization: Bearer {r(URL, 40)}\" https://api.io\n",
                    "curl -H \"Authorization: Bearer $TOKEN\" https://api.io\n"),
    "CTM-SEC-068": ("Dockerfile", f"RUN git clone https://ci:{r(B62, 20)}@git.corp.io/app.git\n",
                    "RUN git clone https://git.corp.io/app.git\n"),
}
for _n, _p in ((8, "ghp"), (9, "gho"), (10, "ghu"), (11, "ghs"), (12, "ghr")):
    CASES[f"CTM-SEC-{_n:03d}"] = ("a.env", f"T={_p}_{r(B62, 36)}\n", f"T={_p}_" + "x" * 36 + "\n")


def _ids(name: str, text: str) -> set[str]:
    return {f.rule.id for f in ANALYZERS[0].parse(name, text.encode(), None)}  # type: ignore[arg-type]


def test_every_rule_has_a_case() -> None:
    assert {r.id for r in RULES} == set(CASES)
    assert len(RULES) >= 40
    assert all(r.kind == "secret" and r.remediation and r.rationale for r in RULES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_positive(rule_id: str) -> None:
    name, pos, _ = CASES[rule_id]
    assert rule_id in _ids(name, pos)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_hard_negative(rule_id: str) -> None:
    name, _, neg = CASES[rule_id]
    assert _ids(name, neg) == set()


def test_github_checksum() -> None:
    body = r(B62, 30)
    crc = zlib.crc32(body.encode())
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    while crc:
        crc, m = divmod(crc, 62)
        out = digits[m] + out
    good = "ghp_" + body + out.rjust(6, "0")
    assert github_checksum(good)
    assert not github_checksum(good[:-1] + ("A" if good[-1] != "A" else "B"))
    # a valid checksum accepts even a token the placeholder filter would drop
    weird = "ghp_" + "1234567890" + r(B62, 20)
    w = weird + _b62crc(weird[4:])
    assert "CTM-SEC-008" in _ids("a.env", f"T={w}\n")


def _b62crc(body: str) -> str:
    crc = zlib.crc32(body.encode())
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    while crc:
        crc, m = divmod(crc, 62)
        out = digits[m] + out
    return out.rjust(6, "0")


def test_jwt_structure() -> None:
    assert jwt_structure(JWT)
    assert not jwt_structure("eyJub3QganNvbg.eyJhIjoxfQ.sig")
    assert not jwt_structure(b64url({"typ": "JWT"}) + "." + b64url({"a": 1}) + ".x")  # no alg
