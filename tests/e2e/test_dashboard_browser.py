"""The dashboard in a real browser: `containment serve` as a process on loopback, Debian's
chromium headless driven by selenium through chromedriver (apt: chromium chromium-driver; PyPI:
selenium). A person is added with `containment user add --password-stdin` while the server runs,
signs in through the HTML form (no token, no script), walks the fleet overview, an image page
holding hostile stored text, the audit trail's filter form and the printable report (printed to
PDF by the browser).

Screenshots go to the test's tmp dir; with CONTAINMENT_SCREENSHOTS=DIR set, a copy of each is
written there too (for the README). Skips, saying why, when chromium, chromedriver or selenium is
missing."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_serve_e2e import ROOT, Served, serve_cmd, wait_healthy
from tests.tools import missing

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
DIGEST = "sha256:" + "5e" * 32
PASSWORD = "correct horse battery staple"


def _skip_reason() -> str | None:
    for tool, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        why = missing(tool, package)
        if why:
            return why
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed (pip install selenium): drives Debian's chromium through chromedriver"
    return None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    from tests.e2e.registry import free_port

    port = free_port()
    data = tmp_path / "data"
    err = tmp_path / "serve.stderr"
    with err.open("wb") as f:
        proc = subprocess.Popen(
            serve_cmd("--data", str(data), "--listen", f"127.0.0.1:{port}"), stderr=f, stdout=f, cwd=ROOT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, err)
        yield Served(url, data, proc, err)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    why = _skip_reason()
    if why:
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in CI
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class Shots:
    """Screenshots into the test's tmp dir; with `publish` (the realistic-data test) also into
    $CONTAINMENT_SCREENSHOTS (the README's, docs/screenshots): the 1280x800 window as a person
    sees it first, small enough for a README (<= 200 KB each)."""

    def __init__(self, driver: Any, tmp: Path, publish: bool = False) -> None:
        self.driver = driver
        self.dirs = [tmp / "screenshots"]
        if publish and os.environ.get("CONTAINMENT_SCREENSHOTS"):
            self.dirs.append(Path(os.environ["CONTAINMENT_SCREENSHOTS"]))
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)

    def take(self, name: str, full: bool = True) -> None:
        if full:  # the whole page: resize the window to the document's height first
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            self.driver.set_window_size(1280, max(800, min(int(height) + 120, 6000)))
        else:
            self.driver.set_window_size(1280, 800)
        png = self.driver.get_screenshot_as_png()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        if not full:
            assert len(png) <= 200_000, (name, len(png))
        for d in self.dirs:
            (d / f"dashboard-{name}.png").write_bytes(png)
        self.driver.set_window_size(1280, 800)


def add_person(data: Path) -> None:
    """`containment user add sam --role security --password-stdin` while the server runs."""
    add = subprocess.run(
        [
            sys.executable,
            "-m",
            "containment",
            "user",
            "add",
            "sam",
            "--role",
            "security",
            "--data",
            str(data),
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert add.returncode == 0, add.stderr


def seed(data: Path) -> None:
    """People and images added from another process while the server runs."""
    from containment.model import Inventory, LayerInfo, OSInfo, Package
    from containment.server.models import Image, Scan, ScoreRow
    from containment.server.store import Store

    add_person(data)
    with Store.open(data_dir=data) as store:
        layer = "sha256:" + "11" * 32
        for i, (name, target) in enumerate(
            [("openssl", "registry.test:5000/team/api:1.4"), (HOSTILE, "registry.test:5000/team/web:2.0")]
        ):
            store.put_inventory(
                Inventory(
                    target=target,
                    kind="image",
                    os=OSInfo("debian", "12"),
                    packages=(
                        Package(
                            name,
                            "3.0.11-1",
                            "deb",
                            "pkg:deb/debian/x@3.0.11-1",
                            "var/lib/dpkg/status",
                            "dpkg",
                            layer=layer,
                        ),
                        Package(
                            "zlib1g",
                            "1:1.2.13",
                            "deb",
                            "pkg:deb/debian/zlib1g@1.2.13",
                            "var/lib/dpkg/status",
                            "dpkg",
                            layer=layer,
                        ),
                    ),
                    layers=(
                        LayerInfo(0, layer, size=29_000_000, created_by=f"RUN apt-get install {HOSTILE}"),
                    ),
                    image_digest=DIGEST if i else "sha256:" + "4d" * 32,
                ),
                "scan",
                "ci",
            )
        with store.write() as s:
            image_id = s.query(Image.id).filter(Image.digest == DIGEST).scalar()
            for digest, sev in ((DIGEST, (0, 3, 5, 2, 0)), ("sha256:" + "4d" * 32, (1, 2, 0, 0, 1))):
                c = dict(zip(("critical", "high", "medium", "low", "unknown"), sev, strict=True))
                s.add(
                    Scan(
                        image_id=s.query(Image.id).filter(Image.digest == digest).scalar(),
                        actor="ci",
                        scanners=["vuln"],
                        counts={"vulnerabilities": c},
                        **c,
                    )
                )
            s.add(
                ScoreRow(
                    image_id=image_id,
                    value=72,
                    grade="D",
                    detail={
                        "headline": "risk score 72/100 (D): upgrade openssl to remove most of it",
                        "components": {"vulnerabilities": 70, "secrets": 10},
                        "actions": [
                            {
                                "label": "upgrade openssl from 3.0.11-1 to 3.0.13-1",
                                "findings": 3,
                                "drop": 41.5,
                                "fixable": True,
                            }
                        ],
                        "contributions": [
                            {
                                "id": "CVE-2024-0727",
                                "kind": "vulnerability",
                                "subject": "openssl",
                                "severity": "high",
                                "points": 20.5,
                                "factors": ["CVSS 7.5"],
                            }
                        ],
                    },
                )
            )


def follow(d: Any, element: Any) -> None:
    """Click what leads to another page and wait until that page replaced this one: an element
    looked up right after a bare click may still belong to the old page (a stale reference)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = d.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(d, 30).until(ec.staleness_of(old))


def test_dashboard_in_headless_chromium(served: Served, browser: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    seed(served.data)
    shots = Shots(browser, tmp_path)
    d = browser
    # not signed in: the middleware refuses before any page is built
    d.get(f"{served.url}/ui/login")
    assert d.title.startswith("Sign in")
    assert d.find_element(By.CSS_SELECTOR, "label[for=l-name]").text == "Name"
    shots.take("login")
    d.find_element(By.ID, "l-name").send_keys("sam")
    d.find_element(By.ID, "l-pw").send_keys("wrong")
    follow(d, d.find_element(By.CSS_SELECTOR, "form.login button"))
    assert "wrong password" in d.find_element(By.CSS_SELECTOR, "[role=alert]").text
    d.find_element(By.ID, "l-name").send_keys("sam")
    d.find_element(By.ID, "l-pw").send_keys(PASSWORD)
    follow(d, d.find_element(By.CSS_SELECTOR, "form.login button"))
    # signed in: the fleet
    assert d.current_url == f"{served.url}/ui"
    assert d.find_element(By.TAG_NAME, "h1").text == "Fleet overview"
    assert "sam (security)" in d.find_element(By.CSS_SELECTOR, "header .who").text
    assert d.find_element(By.CSS_SELECTOR, "dl.stats dd").text == "2"
    assert "registry.test:5000" in d.find_element(By.ID, "h-reg").find_element(By.XPATH, "..").text
    rows = d.find_elements(By.CSS_SELECTOR, "table.images tbody tr")
    assert len(rows) == 2
    risk = {r.text for r in d.find_elements(By.CSS_SELECTOR, "table.images .badge")}
    assert risk == {"critical", "high"}, risk
    landmarks = {e.tag_name for e in d.find_elements(By.CSS_SELECTOR, "header, nav, main, footer")}
    assert landmarks == {"header", "nav", "main", "footer"}
    shots.take("fleet")
    # the image holding hostile text: shown as text, nothing runs (escaping + a script-free CSP)
    follow(d, d.find_element(By.CSS_SELECTOR, f"a[title='{DIGEST}']"))
    assert DIGEST in d.find_element(By.TAG_NAME, "main").text
    assert HOSTILE in d.find_element(By.TAG_NAME, "main").text
    assert d.title != "pwned" and not d.find_elements(By.CSS_SELECTOR, "main img, main script")
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # noqa: B018
    assert "upgrade openssl from 3.0.11-1 to 3.0.13-1" in d.page_source
    shots.take("image")
    # the printable report, printed by the browser
    follow(d, d.find_element(By.LINK_TEXT, "Printable report"))
    assert d.find_element(By.TAG_NAME, "h1").text == "Container image security report"
    assert not d.find_elements(By.CSS_SELECTOR, "nav")
    pdf = base64.b64decode(d.print_page())
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    (tmp_path / "report.pdf").write_bytes(pdf)
    shots.take("report")
    # the audit trail, filtered through its form
    d.get(f"{served.url}/ui/audit")
    d.find_element(By.ID, "f-action").send_keys("inventory")
    follow(d, d.find_element(By.CSS_SELECTOR, "form.filters button"))
    actions = [e.text for e in d.find_elements(By.CSS_SELECTOR, "table.audit tbody td:nth-child(4)")]
    assert actions == ["inventory.put", "inventory.put"], actions
    assert "action=inventory" in d.current_url
    assert d.find_element(By.ID, "f-action").get_attribute("value") == "inventory"
    shots.take("audit")
    # sign out: the cookie is gone, pages answer 401 again
    follow(d, d.find_element(By.CSS_SELECTOR, "header .who button"))
    assert d.current_url == f"{served.url}/ui/login"
    d.get(f"{served.url}/ui")
    assert "unauthorized" in d.page_source


# ------------------------------------------------------------------ realistic data: corpus scans

CORPUS_IMAGES = ("debian-app", "debian-minbase", "alpine-311", "alpine-310")
REGISTRY = "registry.acme.test:5000"
DECISIONS = {  # image -> [(stage, allowed, action)], oldest first
    "debian-app": [("dev", True, "none"), ("staging", True, "attested"), ("prod", False, "quarantined")],
    "debian-minbase": [("dev", True, "none"), ("staging", True, "attested"), ("prod", True, "attested")],
    "alpine-311": [("dev", True, "none"), ("staging", False, "denied")],
    "alpine-310": [("dev", False, "denied")],
}


def seed_corpus(data: Path, db: str, images: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Real scans of the corpus images (the corpus advisories), scored, stored as the server's
    upload would; four weeks of earlier scans of each (more findings then: the trend), gate
    decisions at three stages, then the server's re-evaluation (findings with fix advice stored
    per image). Returns image name -> digest."""
    from datetime import UTC, datetime, timedelta

    from containment.policy.policyfile import Stage
    from containment.server.models import Decision, Image, Scan, Signature
    from containment.server.reevaluate import SNAPSHOT_NAME, reevaluate
    from containment.server.store import Store
    from containment.service import ScanOptions, scan
    from containment.service.score import score_report

    add_person(data)
    digests: dict[str, str] = {}
    now = datetime.now(UTC)
    with Store.open(data_dir=data) as store:
        for name in CORPUS_IMAGES:
            report = scan(images[name]["refs"]["oci"], ScanOptions(db=db, default_ignorefiles=False))
            refs = [f"{REGISTRY}/shop/{name}:1.{len(name) % 4}", f"{REGISTRY}/shop/{name}:latest"]
            if name.startswith("alpine"):
                refs.append(f"ghcr.io/acme/{name}:stable")
            digests[name] = store.put_report(report, "ci", score=score_report(report, db), refs=refs)
        with store.write() as s:
            for k, (name, digest) in enumerate(digests.items()):
                img = s.query(Image).filter(Image.digest == digest).one()
                img.first_seen = now - timedelta(days=29 - k)
                newest = s.query(Scan).filter(Scan.image_id == img.id).order_by(Scan.id.desc()).first()
                assert newest is not None
                for weeks in (4, 3, 2, 1):  # earlier scans: more findings, fixed since
                    more = {sev: int(getattr(newest, sev) * (1 + weeks * 0.25)) + weeks for sev in SEVERITIES}
                    s.add(
                        Scan(
                            image_id=img.id,
                            created=now - timedelta(days=7 * weeks - k, hours=3),
                            actor="ci",
                            scanners=["vuln"],
                            counts={"vulnerabilities": more},
                            **more,
                        )
                    )
                for j, (stage, allowed, action) in enumerate(DECISIONS[name]):
                    s.add(
                        Decision(
                            image_id=img.id,
                            digest=digest,
                            stage=stage,
                            policy=f"{stage}.yaml",
                            allowed=allowed,
                            action=action,
                            reasons=[] if allowed else ["critical findings over the stage's limit of 0"],
                            actor="registry-gate",
                            created=now - timedelta(days=6 - 2 * j),
                        )
                    )
                if name == "debian-minbase":
                    s.add(
                        Signature(
                            image_id=img.id,
                            kind="attestation",
                            predicate_type="https://cosign.sigstore.dev/attestation/vuln/v1",
                            signer="containment-server (ecdsa-p256)",
                            verified=True,
                        )
                    )
        for name, digest in digests.items():
            for stage, allowed, action in DECISIONS[name]:
                store.record(
                    "registry-gate",
                    "gate.decision",
                    digest,
                    {"stage": stage, "allowed": allowed, "action": action},
                )
        stages = {"prod": Stage("prod", max_severity={"critical": 0})}
        reevaluate(store, db, data / SNAPSHOT_NAME, stages)
    return digests


SEVERITIES = ("critical", "high", "medium", "low", "unknown")


def check_accessible(d: Any) -> None:
    """What a screen reader and a keyboard need, on the page as the browser built it."""
    report = d.execute_script(
        """
        const out = {unlabelled: [], graphics: [], headings: [], th: 0, landmarks: []};
        for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
          const named = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.getAttribute('aria-label');
          if (!named) out.unlabelled.push(el.outerHTML.slice(0, 120));
        }
        for (const el of document.querySelectorAll('img, svg')) {
          const ok = el.tagName === 'IMG' ? el.hasAttribute('alt')
            : (el.getAttribute('aria-hidden') === 'true'
               || (el.getAttribute('role') === 'img' && (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'))));
          if (!ok) out.graphics.push(el.outerHTML.slice(0, 120));
        }
        for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) out.headings.push(+h.tagName[1]);
        out.th = [...document.querySelectorAll('th')].filter(t => !t.hasAttribute('scope')).length;
        for (const l of document.querySelectorAll('main, nav, header, footer')) out.landmarks.push(l.tagName.toLowerCase());
        return out;
        """
    )
    assert report["unlabelled"] == [], report["unlabelled"]
    assert report["graphics"] == [], report["graphics"]
    heads = report["headings"]
    assert heads and heads[0] == 1 and heads.count(1) == 1, heads
    assert all(b <= a + 1 for a, b in zip(heads, heads[1:], strict=False)), heads  # no level skipped
    assert report["th"] == 0, "a th without scope"
    assert "main" in report["landmarks"]


def contrast(d: Any, selector: str) -> float:
    """The lowest WCAG contrast ratio of text colour on background among `selector`'s elements."""
    pairs = d.execute_script(
        """return [...document.querySelectorAll(arguments[0])].map(e => {
             let b = e, bg = 'rgba(0, 0, 0, 0)';
             while (b && (bg = getComputedStyle(b).backgroundColor) === 'rgba(0, 0, 0, 0)') b = b.parentElement;
             return [getComputedStyle(e).color, bg]; });""",
        selector,
    )

    def lum(css: str) -> float:
        r, g, b = (int(x) / 255 for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    ratios = []
    for fg, bg in pairs:
        a, b = sorted((lum(fg), lum(bg)), reverse=True)
        ratios.append((a + 0.05) / (b + 0.05))
    assert ratios, selector
    return min(ratios)


def test_fleet_views_with_corpus_scans(served: Served, browser: Any, tmp_path: Path) -> None:
    """The overview's stage, registry, risk and trend views, its GET filters, an image's real
    findings with fix advice, the report and the audit trail's subject filter; accessibility
    checked on every page; the README's screenshots (CONTAINMENT_SCREENSHOTS=docs/screenshots)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    from tests.conftest import corpus_dir, corpus_images

    images = corpus_images()
    absent = [n for n in CORPUS_IMAGES if n not in images]
    adv = corpus_dir() / "advisories"
    if absent or not adv.is_dir():
        pytest.skip(f"corpus images {absent} or advisories {adv} missing (make corpus)")
    from containment.advisories.importer import import_paths

    db = tmp_path / "advisories.db"
    import_paths([adv], db)
    digests = seed_corpus(served.data, str(db), images)
    shots = Shots(browser, tmp_path, publish=True)
    d = browser
    d.set_window_size(1280, 800)
    d.get(f"{served.url}/ui/login")
    d.find_element(By.ID, "l-name").send_keys("sam")
    d.find_element(By.ID, "l-pw").send_keys(PASSWORD)
    follow(d, d.find_element(By.CSS_SELECTOR, "form.login button"))
    assert d.find_element(By.TAG_NAME, "h1").text == "Fleet overview"
    shots.take("fleet", full=False)
    check_accessible(d)
    assert contrast(d, ".badge") >= 4.5 and contrast(d, "main p, main td, caption") >= 4.5
    # keyboard: the first Tab lands on the skip link, drawn with a visible outline
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = d.switch_to.active_element
    assert active.text == "Skip to content" and active.value_of_css_property("outline-style") != "none"
    nav = [
        a.get_attribute("href").removeprefix(served.url)
        for a in d.find_elements(By.CSS_SELECTOR, "header nav a")
    ]
    assert nav[0] == "/ui" and "/ui/audit" in nav
    stages = {
        r.find_element(By.TAG_NAME, "th").text: [c.text for c in r.find_elements(By.TAG_NAME, "td")]
        for r in d.find_elements(By.CSS_SELECTOR, "table.stages tbody tr")
    }
    assert stages == {"dev": ["3", "1", "0"], "prod": ["1", "0", "1"], "staging": ["2", "1", "0"]}, stages
    assert d.find_element(By.CSS_SELECTOR, "dl.stats dd").text == "4"
    trend = d.find_element(By.CSS_SELECTOR, "figure.trend svg")
    assert "Open findings" in d.find_element(By.ID, "trend-title").get_attribute("textContent")
    assert len(trend.find_elements(By.CSS_SELECTOR, "rect")) > 30  # bars on most of the 30 days
    d.execute_script("document.getElementById('h-trend').scrollIntoView()")
    shots.take("trend", full=False)
    # a stage count is a link to the images it counts
    follow(d, d.find_element(By.CSS_SELECTOR, "table.stages a[aria-label='1 quarantined at prod']"))
    assert "stage=prod" in d.current_url and "status=quarantined" in d.current_url
    rows = d.find_elements(By.CSS_SELECTOR, "table.images tbody tr")
    assert len(rows) == 1 and f"{REGISTRY}/shop/debian-app" in rows[0].text
    assert "quarantined" in d.find_element(By.CSS_SELECTOR, "p.scope").text
    # the filter form (GET, no script): another registry
    follow(d, d.find_element(By.LINK_TEXT, "Clear"))
    Select(d.find_element(By.ID, "f-registry")).select_by_visible_text("ghcr.io")
    follow(d, d.find_element(By.CSS_SELECTOR, "form.filters button"))
    assert "registry=ghcr.io" in d.current_url
    assert len(d.find_elements(By.CSS_SELECTOR, "table.images tbody tr")) == 2
    assert d.find_element(By.CSS_SELECTOR, "dl.stats dd").text == "2"
    check_accessible(d)
    # the image with the most findings: real findings, fix advice, score, gate history
    d.get(f"{served.url}/ui/images/{digests['debian-app']}")
    check_accessible(d)
    caption = d.find_element(By.CSS_SELECTOR, "table.findings caption").text
    assert "with a fix" in caption and "re-evaluated" in caption
    advice = [e.text for e in d.find_elements(By.CSS_SELECTOR, "table.findings tbody td:last-child")]
    assert any(a.startswith("upgrade ") for a in advice), advice[:5]
    gate = d.find_element(By.ID, "h-gate").find_element(By.XPATH, "..").text
    assert "quarantined" in gate and "prod" in gate
    d.execute_script("document.getElementById('h-findings').scrollIntoView()")
    shots.take("image", full=False)
    follow(d, d.find_element(By.LINK_TEXT, "Printable report"))
    assert d.find_element(By.TAG_NAME, "h1").text == "Container image security report"
    check_accessible(d)
    shots.take("report", full=False)
    # the audit trail by subject (an image's records) and action
    d.get(f"{served.url}/ui/audit")
    d.find_element(By.ID, "f-subject").send_keys(digests["debian-app"][:20])
    d.find_element(By.ID, "f-action").send_keys("gate")
    follow(d, d.find_element(By.CSS_SELECTOR, "form.filters button"))
    check_accessible(d)
    subjects = [e.text for e in d.find_elements(By.CSS_SELECTOR, "table.audit tbody td:nth-child(5)")]
    assert subjects == [digests["debian-app"]] * 3, subjects
    shots.take("audit", full=False)
