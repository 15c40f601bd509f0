"""AppTest of the ViT patches and CLIP pages: main controls through the URL, and bad inputs."""
import json

import pytest

from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

VIT, CLIP = by_url("vit"), by_url("clip")


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_vit_page_default_synthetic_scene():
    at = run_page(VIT)
    assert problems(at) == []
    text = _captions(at)
    assert "64×64" in text and "8×8 grid = 64 patches + CLS = 65 tokens" in text
    assert len(at.get("plotly_chart")) >= 7
    assert any("196" in c.value for c in at.caption)              # the 224/16 patch-count line


def test_vit_page_photo_with_layer_head_and_rollout_controls():
    at = run_page(VIT, {"image": "chelsea (cat)", "layer": "0", "head": "1", "upto": "2", "fusion": "max",
                        "thumbs": "0"})
    assert problems(at) == []
    assert any("not meaningful" in w.value for w in at.warning)    # honest about photos
    assert "Layer 0 head 1" in _captions(at)
    assert "layers 0–2" in _captions(at)


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
    assert len(at.get("plotly_chart")) == 4
    assert any("synthetic coloured shapes" in i.value for i in at.info)


def test_clip_page_controls_through_the_url():
    at = run_page(CLIP, {"images": "synthetic scene 2|astronaut", "texts": "a red circle\na blue square",
                         "zs_image": "astronaut", "classes": "red circle, blue square", "temp": "0.5",
                         "templates": "a photo of a {}", "patch_text": "a blue square"})
    assert problems(at) == []
    text = _captions(at)
    assert "2 images × 2 texts" in text and "softmax of" in text and "/ 0.5" in text
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert spec["layout"]["title"]["text"] == "“a blue square” vs each patch"


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
