"""A tab whose server went away (a replica killed, a restart) gets a fresh session on the server it
reconnects to, with the app's own note, and its view rebuilt from the link (issue #17)."""
import pytest

from bench.load.protocol import Session
from pages.ui.session import NOTE
from tests.browser_util import browser, free_port, page_text_problems, screenshot, serve_app, wait_for_page

SLIDER = "log₁₀ N (non-embedding parameters)"      # the scaling page: closed-form curves, no model


def _noted(run) -> bool:
    return any(NOTE[:60] in t for t in run.text)


@pytest.fixture(scope="module")
def app_url():
    with serve_app() as url:
        yield url


def test_a_run_carrying_another_sessions_widget_values_gets_the_note_once(app_url):
    """What the frontend sends after it reconnects: the next run carries its widgets' values, which a
    new tab never does. That fresh session shows the note on its first run only."""
    old = Session(app_url, timeout=120)
    first = old.open("scaling")
    assert first.status == "ok" and not _noted(first)
    assert not _noted(old.change(SLIDER, 9.5, page="scaling"))       # the same session: no note
    moved = Session(app_url, timeout=120)                             # the tab's new session
    moved.widgets.update(old.widgets)
    run = moved.change(SLIDER, 10.0, page="scaling")
    assert run.status == "ok" and _noted(run)
    assert not _noted(moved.change(SLIDER, 10.5, page="scaling"))
    old.close(), moved.close()


def test_a_new_tab_gets_no_note(app_url):
    s = Session(app_url, timeout=120)
    assert not _noted(s.open("scaling", {"tab": "Kaplan 2020"}))
    s.close()


def test_the_server_restarts_under_an_open_tab_in_chromium():
    """Chromium on the scaling page; the server is stopped and started again on the same port; the tab
    reconnects by itself, and its next change runs in a fresh session that says so, with the view
    from the link (the tab and slider value it had) and no error."""
    port = free_port()
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        with serve_app(port=port) as url:
            page.goto(f"{url}/scaling?tab=Budget&fit=epoch", wait_until="domcontentloaded")
            wait_for_page(page)
            assert "tab=Budget" in page.url and "fit=epoch" in page.url
        with serve_app(port=port):
            page.wait_for_function(                          # the frontend's own reconnect back-off
                "() => document.querySelector('[data-testid=stApp]')"
                ".getAttribute('data-test-connection-state') === 'CONNECTED'", timeout=60_000)
            page.get_by_role("tab", name="Kaplan 2020").click()
            page.wait_for_function(f"() => document.body.innerText.includes({NOTE[:60]!r})", timeout=60_000)
            wait_for_page(page)
            screenshot(page, "reconnected-after-restart")
            assert page_text_problems(page) == []
            assert "fit=epoch" in page.url                   # the link's other state carried over
