"""Bad uploads, driven in Chromium (AppTest cannot upload): every upload box gets the issue's bad
files — non-images, a truncated image and a decompression bomb on the ViT and CLIP pages, broken
config.json files on the KV-cache page, CSVs with strings, NaN, negatives and missing columns on the
scaling page — and each must give a visible message naming the problem, with no traceback."""

import pytest
from PIL import Image

from tests.browser_util import browser, page_text_problems, screenshot, serve_app, wait_for_page
from tests.test_vision import _bomb_png, _png

_PHOTO = _png(Image.new("RGB", (64, 64), (200, 30, 30)))
TRUNCATED = _PHOTO[: len(_PHOTO) // 2]
BOMB = _bomb_png(20_000, 20_000)                     # 400 MP declared in a 70-byte file
VIT = "vit?image=upload%E2%80%A6"            # the "upload…" choice, URL-encoded
SCALING = "scaling?tab=Fit+your+runs&runs=upload+a+CSV"

CASES = [
    ("clip", "not-an-image.png", b"\x00\x01garbage", ("not an image",)),
    ("clip", "truncated.png", TRUNCATED, ("truncated",)),
    ("clip", "bomb.png", BOMB, ("pixels",)),
    (VIT, "not-an-image.png", b"\x00\x01garbage", ("not an image",)),
    (VIT, "truncated.png", TRUNCATED, ("truncated",)),
    (VIT, "bomb.png", BOMB, ("pixels",)),
    ("kv-cache", "config.json", b'{"num_hidden_layers": 4, "num_attention_heads": "many", "hidden_size": 64}',
     ("num_attention_heads",)),
    ("kv-cache", "config.json", b"{not json", ("json",)),
    (SCALING, "strings.csv", b"N,loss\n1e6,3.0\n2e6,abc\n4e6,2.5\n", ("row 2", "'loss'")),
    (SCALING, "nan.csv", b"N,loss\n1e6,3.0\n2e6,\n4e6,2.5\n", ("row 2", "nan")),
    (SCALING, "negative.csv", b"N,loss\n1e6,3.0\n-2e6,2.8\n4e6,2.5\n", ("row 2", "'n'")),
    (SCALING, "columns.csv", b"N,lost\n1,2\n", ("missing column 'loss'",)),
]


def _alerts(page) -> str:
    return " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts()).lower()


@pytest.fixture(scope="module")
def app():
    with serve_app() as url, browser() as b:
        yield url, b


@pytest.mark.parametrize("path,name,payload,words", CASES,
                         ids=[f"{c[0].split('?')[0]}-{c[1]}" for c in CASES])
def test_bad_upload_gives_a_message(app, path, name, payload, words):
    url, b = app
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    wait_for_page(page, need_content=path.startswith(("clip", "kv")))  # others show only the box
    box = page.locator('input[type="file"]').first
    box.wait_for(state="attached", timeout=60_000)
    assert not all(w in _alerts(page) for w in words)               # the message is not there yet
    box.set_input_files(files=[{"name": name, "mimeType": "application/octet-stream", "buffer": payload}])
    page.wait_for_function(
        """words => { const t = [...document.querySelectorAll('[data-testid="stAlert"]')]
                       .map(e => e.innerText.toLowerCase()).join(' ');
                     return words.every(w => t.includes(w)); }""", arg=list(words), timeout=60_000)
    wait_for_page(page, need_content=False)
    screenshot(page, f"upload-{path.split('?')[0]}-{name}")
    assert all(w in _alerts(page) for w in words), _alerts(page)[:500]
    assert name.split(".")[0] in _alerts(page) or path.startswith(("kv", "scaling"))   # names the file
    assert page_text_problems(page) == []
    page.close()
