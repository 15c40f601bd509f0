"""The pretrained ViT-B-32 laion2b path, exercised offline from a local Hugging Face cache folder:
the same open_clip + hf_hub_download code that fetches the weights online, with the network
replaced by a warm cache holding a randomly initialised ViT-B-32 (fp16, written here)."""
import numpy as np
import pytest
import torch
from PIL import Image

from core.vision import clip

REPO = "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
REV = "0" * 40


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    import open_clip
    from safetensors.torch import save_file
    torch.manual_seed(0)
    state = {k: v.half().contiguous() for k, v in open_clip.create_model("ViT-B-32").state_dict().items()}
    root = tmp_path_factory.mktemp("hf-cache")
    snap = root / REPO / "snapshots" / REV
    snap.mkdir(parents=True)
    (root / REPO / "refs").mkdir()
    (root / REPO / "refs" / "main").write_text(REV)
    save_file(state, str(snap / "open_clip_model.safetensors"))
    return root, state


def test_vit_b32_loads_from_a_warm_cache_offline(warm_cache, monkeypatch):
    import huggingface_hub.constants as hub
    root, state = warm_cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not clip.pretrained_cached()                   # the real cache has no ViT-B-32 here
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(root))
    assert clip.pretrained_cached() and clip.default_model() == clip.VIT_B32
    loaded = clip.load(clip.VIT_B32)
    w = loaded.model.visual.conv1.weight                  # (768, 3, 32, 32): our random file, not laion's
    assert torch.equal(w.detach().cpu().half(), state["visual.conv1.weight"])
    assert loaded.context_length == 77 and not any(p.requires_grad for p in loaded.model.parameters())
    img = Image.fromarray(np.full((300, 200, 3), 128, np.uint8))
    sims = clip.similarity([img, img], ["a cat", "a dog", "a car"], model=loaded)
    assert sims.shape == (2, 3) and np.isfinite(sims).all() and np.abs(sims).max() <= 1 + 1e-5
    assert np.allclose(sims[0], sims[1], atol=1e-5)        # the same image embeds the same way


@pytest.mark.parametrize("page", ["vit", "clip"])
def test_pages_run_on_vit_b32(warm_cache, monkeypatch, page):
    """Both vision pages on the 224-pixel, 32-pixel-patch model: 7 x 7 = 49 patches + CLS."""
    import huggingface_hub.constants as hub
    import streamlit as st

    from pages.ui.nav import by_url
    from tests.apptest_util import problems, run_page
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(warm_cache[0]))
    try:
        at = run_page(by_url(page), {"model": clip.VIT_B32})
        assert problems(at) == []
        text = " ".join(e.value for e in [*at.caption, *at.markdown])
        assert "ViT-B-32" in text and "laion2b" in text.lower()           # the page names the model
        if page == "vit":
            assert "49 patches" in text, text[:2000]
        assert len(at.get("plotly_chart")) >= 3
    finally:
        st.cache_resource.clear()          # later tests expect ViT-B-32 to be unavailable offline
        st.cache_data.clear()
