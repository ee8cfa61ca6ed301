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
    def __init__(self, driver: Any, tmp: Path) -> None:
        self.driver = driver
        self.dirs = [tmp / "screenshots"]
        if os.environ.get("CONTAINMENT_SCREENSHOTS"):
            self.dirs.append(Path(os.environ["CONTAINMENT_SCREENSHOTS"]))
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)

    def take(self, name: str) -> None:
        # the whole page: resize the window to the document's height first
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, max(800, min(int(height) + 120, 6000)))
        png = self.driver.get_screenshot_as_png()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        for d in self.dirs:
            (d / f"dashboard-{name}.png").write_bytes(png)


def seed(data: Path) -> None:
    """People and images added from another process while the server runs."""
    from containment.model import Inventory, LayerInfo, OSInfo, Package
    from containment.server.models import Image, Scan, ScoreRow
    from containment.server.store import Store

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
