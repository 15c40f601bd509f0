"""Presentation mode on a projector (Chromium at 1280x720): chart fonts enlarged, buttons whose
labels fit, tabs that fit, ← / → stepping through the tour, and an exit (Esc or the button)."""
import plotly.graph_objects as go

from core.figures import theme
from pages.ui.tour import steps
from tests.browser_util import browser, page_text_problems, serve_app, wait_for_page
from tests.conftest import ARTIFACTS
from tests.test_layout_browser import OVERFLOW_JS

LIVE = steps()
SHOTS = ARTIFACTS          # tests/artifacts (git-ignored)
BLUR = "() => { if (document.activeElement) document.activeElement.blur(); }"


def test_presentation_enlarges_every_font_of_a_figure():
    fig = go.Figure(go.Bar(x=["a"], y=[1], text=["1"], textfont={"size": 10}))
    theme.base_layout(fig, title="t", height=300)
    fig.add_annotation(text="note", font={"size": 9})
    fig.update_xaxes(tickfont={"size": 11})
    big = theme.presentation(fig)
    s = theme.PRESENT_SCALE
    assert big.layout.font.size == round(13 * s, 1) and big.layout.annotations[0].font.size == round(9 * s, 1)
    assert big.layout.xaxis.tickfont.size == round(11 * s, 1) and big.data[0].textfont.size == round(10 * s, 1)
    assert big.layout.height > 300 and fig.layout.font.size == 13            # the original is untouched


def _url_has(page, *parts, timeout=120_000):
    cond = " && ".join(f"location.href.includes({p!r})" for p in parts)
    page.wait_for_function(f"() => {cond}", timeout=timeout)


def test_presentation_mode_at_1280x720():
    with serve_app() as url, browser() as b:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page = b.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url + LIVE[0].link(0), wait_until="domcontentloaded")
        wait_for_page(page)
        page.wait_for_function(f"() => document.body.innerText.includes('Tour step 1 of {len(LIVE)}')")
        assert page.evaluate(OVERFLOW_JS) == []                               # buttons and page fit
        for name in ("Next", "Previous", "Exit"):
            assert page.get_by_role("button", name=name).first.is_visible()
        size = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.font.size")
        assert size >= 13 * theme.PRESENT_SCALE - 0.1, size                  # chart text enlarged too
        page.screenshot(path=f"{SHOTS}/presentation-home-1280x720.png")
        assert page_text_problems(page) == []

        page.evaluate(BLUR)                                                   # focus the page, not a field
        page.keyboard.press("ArrowRight")
        _url_has(page, "tour=1", f"/{LIVE[1].url_path}", "present=1")
        wait_for_page(page, need_content=False)
        page.wait_for_function(f"() => document.body.innerText.includes('Tour step 2 of {len(LIVE)}')")
        page.evaluate(BLUR)
        page.keyboard.press("ArrowLeft")
        _url_has(page, "tour=0")
        wait_for_page(page)
        page.wait_for_function(f"() => document.body.innerText.includes('Tour step 1 of {len(LIVE)}')")

        page.evaluate(BLUR)
        page.keyboard.press("Escape")
        page.wait_for_function("() => !location.href.includes('present=1') && !location.href.includes('tour=')",
                               timeout=60_000)
        wait_for_page(page)
        assert not page.get_by_text("Tour step").count()

        inside = next(i for i, s in enumerate(LIVE) if s.url_path == "inside")   # a page with tabs
        page.goto(url + LIVE[inside].link(inside), wait_until="domcontentloaded")
        wait_for_page(page)
        assert page.evaluate(OVERFLOW_JS) == []                               # the tab row wraps, fits
        page.screenshot(path=f"{SHOTS}/presentation-inside-1280x720.png")
        page.get_by_role("button", name="Exit").first.click()
        page.wait_for_function("() => !location.href.includes('present=1')", timeout=60_000)
        page.close()
