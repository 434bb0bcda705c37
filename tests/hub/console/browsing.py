"""Driving the console in the browser: sign in, wait, look, take screenshots."""

from __future__ import annotations

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.hub.console.conftest import ARTIFACTS, ConsoleHub


def wait(driver: webdriver.Chrome, timeout_s: float = 10.0) -> WebDriverWait[webdriver.Chrome]:
    # The board swaps its table on every event and a form post replaces the page: an
    # element found a moment ago may be gone, so look again.
    return WebDriverWait(
        driver,
        timeout_s,
        poll_frequency=0.05,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )


def shot(driver: webdriver.Chrome, name: str) -> None:
    """The whole page, not only the window."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height) + 200, 4000)))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(1280, 900)


def sign_in(driver: webdriver.Chrome, hub: ConsoleHub, who: str, lang: str = "vi") -> None:
    driver.get(hub.url + "/console/sign-in")
    driver.delete_all_cookies()
    driver.get(f"{hub.url}/console/lang/{lang}?next=/console/sign-in")
    driver.find_element(By.ID, "key").send_keys(hub.keys[who])
    driver.find_element(By.ID, "sign-in").click()
    wait(driver).until(lambda d: d.find_elements(By.ID, "who"))


def open_board(driver: webdriver.Chrome, hub: ConsoleHub) -> None:
    driver.get(hub.url + "/console")
    wait(driver).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))
    driver.execute_script("window.__marker = 'never reloaded'")


def rows(driver: webdriver.Chrome, kind: str, ward: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, f"tr[data-kind='{kind}'][data-ward='{ward}']")


def row_for(driver: webdriver.Chrome, checkpoint: str) -> WebElement | None:
    for row in driver.find_elements(By.CSS_SELECTOR, "#board tbody tr"):
        if checkpoint in row.text:
            return row
    return None


def csrf_of(driver: webdriver.Chrome) -> str:
    field = driver.find_element(By.CSS_SELECTOR, "input[name='csrf']")
    return str(field.get_attribute("value"))
