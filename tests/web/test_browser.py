"""The agent desk and dashboard in a real headless Chromium, over real HTTP, after real calls."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from app import create_app
from app.config import Settings
from app.services import Services
from app.sim.local import local_driver
from app.sim.runner import run_script
from app.sim.script import load_script
from tests.conftest import TODAY, TOKEN
from tests.servers import free_port
from tests.web.conftest import AGENT_TOKEN
from tests.web.live import LiveServer, chrome, png_size, serve

CALLS = Path(__file__).resolve().parent.parent / "calls"
WAIT_S = 10
CALLBACK_CALLER = "+15550177"


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    """The app with agent pages enabled, served on a free loopback port."""
    port = free_port()
    app = create_app(settings.replace(agent_token=AGENT_TOKEN, public_url=f"http://127.0.0.1:{port}"),
                     today=lambda: TODAY)
    yield from serve(app, port, TOKEN)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile."""
    driver = chrome(tmp_path / "chromium-profile")
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def scripted_calls(services: Services) -> None:
    """Every scripted call in tests/calls, through the live app's own engine and records."""
    for path in sorted(CALLS.glob("*.yaml")):
        script = load_script(path)
        # Not asserting `passed`: the calls share one database here (one cancels the order a
        # later script expects open); tests/sim checks each call alone. We want their records.
        run_script(script, local_driver(services, script))


def unanswered_call(live: LiveServer) -> None:
    """Over signed webhooks: a person asked for, nobody answers, the caller wants a call back."""
    call = {"CallSid": "CAcb0001", "From": CALLBACK_CALLER, "To": "+15550000"}
    live.webhook("/voice/incoming", call)
    live.webhook("/voice/gather", {"CallSid": "CAcb0001", "Digits": "0"})
    live.webhook("/voice/dial-status?attempt=0", {"CallSid": "CAcb0001", "DialCallStatus": "no-answer"})
    live.webhook("/voice/dial-status?attempt=1", {"CallSid": "CAcb0001", "DialCallStatus": "busy"})
    assert "call you back" in live.webhook("/voice/gather", {"CallSid": "CAcb0001", "Digits": "2"})


def log_in(browser: WebDriver, live: LiveServer, path: str) -> None:
    """Open a protected page, get sent to the login form, log in, land back on the page."""
    browser.get(live.url(path))
    WebDriverWait(browser, WAIT_S).until(ready.url_contains("/agent/login"))
    browser.find_element(By.ID, "token").send_keys(AGENT_TOKEN)
    browser.find_element(By.ID, "login-button").click()
    WebDriverWait(browser, WAIT_S).until(ready.url_to_be(live.url(path)))


def screenshot(browser: WebDriver, path: Path) -> None:
    """Save a screenshot, print where, and check it is a real picture of a page."""
    data = browser.get_screenshot_as_png()
    path.write_bytes(data)
    print(f"\nscreenshot: {path}")
    width, height = png_size(data)
    assert width >= 800 and height >= 600, (width, height)
    assert len(data) > 30_000, f"suspiciously small screenshot ({len(data)} bytes): blank page?"


def jane_call_sid(services: Services) -> str:
    """The scripted call in which Jane Doe asked about order 48217 and then for a person."""
    return next(c.call_sid for c in services.records.recent(limit=100)
                if c.caller_name == "Jane Doe" and c.order_number == "48217" and c.outcome == "transferred")


def test_wrong_token_in_the_browser_stays_on_login(live: LiveServer, browser: WebDriver) -> None:
    browser.get(live.url("/agent"))
    browser.find_element(By.ID, "token").send_keys("wrong")
    browser.find_element(By.ID, "login-button").click()
    error = WebDriverWait(browser, WAIT_S).until(ready.presence_of_element_located((By.ID, "login-error")))
    assert "not right" in error.text
    browser.get(live.url("/agent"))
    assert "/agent/login" in browser.current_url


