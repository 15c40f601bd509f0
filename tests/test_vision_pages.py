"""AppTest of the ViT patches and CLIP pages: main controls through the URL, and bad inputs."""
import json

import pytest

from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

VIT, CLIP = by_url("vit"), by_url("clip")


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def _all_text(at) -> str:
    return " ".join(e.value for e in [*at.caption, *at.markdown, *at.info, *at.warning, *at.title, *at.header])


def test_vit_page_default_is_dinov2_on_a_photo():
    at = run_page(VIT)
    assert problems(at) == []
    text = _captions(at)
    assert "dinov2-vits14" in text and "224×224" in text and "16×16 grid = 256 patches + CLS = 257 tokens" in text
    assert any("fine-tuned for saliency is unknown" in i.value for i in at.info)      # the caveat, plainly
    assert len(at.get("plotly_chart")) == 10
    assert any("196" in c.value for c in at.caption)              # the 224/16 patch-count line
    assert "Darcet et al. 2023" in _all_text(at) and "Circled:" in text
    assert "first component holds" in text and "interpolated (bicubic) to 16×16" in text
    assert "seed" not in _all_text(at).lower()


def test_vit_page_tiny_clip_on_a_synthetic_scene():
    at = run_page(VIT, {"model": "tiny-clip (trained here)", "image": "synthetic scene 1"})
    assert problems(at) == []
    text = _captions(at)
    assert "64×64" in text and "8×8 grid = 64 patches + CLS = 65 tokens" in text
    assert "reads 64×64 px images only" in text and not [s for s in at.slider if s.label == "Resolution (px)"]
    assert len(at.get("plotly_chart")) == 10


def test_vit_page_resolution_is_snapped_with_a_note():
    at = run_page(VIT, {"res": "300", "image": "coffee"})
    assert problems(at) == []
    assert any("snapped to 294 px" in i.value for i in at.info)
    assert "294×294" in _captions(at) and "21×21 grid = 441 patches" in _captions(at)


def test_vit_page_at_518_reads_the_learned_grid():
    at = run_page(VIT, {"res": "518", "image": "astronaut", "thumbs": "1"})
    assert problems(at) == []
    text = _captions(at)
    assert "37×37 grid = 1369 patches + CLS = 1370 tokens" in text
    assert "drawn as points" in text and "interpolated" not in text       # 518 px is the learned grid itself


def test_vit_page_photo_with_layer_head_and_rollout_controls():
    at = run_page(VIT, {"model": "tiny-clip (trained here)", "image": "chelsea (cat)", "layer": "0", "head": "1",
                        "upto": "0", "fusion": "max", "thumbs": "0"})
    assert problems(at) == []
    assert any("not meaningful" in w.value for w in at.warning)    # honest about photos
    assert "Layer 0 head 1" in _captions(at)
    assert "layers 0–0" in _captions(at)


def test_vit_page_dinov2_controls_through_the_url():
    at = run_page(VIT, {"layer": "3", "head": "5", "upto": "6", "fusion": "max", "bg": "0.3", "image": "motorcycle"})
    assert problems(at) == []
    text = _captions(at)
    assert "Layer 3 head 5" in text and "layers 0–6" in text and "lie above 0.3" in text


def test_vit_page_bad_link_values_fall_back_with_a_note():
    at = run_page(VIT, {"layer": "99", "image": "nope.png"})
    assert problems(at) == []
    assert sum("was ignored" in w.value for w in at.warning) == 2


def test_vit_page_offline_pretrained_model_gives_a_clear_message():
    at = run_page(VIT, {"model": "ViT-B-32 laion2b"})
    assert problems(at) == []
    assert any("offline" in w.value for w in at.warning)


def test_clip_page_default_matrix_zero_shot_map_and_patch_heatmap():
    at = run_page(CLIP)
    assert problems(at) == []
    text = _captions(at)
    assert "4 images × 5 texts" in text
    assert "Chance is 0.14" in text                               # 7 default classes
    assert "Best patch" in text
    assert "Inside the box that holds the cat (25% of the image) falls" in text    # the one comparison,
    assert "attention and 8" in text                                               # DINOv2 at 80-89%
    assert len(at.get("plotly_chart")) == 5
    assert any("synthetic coloured shapes" in i.value for i in at.info)


def test_clip_page_controls_through_the_url():
    at = run_page(CLIP, {"images": "synthetic scene 2|astronaut", "texts": "a red circle\na blue square",
                         "zs_image": "astronaut", "classes": "red circle, blue square", "temp": "0.5",
                         "templates": "a photo of a {}", "patch_text": "a blue square",
                         "cmp_image": "coffee"})
    assert problems(at) == []
    text = _captions(at)
    assert "2 images × 2 texts" in text and "softmax of" in text and "/ 0.5" in text
    assert "On coffee the top 10% of patches hold" in text          # the comparison on a photo of one's choice
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text") for c in at.get("plotly_chart")]
    assert "“a blue square” vs each patch" in titles


@pytest.mark.parametrize("params,message", [
    ({"texts": ""}, "text list is empty"),
    ({"classes": " , "}, "text list is empty"),
    ({"templates": ""}, "at least one prompt template"),
    ({"texts": "a " + "very " * 40 + "long caption"}, "Shorten it"),
])
def test_clip_page_bad_inputs_are_explained(params, message):
    at = run_page(CLIP, params)
    assert problems(at) == []
    assert any(message in w.value for w in at.warning), [w.value for w in at.warning]


def test_clip_page_live_training_is_refused_when_hosted(monkeypatch):
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    at = run_page(CLIP)
    assert problems(at) == []
    assert any("off in the hosted demo" in i.value for i in at.info)
    assert not [b for b in at.button if "Train it live" in str(b.label)]


def test_vit_page_in_chromium_on_a_photo_and_an_upload():
    """Chromium: the default page (DINOv2 on chelsea) draws, then a real photo uploaded as JPEG runs
    through the same sections, with no traceback and no request leaving the machine."""
    import io

    from core.vision import vit as vision
    from tests.browser_util import browser, offline_guard, page_text_problems, screenshot, serve_app, wait_for_page
    buf = io.BytesIO()
    vision.sample_image("coffee").save(buf, format="JPEG", quality=90)
    with serve_app() as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        outside = offline_guard(page)
        page.goto(f"{url}/vit", wait_until="domcontentloaded")
        wait_for_page(page)
        assert "16×16 grid = 256 patches" in page.inner_text("body")
        screenshot(page, "vit-dinov2-chelsea")
        page.goto(f"{url}/vit?image=upload%E2%80%A6&res=308", wait_until="domcontentloaded")
        wait_for_page(page, need_content=False)
        box = page.locator('input[type="file"]').first
        box.wait_for(state="attached", timeout=60_000)
        box.set_input_files(files=[{"name": "my-coffee.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}])
        page.wait_for_function("() => document.body.innerText.includes('22×22 grid = 484 patches')", timeout=180_000)
        wait_for_page(page)
        screenshot(page, "vit-dinov2-upload")
        assert page_text_problems(page) == [] and outside == []
        assert page.locator('[data-testid="stPlotlyChart"]').count() >= 10
        page.close()
