"""core.clip and the tiny CLIP trained here: held-out accuracy vs chance, similarity invariants, refusals."""
import numpy as np
import pytest

from core import clip, synthetic_shapes, tiny_clip, vision
from core.errors import InputError, ModelUnavailable


@pytest.fixture(scope="module")
def tiny():
    return clip.load(clip.TINY)


def test_tiny_clip_ranks_the_right_caption_first_on_heldout_images(tiny):
    """200 held-out images vs their own 200 captions (chance 0.5%), and 36-way zero-shot (chance 2.8%).

    The model card reports the same evaluation at n=500 (assets/tiny_clip/MODEL_CARD.md).
    """
    ev = tiny_clip.evaluate(tiny.model, tiny_clip.load(clip.ASSETS / "tiny_clip")[1], n=200, seed=777)
    # measured at n=200, seed 777: see the printed figures; the card has n=500 (retrieval 20.6%, chance 0.2%)
    print(ev)
    assert ev["retrieval_i2t_top1"] >= 0.12 > 20 * ev["retrieval_chance"]
    assert ev["zero_shot_top1"] >= 0.1 > 3 * ev["zero_shot_chance"]
    assert ev["zero_shot_colour"] >= 0.9                            # colour is learned; shape is not (card)


def test_tiny_clip_prefers_the_true_caption_of_the_bundled_scenes(tiny):
    names = [n for n in vision.sample_names() if n.startswith("synthetic")]
    caps = [vision.sample_caption(n) for n in names]
    sim = clip.similarity([vision.sample_image(n) for n in names], caps, model=tiny)
    assert sim.shape == (len(names), len(names))
    assert (sim.argmax(1) == np.arange(len(names))).mean() >= 0.5


def test_similarity_is_cosine_and_symmetric_in_its_normalisation(tiny):
    imgs = [vision.sample_image("synthetic scene 2"), vision.sample_image("coffee")]
    texts = ["a red circle", "a blue square", "a cup of coffee"]
    sim = clip.similarity(imgs, texts, model=tiny)
    assert sim.shape == (2, 3) and np.all(np.abs(sim) <= 1 + 1e-6)
    ie, te = clip.embed_images(imgs, tiny), clip.embed_texts(texts, tiny)
    assert np.allclose(np.linalg.norm(ie, axis=1), 1, atol=1e-5)
    assert np.allclose(clip.cosine(te, ie), sim.T, atol=1e-6)      # texts x images == transpose
    assert np.allclose(clip.cosine(3 * ie, 0.1 * te), sim, atol=1e-6)   # scale-free


def test_refusals(tiny):
    img = [vision.sample_image("synthetic scene 1")]
    with pytest.raises(InputError, match="empty"):
        clip.similarity(img, [], model=tiny)
    with pytest.raises(InputError, match="blank"):
        clip.similarity(img, ["a red circle", "  "], model=tiny)
    with pytest.raises(InputError, match="tokens"):
        clip.similarity(img, ["a " + "very " * 40 + "red circle"], model=tiny)
    with pytest.raises(InputError, match="No images"):
        clip.similarity([], ["a red circle"], model=tiny)
    with pytest.raises(InputError, match="template"):
        clip.zero_shot(np.ones(64), ["red circle"], [], tiny)


def test_zero_shot_softmax_and_temperature(tiny):
    emb = clip.embed_images([vision.sample_image("synthetic scene 2")], tiny)[0]   # a red circle
    classes = synthetic_shapes.class_names()
    cold = clip.zero_shot(emb, classes, ["a {}", "a picture of a {}"], tiny, temperature=0.5)
    hot = clip.zero_shot(emb, classes, ["a {}", "a picture of a {}"], tiny, temperature=4.0)
    assert np.isclose(cold.probs.sum(), 1) and np.isclose(hot.probs.sum(), 1)
    assert np.allclose(cold.logits, cold.logit_scale * cold.cosine / 0.5)
    assert cold.probs.max() > hot.probs.max()                      # temperature flattens
    assert cold.classes[int(cold.probs.argmax())].startswith("red")   # colour right; shape is at chance


def test_joint_map_and_text_patch_heatmap(tiny):
    ie = clip.embed_images([vision.sample_image("synthetic scene 2")], tiny)
    te = clip.embed_texts(["a red circle", "a blue star"], tiny)
    coords, var = clip.joint_map(ie, te)
    assert coords.shape == (3, 2) and 0 < var.sum() <= 1 + 1e-9
    raw, rel = clip.text_patch_similarity(vision.sample_image("synthetic scene 2"), "a red circle", tiny,
                                          ["a blue star", "a green square"])
    assert raw.shape == rel.shape == (8, 8) and np.all(np.abs(raw) <= 1 + 1e-6)
    assert not np.allclose(raw, rel)


def test_pretrained_model_offline_gives_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if clip.pretrained_cached():
        pytest.skip("ViT-B-32 weights are cached here")
    with pytest.raises(ModelUnavailable, match="offline"):
        clip.load(clip.VIT_B32)
    assert clip.default_model() == clip.TINY


def test_live_training_calls_back_with_the_probe_matrix():
    seen = []
    res = tiny_clip.train(tiny_clip.PRESETS["test"], callback=lambda row, sim: seen.append((row, sim)),
                          device=None)
    assert [r["step"] for r, _ in seen] == [2, 4]
    assert seen[-1][1].shape == (8, 8) and res.history[-1]["step"] == 4
    stopped = tiny_clip.train(tiny_clip.PRESETS["test"], should_stop=lambda: True)
    assert stopped.history[-1]["step"] == 1