def test_agent_desk_in_chromium(live: LiveServer, browser: WebDriver, tmp_path: Path) -> None:
    services: Services = live.app.extensions["ivr"]
    scripted_calls(services)
    unanswered_call(live)
    log_in(browser, live, "/agent")

    recent = browser.find_elements(By.CSS_SELECTOR, "#recent-calls tbody tr")
    assert len(recent) == len(list(CALLS.glob("*.yaml"))) + 1
    desk = browser.find_element(By.TAG_NAME, "main").text
    assert "+15550100" not in desk and CALLBACK_CALLER not in desk     # masked on the list
    callbacks = browser.find_elements(By.CSS_SELECTOR, "#callback-list tbody tr")
    ours = [row for row in callbacks if "+••••0177" in row.text]
    assert len(callbacks) >= 2 and len(ours) == 1, [row.text for row in callbacks]
    row_id = ours[0].get_attribute("id")

    sid = jane_call_sid(services)
    browser.find_element(By.CSS_SELECTOR, f'#recent-calls a[href="/agent/calls/{sid}"]').click()
    WebDriverWait(browser, WAIT_S).until(ready.url_to_be(live.url(f"/agent/calls/{sid}")))
    assert browser.find_element(By.ID, "caller").text.startswith("Jane Doe")
    assert browser.find_element(By.ID, "caller-number").text == "+15550100"   # full number here
    summary = browser.find_element(By.ID, "summary").text
    assert "Caller Jane Doe" in summary and "48217" in summary and "asked for a person" in summary
    assert browser.find_element(By.ID, "transfer-reason").text.endswith("asked for a person")
    assert browser.find_element(By.ID, "slot-order").text == "48217"
    assert browser.find_element(By.ID, "slot-status").text == "shipped"
    turns = browser.find_elements(By.CSS_SELECTOR, "#transcript tbody tr")
    transcript = browser.find_element(By.ID, "transcript").text
    assert len(turns) >= 4 and "where is my order" in transcript and "shipped" in transcript
    assert browser.find_elements(By.CSS_SELECTOR, "#transcript .confidence")
    screenshot(browser, tmp_path / "agent-call-page.png")

    browser.get(live.url("/agent"))
    browser.find_element(By.CSS_SELECTOR, f"#{row_id} button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(ready.url_contains("#callbacks"))
    assert not browser.find_elements(By.ID, row_id)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#callback-list tbody tr")) == len(callbacks) - 1
    assert "CAcb0001" not in [cb.call_sid for cb in services.records.callbacks(open_only=True)]


def test_dashboard_charts_in_chromium(live: LiveServer, browser: WebDriver, tmp_path: Path) -> None:
    scripted_calls(live.app.extensions["ivr"])
    log_in(browser, live, "/dashboard")
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 8, [c.get_attribute("id") for c in charts]
    drawn = [r for r in browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar, svg.chart rect[class^=slice]")
             if float(r.get_attribute("width")) > 0]
    assert drawn, "no bar has a length: the charts are empty"
    assert all(c.size["width"] > 200 and c.size["height"] > 20 for c in charts)
    assert browser.find_element(By.ID, "tile-containment").text
    screenshot(browser, tmp_path / "dashboard.png")


def test_live_calls_appear_without_a_reload(live: LiveServer, browser: WebDriver) -> None:
    log_in(browser, live, "/agent")
    assert "No call in progress." in browser.find_element(By.ID, "live").text
    browser.execute_script("window.sameDocument = true;")
    live.webhook("/voice/incoming", {"CallSid": "CAlive001", "From": "+15550100", "To": "+15550000"})
    rows = WebDriverWait(browser, WAIT_S + 5).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#live-calls tbody tr"))
    assert len(rows) == 1 and "Jane Doe" in rows[0].text
    assert browser.execute_script("return window.sameDocument === true;")      # fetched, not reloaded
    assert browser.find_element(By.CSS_SELECTOR, "#live .count").text == "1"


def test_times_show_in_the_browsers_zone(live: LiveServer, browser: WebDriver) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "America/New_York"})
    scripted_calls(live.app.extensions["ivr"])
    sid = jane_call_sid(live.app.extensions["ivr"])
    log_in(browser, live, f"/agent/calls/{sid}")
    shown = browser.find_elements(By.CSS_SELECTOR, "#transcript time")
    assert shown
    for element in shown:
        local = datetime.fromisoformat(element.get_attribute("datetime")).astimezone(ZoneInfo("America/New_York"))
        assert "UTC" not in element.text and local.strftime("%M:%S") in element.text, element.text
        assert str(local.hour) in element.text or str(local.hour % 12 or 12) in element.text, element.text


def test_transcript_columns_hold_one_thing_each(live: LiveServer, browser: WebDriver) -> None:
    scripted_calls(live.app.extensions["ivr"])
    sid = jane_call_sid(live.app.extensions["ivr"])
    log_in(browser, live, f"/agent/calls/{sid}")
    headers = [th.get_attribute("textContent") for th in browser.find_elements(By.CSS_SELECTOR, "#transcript th")]
    assert headers == ["Time", "Caller said", "Understood", "Confidence", "Bot said", "Dialog state", "Recognition"]
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#transcript tbody tr")
               if "where is my order" in r.text)
    cells = [td.get_attribute("textContent").strip() for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[1:4] == ["where is my order", "order status", "0.99"] and cells[5] == "offer order"


@pytest.mark.parametrize("path", ["/agent", "/agent/calls/{sid}", "/dashboard"])
def test_pages_fit_a_phone_without_sideways_scrolling(live: LiveServer, browser: WebDriver, path: str,
                                                       tmp_path: Path) -> None:
    services: Services = live.app.extensions["ivr"]
    scripted_calls(services)
    unanswered_call(live)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    log_in(browser, live, path.format(sid=jane_call_sid(services)))
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
    assert widths[0] <= widths[1] <= 390, widths
