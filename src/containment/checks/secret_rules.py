"""The catalogue of credential types the secret scanner knows: one `Rule` (id CTM-SEC-nnn) each,
plus the pattern data that finds it (regex with the secret in group `s`, lowercase keywords
for the prefilter, an entropy floor, an optional checksum / structure validator).

Patterns are written for this project from the providers' published token formats; every
quantifier is bounded so a hostile file cannot make a pattern backtrack without end. The
engine (checks/secrets.py) runs a pattern only when one of its keywords is in the file.
The generic `password = "literal"` rule is code (`GENERIC`), not a regex, so it can look at
the key name, the quoting and the file type.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from containment.model import Rule

Check = Callable[[str], bool]
Context = Callable[[str, int, int], bool]


@dataclass(frozen=True)
class SecretPattern:
    """How one rule is found. `validate` rejects a candidate secret (structure, decoding);
    `checksum` accepts one outright (a token whose built-in checksum holds is never a
    placeholder); `context` looks around the match in the whole text."""

    rule: Rule
    regex: re.Pattern[str]
    keywords: tuple[str, ...]
    entropy: float = 0.0  # minimum Shannon entropy (bits per char) of the secret
    validate: Check | None = None
    checksum: Check | None = None
    context: Context | None = None
    priority: int = 0  # higher wins when two rules claim the same bytes
    boundary: bool = False  # the secret must not follow a token char ([A-Za-z0-9_-]); checked in code
    # so the regex starts with its literal prefix, which `re` searches for fast


# ---------------------------------------------------------------------------- validators

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = _B62[r] + out
    return out.rjust(width, "0")


def github_checksum(token: str) -> bool:
    """GitHub's 2021 token format: the last 6 chars are base62(CRC32(the 30 random chars))."""
    body = token.split("_", 1)[-1]
    if len(body) != 36:
        return False
    return _base62(zlib.crc32(body[:30].encode()), 6) == body[30:]


def _b64decode(s: str) -> bytes | None:
    s = s.strip().replace("\\n", "")
    try:
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=False)
    except (binascii.Error, ValueError):
        return None


def b64_userpass(s: str) -> bool:
    """base64 of `user:password` with both parts printable and the password not empty."""
    raw = _b64decode(s)
    if raw is None:
        return False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    user, sep, pw = text.partition(":")
    return bool(sep and user and pw) and text.isprintable() and len(pw) >= 3


