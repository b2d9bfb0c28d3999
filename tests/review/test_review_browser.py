"""The review workspace end to end in a real browser: `grader batch` grades answer sheets,
`grader review` serves them, headless Chromium (Debian's chromium and chromium-driver, driven
by Selenium) grades a group by keyboard, adjusts one member, overrides a notebook check; then
the server is stopped and started again. Screenshots are kept under the test's folder (and in
GRADER_SCREENSHOTS, e.g. docs/screenshots, when set)."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.review.test_review_fixtures import HOSTILE, LONG_LINE, NOTEBOOK_STUDENT, add_notebook_student, write_sheets

webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed (pip install -e '.[test]')")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="Debian's chromium and chromium-driver are not installed (scripts/install-sandbox.sh installs them as root)",
)
Q12 = "conv-arithmetic/q12"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`grader review OUT` in its own process, as an instructor starts it."""

    def __init__(self, out: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader", "review", str(out), "--port", str(self.port), "--who", "browser-test"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines, self.url = [], None
        deadline = time.monotonic() + 60
        while self.url is None and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("open "):
                self.url = line.split()[1]
        assert self.url, "grader review printed no address:\n" + "".join(self.lines)
        self.base = self.url.split("/?")[0]
        for _ in range(100):  # the address is printed just before uvicorn listens
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def out(tmp_path):
    from grader.batch import Limits, run_batch

    out = tmp_path / "out"
    run_batch(write_sheets(tmp_path / "subs"), "quiz", out, jobs=2, limits=Limits(120, 120))
    add_notebook_student(out)
    return out


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,1000",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def shoot(driver, tmp_path: Path, name: str, full_height: bool = True) -> Path:
    driver.execute_script("window.scrollTo(0, 0)")
    if full_height:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1200, min(max(height + 120, 600), 4000))
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("GRADER_SCREENSHOTS"):
        folder = Path(os.environ["GRADER_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / path.name)
    driver.set_window_size(1200, 1000)
    return path


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def no_alert(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert  # noqa: B018 (the property raises when no alert is open)
    except NoAlertPresentException:
        return True
    return False


def wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_grading_in_the_browser(out, browser, tmp_path):
    from selenium.webdriver.common.by import By

    before = gradebook(out)
    server = Server(out)
    try:
        # no token, no page; a POST with the token cookie but no CSRF field is refused too
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.base + "/")
        assert refused.value.code == 403
        browser.get(server.url)
        assert "Review" in browser.find_element(By.TAG_NAME, "h1").text
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
        request = urllib.request.Request(
            f"{server.base}/q/{Q12}", data=b"student=dev&points=2", method="POST", headers={"Cookie": cookies}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 403

        browser.find_element(By.LINK_TEXT, Q12).click()
        first = browser.find_element(By.ID, "g1")
        assert "dev, eli, gus" in first.text, "identical and near-identical answers grouped, largest first"
        assert no_alert(browser)
        hostile = next(g for g in browser.find_elements(By.CSS_SELECTOR, ".answer-group") if "mallory" in g.text)
        assert HOSTILE in hostile.find_element(By.CSS_SELECTOR, ".answer").text, "the script is shown as text"
        assert LONG_LINE[:100] in hostile.text
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), (
            "a 5,000-character line must not widen the page"
        )

        # keyboard: the first group has focus; "1" gives its three members one point each
        assert browser.switch_to.active_element.get_attribute("id") == "g1"
        browser.switch_to.active_element.send_keys("1")
        wait_for(lambda: float(gradebook(out)["gus"]["points"]) == float(before["gus"]["points"]) + 1)
        assert float(gradebook(out)["dev"]["points"]) == float(before["dev"]["points"]) + 1
        assert browser.switch_to.active_element.get_attribute("id") == "g2", "on to the next group"

        # adjust one member of the group
        group = browser.find_element(By.ID, "g1")
        group.find_element(By.CSS_SELECTOR, "details.members summary").click()
        member = browser.find_element(By.ID, "g1-gus")
        member.find_element(By.CSS_SELECTOR, 'button[value="1.5"]').click()
        wait_for(lambda: float(gradebook(out)["gus"]["points"]) == float(before["gus"]["points"]) + 1.5)
        assert "reviewed 3 of 5" in browser.find_element(By.CLASS_NAME, "question-bar").text
        assert browser.find_element(By.ID, "g1-gus").is_displayed(), "members that differ are shown open"
        shoot(browser, tmp_path, "review-question")

        # a notebook: override a check with a comment
        browser.get(f"{server.base}/nb/{NOTEBOOK_STUDENT}")
        check = browser.find_element(By.ID, "check-images_per_class")
        points = check.find_element(By.NAME, "points")
        points.clear()
        points.send_keys("1")
        check.find_element(By.NAME, "comment").send_keys("class 3 had enough images after all")
        check.find_element(By.CSS_SELECTOR, "button").click()
        wait_for(lambda: float(gradebook(out)[NOTEBOOK_STUDENT]["points"]) == 4.5)
        assert "changed from 0" in browser.find_element(By.ID, "check-images_per_class").text
        browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe.notebook"))
        assert "Epoch 1/1" in browser.find_element(By.TAG_NAME, "body").text
        browser.switch_to.default_content()
        assert no_alert(browser), "the notebook's own script must not run"
        shoot(browser, tmp_path, "review-notebook")
    finally:
        server.stop()

    # started again: every decision is still there, and the progress says so
    server = Server(out)
    try:
        assert any("reviewed 4 of 8" in line for line in server.lines), server.lines
        browser.get(server.url)
        shoot(browser, tmp_path, "review-overview")
        browser.get(f"{server.base}/q/{Q12}")
        assert "reviewed 3 of 5" in browser.find_element(By.CLASS_NAME, "question-bar").text
        assert "1.5" in browser.find_element(By.ID, "g1-gus").text
    finally:
        server.stop()
    assert "class 3 had enough images" in (out / "feedback" / NOTEBOOK_STUDENT / "feedback.html").read_text()
    canvas, rows = (out / "canvas.csv").read_text(), gradebook(out)
    final = [student for student, row in rows.items() if row["score_status"] == "final"]
    assert canvas.count("\n") == len(final) + 2, "the header, Points Possible, and each final total"
    assert all(student not in canvas for student, row in rows.items() if row["score_status"] != "final")
