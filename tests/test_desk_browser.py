"""The desk end to end in a real browser: Debian's Chromium driven by Selenium through Debian's
chromedriver (nothing downloaded at run time), over the demo campaign. Screenshots go to docs/.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session

from cli import load_app_from
from desk.serve import server
from domain.kinds import DeskRole
from samples.demo_mailbox import write_maildir
from service.runtime import App
from storage import users
from tests.conftest import CAMPAIGN_FILE, ROOT, unavailable, write_maildir_config
from tests.servers import free_port
from tests.test_faults import poll

pytestmark = pytest.mark.integration
PASSWORD = "mật-khẩu-demo-2021"
DOCS = ROOT / "docs"


@pytest.fixture
def desk_url(tmp_path: Path) -> Iterator[str]:
    """The demo campaign processed into a new database, and the desk serving it on loopback."""
    write_maildir(tmp_path / "mailbox")
    config = write_maildir_config(tmp_path, CAMPAIGN_FILE)
    code, output = poll(config)
    assert code == 0, output
    application = load_app_from(config)
    with Session(application.engine) as session:
        users.add(session, "canbo", PASSWORD, DeskRole.OFFICER)
        session.commit()
    with serving(application) as url:
        yield url


@contextmanager
def serving(application: App) -> Iterator[str]:
    """The desk over `application` on a loopback port, in a thread, for as long as the block."""
    port = free_port()
    web = server(application, "127.0.0.1", port)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not web.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        web.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        unavailable("Debian's chromium and chromium-driver are needed (scripts/test-services.sh)")
    assert chromium and driver
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1366,900",
        "--lang=vi",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(tmp_path / "downloads"),
            "download.prompt_for_download": False,
        },
    )
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    yield chrome
    chrome.quit()


def wait_for_file(folder: Path, suffix: str) -> Path:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} downloaded into {folder}")


def page_says(chrome: webdriver.Chrome, text: str) -> None:
    """Wait for the page the last click led to (the old one goes stale meanwhile)."""

    def says(driver: webdriver.Chrome) -> bool:
        try:
            return text in driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:  # stale, or "node does not belong to the document" mid-load
            return False

    WebDriverWait(chrome, 15).until(says)


def log_in(chrome: webdriver.Chrome, url: str, password: str) -> None:
    chrome.get(f"{url}/")
    chrome.find_element(By.NAME, "username").send_keys("canbo")
    chrome.find_element(By.NAME, "password").send_keys(password)
    chrome.find_element(By.CSS_SELECTOR, "form.login button").click()


def test_an_officer_logs_in_reads_the_campaign_downloads_and_logs_out(
    desk_url: str, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    log_in(browser, desk_url, "sai mật khẩu")
    page_says(browser, "Tên đăng nhập hoặc mật khẩu không đúng")
    log_in(browser, desk_url, PASSWORD)
    page_says(browser, "Đơn vị đã được tiếp nhận")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Tổng quan"
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Sở Nội vụ" in body and "Bằng khen của Chủ tịch UBND tỉnh" in body
    DOCS.mkdir(exist_ok=True)
    browser.save_screenshot(str(DOCS / "desk-overview.png"))
    # A unit with errors: open it, then follow a finding to its row.
    links = browser.find_elements(By.XPATH, "//td[contains(@class,'bad')]/preceding-sibling::td//a")
    units = [link.get_attribute("href") or "" for link in links]
    assert units, "the demo has units whose lists have errors"
    rows = []
    for address in units:  # the first whose findings point at rows of its list
        browser.get(address)
        page_says(browser, "Lần 1")
        rows = browser.find_elements(By.CSS_SELECTOR, "a[href*='-dong-']")
        if rows:
            break
    assert rows, "a finding that points at a row of the list"
    browser.save_screenshot(str(DOCS / "desk-unit.png"))
    target = (rows[0].get_attribute("href") or "").split("#")[1]
    rows[0].click()
    assert browser.current_url.endswith(f"#{target}")
    assert browser.find_element(By.ID, target).is_displayed()  # the nominee's row it points at
    browser.find_element(By.CSS_SELECTOR, "a[href$='.eml']").click()
    eml = wait_for_file(tmp_path / "downloads", ".eml")
    assert b"Subject:" in eml.read_bytes()
    browser.get(f"{desk_url}/tong-hop")
    browser.find_element(By.CSS_SELECTOR, "a[href$='.xlsx']").click()
    workbook = wait_for_file(tmp_path / "downloads", ".xlsx")
    assert workbook.read_bytes()[:2] == b"PK"
    # The phone view.
    browser.set_window_size(400, 860)
    browser.get(f"{desk_url}/")
    browser.save_screenshot(str(DOCS / "desk-phone.png"))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 420  # no sideways page scroll: wide tables scroll inside their box
    browser.set_window_size(1366, 900)
    browser.find_element(By.CSS_SELECTOR, "header.bar button").click()
    page_says(browser, "Mật khẩu")
    browser.get(f"{desk_url}/don-vi/SNV")
    assert browser.find_elements(By.NAME, "password")  # logged out: back to the login
