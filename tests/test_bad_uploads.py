"""Bad uploads, driven in Chromium (AppTest cannot upload): a non-image on the CLIP page and broken
config.json files on the KV-cache page must each give a visible message naming the problem, and no
traceback. (Truncated images and decompression bombs are tested through core.vision.load_image in
tests/test_vision.py, bad CSVs through core.scaling_fit in tests/test_scaling.py.)"""
import pytest

from tests.browser_util import browser, page_text_problems, screenshot, serve_app, wait_for_page


CASES = [
    ("clip", "not-an-image.png", b"\x00\x01garbage", ("image",)),
    ("kv-cache", "config.json", b'{"num_hidden_layers": 4, "num_attention_heads": "many", "hidden_size": 64}',
     ("num_attention_heads",)),
    ("kv-cache", "config.json", b"{not json", ("json",)),
]


@pytest.fixture(scope="module")
def app():
    with serve_app() as url, browser() as b:
        yield url, b


@pytest.mark.parametrize("path,name,payload,words", CASES, ids=[f"{c[0].split('?')[0]}-{c[1]}" for c in CASES])
def test_bad_upload_gives_a_message(app, path, name, payload, words):
    url, b = app
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    wait_for_page(page)
    before = len(page.locator('[data-testid="stAlert"]').all_inner_texts())
    page.locator('input[type="file"]').first.set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": payload}])
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=\"stAlert\"]').length > {before}",
                           timeout=60_000)
    wait_for_page(page)
    alerts = " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts()).lower()
    screenshot(page, f"upload-{path.split('?')[0]}-{name}")
    assert any(w in alerts for w in words), alerts[:500]
    assert page_text_problems(page) == []
    page.close()
