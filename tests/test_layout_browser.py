"""Layout in a real browser: every page at 1440x900 and at 1280x720 (a projector) has no
horizontal overflow (nothing sticks out past the window's right edge, the page never scrolls
sideways), tab rows fit, button labels are not cut to "Nex…", and no internal jargon is shown.

A table or chart that scrolls inside its own frame is allowed (it scrolls visibly); content that
is pushed out of the window is not. Pages open with their defaults, each once: the second size
is the same page resized, so the 26 checks cost 13 page loads."""
import re

import pytest

from pages.ui.nav import registered
from tests.browser_util import screenshot, wait_for_page
from tests.test_browser import app_url, chromium  # noqa: F401  (the served app and the browser, per module)

SIZES = ((1440, 900), (1280, 720))
JARGON = re.compile(r"\bseed[ -]?0\d\d\b", re.I)       # the internal source texts' names

OVERFLOW_JS = """() => {
  const out = [];
  const main = document.querySelector('[data-testid="stMain"]') || document.body;   // Streamlit's scroller
  const vw = Math.min(document.documentElement.clientWidth, main.getBoundingClientRect().right);
  for (const s of [document.documentElement, main])
    if (s.scrollWidth > s.clientWidth + 1) out.push(`the page scrolls sideways: ${s.scrollWidth}px of content in ${s.clientWidth}px`);
  const name = el => (el.getAttribute('data-testid') || el.tagName.toLowerCase())
                     + (el.innerText ? ` “${el.innerText.trim().slice(0, 50).replace(/\\s+/g, ' ')}”` : '');
  const reported = [];
  for (const el of main.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= vw + 1) continue;
    if (reported.some(p => p.contains(el))) continue;
    const shut = el.closest('details:not([open])');   // a collapsed expander's body is not on screen
    if (shut && !el.closest('summary')) continue;
    let clipped = false;                        // inside a frame that ends in the window: it scrolls there
    for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= vw + 1) { clipped = true; break; }
    }
    if (clipped || getComputedStyle(el).visibility === 'hidden') continue;
    reported.push(el);
    out.push(`${name(el)} ends at ${Math.round(r.right)}px, past the ${Math.round(vw)}px window`);
  }
  for (const tl of main.querySelectorAll('[role="tablist"]'))
    if (tl.scrollWidth > tl.clientWidth + 2)
      out.push(`tabs do not fit (${tl.scrollWidth} > ${tl.clientWidth}px): ${tl.innerText.replace(/\\n/g, ' | ').slice(0, 120)}`);
  for (const b of document.querySelectorAll('[data-testid="stMain"] button p, [data-testid="stMain"] button div')) {
    if (!b.offsetParent || b.children.length) continue;
    if (b.scrollWidth > b.clientWidth + 1 && getComputedStyle(b).textOverflow === 'ellipsis')
      out.push(`button label cut: “${b.innerText.slice(0, 40)}”`);
  }
  return out.slice(0, 12);
}"""


def layout_problems(page) -> list[str]:
    page.wait_for_timeout(1200)                  # plotly and the grid re-lay out after a resize
    return page.evaluate(OVERFLOW_JS)


@pytest.mark.parametrize("info", registered(), ids=lambda p: p.url_path)
def test_no_horizontal_overflow(app_url, chromium, info):
    w, h = SIZES[0]
    page = chromium.new_page(viewport={"width": w, "height": h})
    path = "" if info.url_path == "home" else info.url_path
    page.goto(f"{app_url}/{path}", wait_until="domcontentloaded")
    wait_for_page(page)
    found = {}
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        found[f"{w}x{h}"] = layout_problems(page)
        if found[f"{w}x{h}"]:
            screenshot(page, f"overflow-{info.url_path}-{w}x{h}")
    # then every collapsed expander opened, at the smaller size: what a user sees on opening them
    page.evaluate("() => document.querySelectorAll('[data-testid=\"stMain\"] details:not([open]) > summary')"
                  ".forEach(s => s.click())")
    found["expanders opened"] = layout_problems(page)
    jargon = JARGON.findall(page.inner_text("body"))
    page.close()
    assert jargon == [], f"{info.url_path} says {jargon}"
    assert found == {k: [] for k in found}, f"{info.url_path}: {found}"
