"""The presenter tour: every step's deep link opens its page with the preset applied (no value
rejected), shows the step banner, and Next/Previous move through the steps."""
import pytest

from core.teaching.tour import STEPS
from pages.ui.nav import PAGES, by_url
from pages.ui.tour import steps
from tests.apptest_util import problems, run_page

LIVE = steps()


def test_every_step_points_at_a_known_page():
    known = {p.url_path for p in PAGES}
    assert all(s.url_path in known for s in STEPS)
    assert len(LIVE) >= 3 and LIVE[0].url_path == "home"


@pytest.mark.parametrize("index", range(len(LIVE)), ids=[f"{i}-{s.url_path}" for i, s in enumerate(LIVE)])
def test_step_deep_link_applies_its_preset(index):
    step = LIVE[index]
    at = run_page(by_url(step.url_path), step.query(index, present=True))
    assert problems(at) == []
    refused = [w.value for w in at.warning if "link's value" in w.value]
    assert refused == []                                       # no preset value was refused
    for key, value in step.params:
        assert at.query_params[key] == value, f"step {index}: {key} not applied"


def test_banner_and_presentation_mode_in_chromium():
    """Through the real navigation: each step's link shows its banner in presentation mode
    (sidebar hidden), and Next goes to the following step's page with its preset."""
    from tests.browser_util import browser, page_text_problems, screenshot, serve_app, wait_for_page
    with serve_app() as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 900})
        for i in (0, 1, len(LIVE) - 1):
            page.goto(url + LIVE[i].link(i), wait_until="domcontentloaded")
            wait_for_page(page)
            page.wait_for_function(f"() => document.body.innerText.includes('Tour step {i + 1} of {len(LIVE)}')")
            assert not page.locator('[data-testid="stSidebar"]').is_visible()
            assert page_text_problems(page) == []
            screenshot(page, f"tour-step-{i}")
        page.goto(url + LIVE[0].link(0), wait_until="domcontentloaded")
        wait_for_page(page)
        page.get_by_role("button", name="Next ▶").click()
        page.wait_for_function(f"() => document.body.innerText.includes('Tour step 2 of {len(LIVE)}')")
        assert f"/{LIVE[1].url_path}" in page.url and "tour=1" in page.url


def test_home_banner_in_apptest():
    at = run_page(by_url("home"), LIVE[0].query(0, present=True))
    assert problems(at) == []
    assert f"Tour step 1 of {len(LIVE)}" in " ".join(m.value for m in at.markdown)


def test_bad_tour_step_in_link_is_reported():
    at = run_page(by_url("home"), {"tour": "999"})
    assert problems(at) == []
    assert any("tour step" in w.value for w in at.warning)
