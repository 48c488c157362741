"""Language and theme: switchable, remembered across a reload; the browser's language first."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from tests.browser.conftest import Console, PageErrors, open_console


def test_language_and_theme_survive_a_reload(
    page: Page, console: Console, page_errors: PageErrors
) -> None:
    open_console(page, console)
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("#h-overview") == "Fleet overview"
    page.select_option("#lang", "ko")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.text_content("#h-overview") == "전체 현황"
    assert page.text_content(".tabs a[data-view='servers']") == "서버"
    page.select_option("#theme", "dark")
    assert page.get_attribute("html", "data-theme") == "dark"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    assert page.get_attribute("html", "lang") == "ko"
    assert page.text_content("#h-overview") == "전체 현황"
    assert page.input_value("#lang") == "ko"
    assert page.get_attribute("html", "data-theme") == "dark"
    assert page.input_value("#theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
    page.select_option("#theme", "light")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
    assert page_errors.all() == []


def test_korean_browsers_get_korean(browser: Browser, console: Console) -> None:
    context = browser.new_context(locale="ko-KR", color_scheme="dark")
    try:
        page = context.new_page()
        open_console(page, console)
        assert page.get_attribute("html", "lang") == "ko"
        assert page.get_attribute("html", "data-theme") == "dark"
        assert page.text_content("#live-text") == "실시간"
    finally:
        context.close()