def _b64url_json(part: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def jwt_structure(token: str) -> bool:
    """Header and payload decode to JSON objects, the header names an `alg`; jwt.io's sample
    token (John Doe) is documentation, not a credential."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    header, payload = _b64url_json(parts[0]), _b64url_json(parts[1])
    if not isinstance(header, dict) or "alg" not in header or not isinstance(payload, dict):
        return False
    return payload.get("name") != "John Doe"


def pem_body(body: str) -> bool:
    """A PEM body holds enough base64 (after headers, escapes, indentation, quotes) to be a key."""
    lines = re.split(r"\\r|\\n|[\r\n]", body)
    chars = "".join(
        ln.strip().strip("\"',+ ") for ln in lines if ":" not in ln
    )  # Proc-Type:, DEK-Info:, Comment: headers
    b64 = sum(c.isalnum() or c in "+/=" for c in chars)
    if b64 < 64 or b64 < 0.9 * len(chars):
        return False
    return len(set(chars)) >= 20


# ---------------------------------------------------------------------------- catalogue

_RULES: list[Rule] = []
PATTERNS: list[SecretPattern] = []
_REVOKE = "Revoke the {what} at {where}, issue a new one, and remove it from every layer (rebuild the image without it; a later `rm` does not remove it from earlier layers)."
_END = r"(?![A-Za-z0-9_\-])"
_START = r"(?<![A-Za-z0-9_\-])"


def _add(
    n: int,
    title: str,
    severity: str,
    regex: str,
    keywords: tuple[str, ...],
    where: str,
    *,
    what: str = "credential",
    entropy: float = 0.0,
    validate: Check | None = None,
    checksum: Check | None = None,
    context: Context | None = None,
    priority: int = 0,
    flags: int = 0,
    rationale: str = "",
) -> Rule:
    boundary = regex.startswith(_START)
    if boundary:
        regex = regex[len(_START) :]
    rule = Rule(
        id=f"CTM-SEC-{n:03d}",
        title=title,
        severity=severity,
        kind="secret",
        rationale=rationale or f"A {title} in an image or repository gives anyone who can pull it the holder's access.",
        remediation=_REVOKE.format(what=what, where=where),
    )
    _RULES.append(rule)
    PATTERNS.append(
        SecretPattern(rule, re.compile(regex, flags), keywords, entropy, validate, checksum, context, priority, boundary)
    )
    return rule


_AKID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Z0-9])")


def _near_akid(text: str, start: int, end: int) -> bool:
    return _AKID.search(text, max(0, start - 400), min(len(text), end + 400)) is not None


def _near_service_account(text: str, start: int, end: int) -> bool:
    return "service_account" in text[max(0, start - 4000) : end + 4000]


_add(1, "AWS access key ID", "CRITICAL", r"(?<![A-Z0-9])(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Z0-9])",
     ("akia", "asia", "abia", "acca"), "AWS IAM (and its secret access key)", what="access key", entropy=3.0)
_add(2, "AWS secret access key", "CRITICAL",
     r"(?i)(?:aws_?secret_?access_?key|secret_?access_?key|aws_?secret_?key|aws_?secret)[\"']?(?:[ \t]{0,4}(?:=|:=|:|=>|,)[ \t]{0,4}|[ \t]{1,4})[\"']?"
     r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
     ("secret_access_key", "secretaccesskey", "aws_secret", "awssecret", "secret-access-key"), "AWS IAM",
     what="access key", entropy=4.0, priority=2)
_add(3, "AWS secret access key (beside an access key ID)", "CRITICAL",
     r"(?<![A-Za-z0-9/+=])(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
     ("akia", "asia"), "AWS IAM", what="access key", entropy=4.2, context=_near_akid, priority=1,
     validate=lambda s: any(c.isdigit() for c in s) and any(c.isupper() for c in s) and any(c.islower() for c in s))
_add(4, "GCP service account private key", "CRITICAL",
     r"\"private_key\"[ \t]{0,4}:[ \t]{0,4}\"-----BEGIN PRIVATE KEY-----(?P<s>[^\"]{64,8000}?)-----END PRIVATE KEY-----",
     ("service_account",), "Google Cloud IAM (service account keys)", what="service account key",
     validate=pem_body, context=_near_service_account, priority=3)
_add(5, "GCP API key", "HIGH", _START + r"(?P<s>AIza[0-9A-Za-z_\-]{35})" + _END, ("aiza",),
     "Google Cloud console (APIs & Services > Credentials)", what="API key", entropy=3.5)
_add(6, "Azure storage account key", "CRITICAL",
     r"(?i)AccountKey[ \t]{0,2}=[ \t]{0,2}(?P<s>[A-Za-z0-9+/]{86}==)",
     ("accountkey",), "the Azure portal (storage account > Access keys: rotate)", what="storage key", entropy=4.5)
_add(7, "Azure AD client secret", "CRITICAL",
     r"(?<![A-Za-z0-9_~.\-])(?P<s>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?![A-Za-z0-9_~.\-])", ("q~",),
     "Entra ID (app registration > Certificates & secrets)", what="client secret", entropy=3.5)
for _n, _p, _kind in ((8, "ghp", "personal access token"), (9, "gho", "OAuth access token"),
                      (10, "ghu", "user-to-server token"), (11, "ghs", "server-to-server token"),
                      (12, "ghr", "refresh token")):
    _add(_n, f"GitHub {_kind}", "CRITICAL", _START + rf"(?P<s>{_p}_[A-Za-z0-9]{{36}})" + _END, (f"{_p}_",),
         "GitHub (Settings > Developer settings)", what="token", entropy=3.5, checksum=github_checksum)
_add(13, "GitHub fine-grained personal access token", "CRITICAL",
     _START + r"(?P<s>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})" + _END, ("github_pat_",),
     "GitHub (Settings > Developer settings)", what="token", entropy=3.5)
_add(14, "GitLab personal access token", "CRITICAL", _START + r"(?P<s>glpat-[A-Za-z0-9_\-]{20,64})" + _END,
     ("glpat-",), "GitLab (User settings > Access tokens)", what="token", entropy=3.0)
_add(15, "GitLab runner token", "HIGH", _START + r"(?P<s>(?:glrt-|GR1348941)[A-Za-z0-9_\-]{20,64})" + _END,
     ("glrt-", "gr1348941"), "GitLab (CI/CD > Runners: reset the token)", what="runner token", entropy=3.0)
_add(16, "GitLab deploy token", "HIGH", _START + r"(?P<s>(?:gldt-|glptt-|glcbt-|gloas-)[A-Za-z0-9_\-]{20,64})" + _END,
     ("gldt-", "glptt-", "glcbt-", "gloas-"), "GitLab (Settings > Repository > Deploy tokens)", what="token",
     entropy=3.0)
_add(17, "Bitbucket app password or access token", "HIGH",
     _START + r"(?P<s>(?:ATBB|ATCTT3)[A-Za-z0-9_=.\-]{28,200})" + _END, ("atbb", "atctt3"),
     "Bitbucket (Personal settings > App passwords)", what="app password", entropy=3.5)
_add(18, "Slack token", "HIGH", _START + r"(?P<s>xox[abposre]-(?:\d{1,14}-){1,3}[A-Za-z0-9\-]{8,64}|xapp-\d-[A-Z0-9]{6,14}-\d{6,16}-[a-f0-9]{32,80})" + _END,
     ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xapp-"), "Slack (app settings > OAuth & Permissions)",
     what="token", entropy=3.0)
_add(19, "Slack incoming webhook URL", "MEDIUM",
     r"(?P<s>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9]{8,12}/[A-Za-z0-9]{8,12}/[A-Za-z0-9]{20,30})",
     ("hooks.slack.com",), "Slack (delete and recreate the webhook)", what="webhook", entropy=3.5)
_add(20, "Discord webhook URL", "MEDIUM",
     r"(?P<s>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{15,20}/[A-Za-z0-9_\-]{60,70})",
     ("discord",), "Discord (channel settings > Integrations)", what="webhook", entropy=3.5)
_add(21, "Discord bot token", "HIGH",
     _START + r"(?P<s>[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40})" + _END,
     ("discord",), "the Discord developer portal (Bot > Reset token)", what="bot token", entropy=4.0)
_add(22, "Telegram bot token", "HIGH", r"(?<![0-9])(?P<s>\d{8,10}:AA[0-9A-Za-z_\-]{33})" + _END,
     (":aa",), "Telegram (@BotFather /revoke)", what="bot token", entropy=3.5)
_add(23, "Twilio API key", "HIGH", _START + r"(?P<s>SK[0-9a-f]{32})" + _END, ("twilio",),
     "Twilio (Console > API keys)", what="API key", entropy=3.0,
     context=lambda t, s, e: "twilio" in t[max(0, s - 300) : e + 300].lower())
_add(24, "SendGrid API key", "HIGH", _START + r"(?P<s>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})" + _END, ("sg.",),
     "SendGrid (Settings > API keys)", what="API key", entropy=4.0)
_add(25, "Mailgun API key", "HIGH",
     _START + r"(?P<s>key-[0-9a-f]{32}|[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})" + _END, ("key-", "mailgun"),
     "Mailgun (API security)", what="API key", entropy=3.0,
     context=lambda t, s, e: t[s : s + 4] == "key-" or "mailgun" in t[max(0, s - 300) : e + 300].lower())
_add(26, "Mailchimp API key", "HIGH", r"(?<![0-9a-f])(?P<s>[0-9a-f]{32}-us\d{1,2})(?![0-9])", ("-us",),
     "Mailchimp (Account > Extras > API keys)", what="API key", entropy=3.0)
_add(27, "Stripe live secret key", "CRITICAL", _START + r"(?P<s>sk_live_[0-9A-Za-z]{24,99})" + _END, ("sk_live_",),
     "the Stripe dashboard (Developers > API keys: roll key)", what="secret key", entropy=3.5)
_add(28, "Stripe live restricted key", "HIGH", _START + r"(?P<s>rk_live_[0-9A-Za-z]{24,99})" + _END, ("rk_live_",),
     "the Stripe dashboard (Developers > API keys)", what="restricted key", entropy=3.5)
_add(29, "PayPal Braintree access token", "CRITICAL",
     r"(?P<s>access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})", ("access_token$production$",),
     "Braintree (API keys)", what="access token", entropy=3.0)
_add(30, "Square access token or OAuth secret", "CRITICAL",
     _START + r"(?P<s>(?:EAAA[A-Za-z0-9_\-]{60}|sq0atp-[0-9A-Za-z_\-]{22}|sq0csp-[0-9A-Za-z_\-]{43}))" + _END,
     ("eaaa", "sq0atp-", "sq0csp-"), "the Square developer dashboard", what="token", entropy=3.5)
_add(31, "Shopify access token or shared secret", "HIGH",
     _START + r"(?P<s>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + _END, ("shpat_", "shpca_", "shppa_", "shpss_"),
     "the Shopify admin (Apps > uninstall or rotate)", what="token", entropy=3.0)
_add(32, "npm access token", "HIGH", _START + r"(?P<s>npm_[A-Za-z0-9]{36})" + _END, ("npm_",),
     "npmjs.com (Access Tokens)", what="token", entropy=3.5, checksum=github_checksum)
_add(33, "PyPI API token", "HIGH", _START + r"(?P<s>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,300})" + _END,
     ("pypi-ageichlwas5vcmc",), "pypi.org (Account settings > API tokens)", what="token", entropy=3.5)
_add(34, "RubyGems API key", "HIGH", _START + r"(?P<s>rubygems_[a-f0-9]{48})" + _END, ("rubygems_",),
     "rubygems.org (Settings > API keys)", what="API key", entropy=3.0)
_add(35, "NuGet API key", "HIGH", _START + r"(?P<s>oy2[a-z0-9]{43})" + _END, ("oy2",),
     "nuget.org (API keys)", what="API key", entropy=3.5)
_add(36, "Docker Hub personal access token", "HIGH", _START + r"(?P<s>dckr_pat_[A-Za-z0-9_\-]{27,40})" + _END,
     ("dckr_pat_",), "Docker Hub (Account settings > Personal access tokens)", what="token", entropy=3.5)
_add(37, "Registry credentials in a docker config.json", "CRITICAL",
     r"\"(?:auth|identitytoken)\"[ \t]{0,4}:[ \t]{0,4}\"(?P<s>[A-Za-z0-9+/=_.\-]{12,4000})\"",
     ("\"auth\"", "\"identitytoken\""), "the registry (change the password or revoke the token)",
     what="registry password", validate=lambda s: b64_userpass(s) or s.count(".") == 2, priority=1)
_add(38, ".npmrc registry auth token", "HIGH",
     r"(?m)(?:^|[\s:])_(?:authToken|auth|password)[ \t]{0,4}=[ \t]{0,4}[\"']?(?P<s>[^\s\"'$]{12,400})",
     ("_authtoken", "_auth", "_password"), "the npm registry (revoke the token)", what="token", entropy=3.0, priority=1)
_add(39, ".pypirc password", "HIGH",
     r"(?m)^\[(?:pypi|testpypi|distutils|[\w.-]{1,40})\][^\[]{0,400}?^password[ \t]{0,4}[=:][ \t]{0,4}(?P<s>[^\s]{6,400})",
     ("[pypi]", "[testpypi]", "repository"), "the package index (change the password / revoke the token)",
     what="password", entropy=2.5, priority=1,
     context=lambda t, s, e: "username" in t[max(0, s - 600) : s] or "repository" in t[max(0, s - 600) : s])


def _pem(n: int, title: str, label: str, severity: str = "CRITICAL", what: str = "key pair") -> None:
    _add(n, title, severity,
         rf"-----BEGIN {label}-----(?P<s>[\s\S]{{40,16000}}?)-----END {label}-----",
         (f"begin {label.lower()}",), "every system that trusts it (replace the key pair, remove the public key from authorized_keys / the CA)",
         what=what, validate=pem_body, priority=2)


_pem(40, "RSA private key (PKCS#1 PEM)", "RSA PRIVATE KEY")
_pem(41, "EC private key (PEM)", "EC PRIVATE KEY")
_pem(42, "DSA private key (PEM)", "DSA PRIVATE KEY")
_pem(43, "Private key (PKCS#8 PEM)", "PRIVATE KEY")
_pem(44, "Encrypted private key (PKCS#8 PEM)", "ENCRYPTED PRIVATE KEY", severity="MEDIUM")
_pem(45, "OpenSSH private key", "OPENSSH PRIVATE KEY")
_pem(46, "PGP private key block", "PGP PRIVATE KEY BLOCK")
_add(47, "PuTTY private key", "CRITICAL",
     r"PuTTY-User-Key-File-[23]:[^\n]{1,80}\n[\s\S]{0,4000}?Private-Lines:[ \t]{0,2}\d{1,3}\r?\n(?P<s>[A-Za-z0-9+/=\r\n]{40,8000})",
     ("putty-user-key-file",), "every system that trusts it (replace the key pair)", what="key pair",
     validate=pem_body, priority=2)
_add(48, "JSON Web Token", "MEDIUM",
     _START + r"(?P<s>eyJ[A-Za-z0-9_\-]{8,2000}\.eyJ[A-Za-z0-9_\-]{8,8000}\.[A-Za-z0-9_\-]{0,2000})" + _END, ("eyj",),
     "the issuer (rotate its signing key if the token does not expire soon)", what="token",
     validate=jwt_structure, entropy=3.0,
     rationale="A JSON Web Token is a bearer credential: whoever holds it acts as its subject until it expires.")
_DB_SCHEME = re.compile(r"(?i)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|ldaps?)$")
_URL_SCHEME = re.compile(r"(?i)(?:https?|ftps?|git|ssh|smtps?|sftp)$")


def _url_context(scheme: re.Pattern[str]) -> Context:
    """The regex starts at `://` (a literal: fast to search); the scheme and the user are
    checked here. A password equal to the user name is a placeholder."""

    def check(text: str, s: int, e: int) -> bool:
        at = text.rfind("://", max(0, s - 110), s)
        if at < 0 or not scheme.search(text, max(0, at - 12), at):
            return False
        return text[at + 3 : s - 1] != text[s:e]

    return check


_add(49, "Database URL with a password", "HIGH",
     r"://[^:@/\s\"']{1,100}:(?P<s>[^@/\s\"']{3,200})@[^\s/\"'@]{1,200}",
     ("://",), "the database server (change the user's password)", what="password", entropy=1.5, priority=1,
     context=_url_context(_DB_SCHEME))
_add(50, "HashiCorp Vault token", "CRITICAL",
     _START + r"(?P<s>hv[sbr]\.[A-Za-z0-9_\-]{24,200}|s\.[A-Za-z0-9]{24})" + _END, ("hvs.", "hvb.", "hvr.", "vault"),
     "Vault (vault token revoke)", what="token", entropy=3.5,
     context=lambda t, s, e: t[s : s + 2] != "s." or "vault" in t[max(0, s - 300) : e + 300].lower())
_add(51, "Terraform Cloud / Enterprise API token", "CRITICAL",
     _START + r"(?P<s>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70})" + _END, ("atlasv1",),
     "Terraform Cloud (User settings > Tokens)", what="token", entropy=3.5)
_add(52, "Heroku API key", "HIGH",
     _START + r"(?P<s>HRKU-[A-Za-z0-9_\-]{40,70})" + _END + r"|(?i:heroku[\w.\-]{0,30})[\"']?[ \t]{0,4}(?:=|:|=>)[ \t]{0,4}[\"']?"
     r"(?P<u>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
     ("hrku-", "heroku"), "Heroku (Account settings > API key: regenerate)", what="API key", entropy=3.0)
_add(53, "DigitalOcean token", "CRITICAL", _START + r"(?P<s>do[opr]_v1_[a-f0-9]{64})" + _END,
     ("dop_v1_", "doo_v1_", "dor_v1_"), "DigitalOcean (API > Tokens)", what="token", entropy=3.0)
_add(54, "Datadog API or application key", "HIGH",
     r"(?i)(?:datadog|dd)[\w.\-]{0,20}(?:api|app|application)[\w.\-]{0,10}key[\"']?[ \t]{0,4}(?:=|:|=>)[ \t]{0,4}[\"']?"
     r"(?P<s>[a-f0-9]{32}|[a-f0-9]{40})(?![a-f0-9])", ("datadog", "dd_api", "dd_app", "dd-api", "dd-app"),
     "Datadog (Organization settings > API / Application keys)", what="key", entropy=3.0, priority=1)
_add(55, "New Relic key", "HIGH", _START + r"(?P<s>NR(?:AK|II|AA)-[A-Z0-9]{27}|NRJS-[a-f0-9]{19})" + _END,
     ("nrak-", "nrii-", "nraa-", "nrjs-"), "New Relic (API keys)", what="key", entropy=3.0)
_add(56, "Sentry DSN", "LOW",
     r"(?P<s>https://[0-9a-f]{32}(?::[0-9a-f]{32})?@[\w.\-]{1,100}\.(?:ingest\.)?sentry\.io/\d{1,12})",
     ("sentry.io",), "Sentry (Project settings > Client keys: revoke)", what="client key", entropy=3.0,
     rationale="A Sentry DSN lets anyone send events to the project; one with a secret part also reads them.")
_add(57, "Sentry auth token", "HIGH", _START + r"(?P<s>sntry[sua]_[A-Za-z0-9_=+/\-]{40,200})" + _END,
     ("sntrys_", "sntryu_", "sntrya_"), "Sentry (User settings > Auth tokens)", what="token", entropy=3.5)
_add(58, "OpenAI API key", "CRITICAL",
     _START + r"(?P<s>sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,200}T3BlbkFJ[A-Za-z0-9_\-]{20,200})" + _END,
     ("t3blbkfj",), "OpenAI (API keys page)", what="API key", entropy=3.5)
_add(59, "Anthropic API key", "CRITICAL", _START + r"(?P<s>sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,120})" + _END,
     ("sk-ant-",), "Anthropic (Console > API keys)", what="API key", entropy=3.5)
_add(60, "Hugging Face access token", "HIGH", _START + r"(?P<s>hf_[A-Za-z]{34})" + _END, ("hf_",),
     "Hugging Face (Settings > Access tokens)", what="token", entropy=3.5)
_add(61, "Atlassian API token", "HIGH",
     _START + r"(?P<s>ATATT3[A-Za-z0-9_\-=]{150,250})" + _END
     + r"|(?i:atlassian|jira|confluence)[\w.\-]{0,20}(?i:token|key|secret)[\"']?[ \t]{0,4}(?:=|:|=>)[ \t]{0,4}[\"']?(?P<u>[A-Za-z0-9]{24})(?![A-Za-z0-9])",
     ("atatt3", "atlassian", "jira", "confluence"), "Atlassian (Account > Security > API tokens)", what="API token",
     entropy=3.5)
_add(62, "Okta API token", "HIGH",
     r"(?i:okta)[\w.\-]{0,20}(?i:token|key|ssws)[\"']?[ \t]{0,4}(?:=|:|=>|[ \t])[ \t]{0,4}[\"']?(?:SSWS[ \t]{1,2})?(?P<s>00[A-Za-z0-9_\-]{40})" + _END,
     ("okta",), "the Okta admin console (Security > API > Tokens)", what="API token", entropy=3.5, priority=1)
_add(63, "Linear API key", "HIGH", _START + r"(?P<s>lin_(?:api|oauth)_[A-Za-z0-9]{40})" + _END, ("lin_api_", "lin_oauth_"),
     "Linear (Settings > API)", what="API key", entropy=3.5)
_add(64, "Doppler token", "HIGH", _START + r"(?P<s>dp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44})" + _END,
     ("dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."), "Doppler (Access > tokens)", what="token",
     entropy=3.5)
_add(65, "age secret key", "CRITICAL", r"(?P<s>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})",
     ("age-secret-key-1",), "everything encrypted to it (re-encrypt to a new key)", what="key", entropy=3.5)

_add(67, "HTTP Authorization header credentials", "HIGH",
     r"(?i:authorization)[\"']?[ \t]{0,4}[:=][ \t]{0,4}[\"']?(?i:bearer|basic|token)[ \t]{1,4}(?P<s>[A-Za-z0-9_~+/=.\-]{16,2000})",
     ("authorization",), "the service that issued it", what="token", entropy=3.2, priority=0)
_add(68, "URL with embedded credentials", "MEDIUM",
     r"://[A-Za-z0-9._%~\-]{1,100}:(?P<s>[^@/\s\"'<>]{6,200})@[A-Za-z0-9.\-]{1,200}",
     ("://",), "the service (change the password or revoke the token)", what="password", entropy=2.5, priority=0,
     context=_url_context(_URL_SCHEME))


GENERIC = Rule(
    id="CTM-SEC-066",
    title="Password or secret assigned a literal value",
    severity="HIGH",
    kind="secret",
    rationale="A password, token or API key written into a file, ENV or build argument is readable by anyone "
    "who can pull the image, in every layer that holds it.",
    remediation="Change the password / revoke the key, and pass it at run time (a mounted secret, "
    "`docker build --secret`, an orchestrator secret) instead of writing it into the image.",
)
_RULES.append(GENERIC)

RULES: tuple[Rule, ...] = tuple(sorted(_RULES, key=lambda r: r.id))
BY_ID = {r.id: r for r in RULES}

__all__ = ["BY_ID", "GENERIC", "PATTERNS", "RULES", "SecretPattern", "b64_userpass", "github_checksum", "jwt_structure"]
