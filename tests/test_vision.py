"""core.vision.vit: patchify round trip, patch counts, attention recomputation, rollout, image loading caps."""
import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from core.runtime import limits
from core.vision import synthetic_shapes
from core.vision import tiny_clip
from core.vision import vit as vision
from core.runtime.errors import InputError


def _png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def _bomb_png(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header is rewritten to declare width x height (CRC fixed)."""
    data = bytearray(_png(Image.new("L", (1, 1))))
    ihdr = data[12:29]                                            # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def test_patchify_reconstructs_image_and_orders_patches_row_major():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    p = vision.patchify(img, 16)
    assert p.shape == (3 * 4, 16 * 16 * 3)
    # patch 5 = row 1, column 1; its first pixel is image[16, 16]
    assert torch.equal(p[5, :3], torch.tensor(img[16, 16], dtype=torch.float32))
    back = vision.unpatchify(p, 16, (3, 4))
    assert torch.equal(back.permute(1, 2, 0), torch.from_numpy(img).float())


def test_patchify_refuses_non_multiple():
    with pytest.raises(InputError, match="multiple"):
        vision.patchify(np.zeros((50, 64, 3), np.uint8), 16)


@pytest.mark.parametrize("size,patch,n", [(224, 16, 196), (224, 32, 49), (224, 14, 256), (336, 14, 576), (64, 8, 64)])
def test_patch_counts(size, patch, n):
    c = vision.patch_count(size, patch)
    assert c.n_patches == n and c.seq_len == n + 1 and c.grid ** 2 == n


def test_patch_embedding_is_a_linear_map_of_patchify():
    """conv1 (stride = kernel = p) equals a linear layer applied to patchify's rows."""
    torch.manual_seed(0)
    model = tiny_clip.build_model(tiny_clip.PRESETS["test"]).eval()
    x = torch.randn(3, 64, 64)
    conv = model.visual.conv1(x[None]).flatten(2)[0].T            # (n, width)
    w = model.visual.conv1.weight                                  # (width, 3, p, p)
    lin = vision.patchify(x, 8) @ w.permute(0, 2, 3, 1).reshape(len(w), -1).T
    assert torch.allclose(conv, lin, atol=1e-5)


def test_trace_matches_fused_model_and_attention_is_a_distribution():
    torch.manual_seed(0)
    model = tiny_clip.build_model(tiny_clip.PRESETS["test"]).eval()
    x = torch.randn(3, 64, 64)
    tr = vision.trace(model.visual, x)
    with torch.no_grad():
        ref = model.encode_image(x[None])[0].numpy()
    assert np.allclose(tr.pooled, ref, atol=1e-5)                  # block-by-block == fused forward
    assert tr.attentions.shape == (1, 1, 65, 65)
    assert np.allclose(tr.attentions.sum(-1), 1, atol=1e-5)
    # the recomputed weights equal what nn.MultiheadAttention returns when asked for them
    block = model.visual.transformer.resblocks[0]
    t = vision.embed(model.visual, x[None])
    with torch.no_grad():
        h = block.ln_1(t)
        _, w = block.attn(h, h, h, need_weights=True, average_attn_weights=False)
    assert np.allclose(tr.attentions[0], w[0].numpy(), atol=1e-5)


def test_rollout_rows_sum_to_one_and_identity_attention_is_identity():
    n = 5
    eye = np.broadcast_to(np.eye(n), (3, 2, n, n)).copy()
    r = vision.rollout(eye)
    assert r.shape == (3, n, n) and np.allclose(r[-1], np.eye(n))
    a = np.random.default_rng(0).random((3, 2, n, n))
    a /= a.sum(-1, keepdims=True)
    assert np.allclose(vision.rollout(a, head_fusion="max").sum(-1), 1)


def test_load_image_converts_alpha_and_greyscale():
    rgba = Image.new("RGBA", (10, 8), (255, 0, 0, 0))
    out = vision.load_image(_png(rgba))
    assert out.mode == "RGB" and out.size == (10, 8)
    assert out.getpixel((0, 0)) == (255, 255, 255)                 # transparent -> white
    grey = vision.load_image(_png(Image.new("L", (4, 4), 100)))
    assert grey.mode == "RGB" and grey.getpixel((1, 1)) == (100, 100, 100)
    i16 = vision.load_image(_png(Image.fromarray(np.arange(16, dtype=np.uint16).reshape(4, 4) * 1000)))
    assert i16.mode == "RGB" and i16.getpixel((3, 3))[0] == 255


def test_load_image_refuses_bad_inputs(monkeypatch):
    with pytest.raises(InputError, match="not an image"):
        vision.load_image(b"%PDF-1.4 definitely not an image")
    with pytest.raises(InputError, match="empty"):
        vision.load_image(b"")
    good = _png(Image.new("RGB", (64, 64), (1, 2, 3)), "JPEG")
    with pytest.raises(InputError, match="truncated"):
        vision.load_image(good[: len(good) // 2])
    # decompression bombs: tiny files whose headers declare 10k x 10k and 20k x 20k pixels
    for side in (10_000, 20_000):
        with pytest.raises(InputError, match="pixels"):
            vision.load_image(_bomb_png(side, side))
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    with pytest.raises(InputError, match="upload cap is 5 MB in hosted mode"):
        vision.load_image(b"\0" * (limits.HOSTED.max_upload_bytes + 1))


def test_sample_images_load_offline():
    for name in vision.sample_names():
        img = vision.sample_image(name)
        assert img.mode == "RGB" and min(img.size) >= 64


def test_preprocess_is_the_models_transform():
    cfg = tiny_clip.PRESETS["test"]
    img = vision.sample_image("astronaut")                          # 512 x 512 -> 64 x 64
    x, seen = vision.preprocess(img, tiny_clip.preprocess(cfg))
    assert x.shape == (3, 64, 64) and seen.shape == (64, 64, 3)
    assert 0 <= seen.min() and seen.max() <= 1
    scene, _ = synthetic_shapes.sample_scene_image(1)
    _, seen = vision.preprocess(scene, tiny_clip.preprocess(cfg))
    assert np.abs(seen * 255 - np.asarray(scene)).max() < 1.5      # already 64 px: untouched


def test_position_similarity_and_pca():
    model = tiny_clip.build_model(tiny_clip.PRESETS["test"])
    s = vision.position_similarity(model.visual)
    assert s.shape == (64, 64) and np.allclose(np.diag(s), 1, atol=1e-5)
    coords, var = vision.pca_2d(np.random.default_rng(0).normal(size=(20, 8)))
    assert coords.shape == (20, 2) and var[0] >= var[1]


# --- the same call for every model, and the feature maths -------------------------------------------

def test_analyse_image_is_one_call_for_the_clip_towers():
    from core.vision import analyse_image, clip
    tiny = analyse_image(vision.sample_image("synthetic scene 2"), clip.TINY, None)
    assert tiny.model == clip.TINY and tiny.note == "" and tiny.cls_maps.shape[2:] == (8, 8)
    assert tiny.patch_features.shape[0] == 64 and tiny.token_norms.shape == (8, 8)
    assert "reads 64×64 images only" in analyse_image(vision.sample_image("coffee"), clip.TINY, 224).note


def test_analyse_image_on_vit_b32_architecture():
    """ViT-B-32's architecture with random weights (offline): 7 x 7 = 49 patches through the same call."""
    import open_clip

    from core.vision import analyse_image, clip
    torch.manual_seed(0)
    m, _, tf = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    m.eval().requires_grad_(False)
    tok = open_clip.get_tokenizer("ViT-B-32")
    loaded = clip.LoadedClip(clip.REGISTRY[clip.VIT_B32], m, tf, tok, tok.context_length)
    a = analyse_image(np.asarray(vision.sample_image("rocket")), loaded, None)
    assert a.count.n_patches == 49 and a.cls_maps.shape == (12, 12, 7, 7) and a.position_sim.shape == (49, 49)
    assert a.rollout_maps.shape == (12, 7, 7) and a.patch_features.shape == (49, 768)


def test_analyse_image_refuses_unknown_models_and_inputs():
    from core.vision import analyse_image
    with pytest.raises(InputError, match="unknown vision model"):
        analyse_image(vision.sample_image("coffee"), "resnet-50")
    with pytest.raises(InputError, match="PIL image"):
        analyse_image("coffee.png")


def test_feature_pca_separates_a_block_and_orients_the_border_low():
    from core.vision import features
    rng = np.random.default_rng(0)
    g = 10
    inside = np.zeros((g, g), bool)
    inside[3:7, 2:8] = True
    f = rng.normal(0, 0.1, (g * g, 16))
    f[inside.ravel(), 0] += 5.0                                   # one direction separates the block
    f[inside.ravel(), 1] += np.linspace(-1, 1, inside.sum())        # structure inside it, for the colours
    fp = features.feature_pca(f, g, 0.5)
    assert np.array_equal(fp.foreground, inside)
    assert fp.pc1.min() == 0 and fp.pc1.max() == 1 and fp.pc1_var > 0.5
    assert fp.rgb[~inside].max() == 0 and fp.rgb.shape == (g, g, 3) and fp.rgb.max() <= 1
    flipped = features.feature_pca(-f, g, 0.5)                     # the sign of a component is arbitrary
    assert np.array_equal(flipped.foreground, inside)
    with pytest.raises(InputError):
        features.feature_pca(f, g, 1.5)


def test_high_norm_rule_and_position_structure():
    from core.vision import features
    norms = np.full((6, 6), 10.0) + np.random.default_rng(0).normal(0, 0.2, (6, 6))
    norms[0, 5] = norms[4, 1] = 30.0
    marked, cut = features.high_norm_tokens(norms)
    assert marked.sum() == 2 and marked[0, 5] and marked[4, 1] and 10 < cut < 30
    assert not features.high_norm_tokens(np.full((4, 4), 3.0))[0].any()       # no spread: nothing stands out
    g = 6                                                          # positions that are a smooth function of (row, col)
    r, c = np.divmod(np.arange(g * g), g)
    pos = np.stack([np.cos(r), np.sin(r), np.cos(c), np.sin(c)], 1)
    near, far = features.position_structure(features.cosine_matrix(pos), g)
    assert near > 0.7 and far < near - 0.5


def test_vision_figure_builders():
    from core.figures import vision as figs
    pix = np.random.default_rng(0).random((56, 56, 3))
    rgb = np.random.default_rng(1).random((4, 4, 3))
    fg = np.eye(4, dtype=bool)
    fig = figs.pca_rgb(pix, rgb, fg, title="t")
    assert [t.type for t in fig.data] == ["image", "image", "heatmap"] and fig.data[1].z.shape == (56, 56, 3)
    norms = np.arange(16.0).reshape(4, 4)
    marked = norms > 13
    fig = figs.norm_map(pix, norms, marked)
    assert list(fig.data[-1].x) == [2.5 * 14 - 0.5, 3.5 * 14 - 0.5] and len(fig.data[-1].y) == 2     # patch centres
    fig = figs.norm_histogram(norms, 13.5)
    assert fig.data[0].type == "histogram" and fig.layout.shapes[0].x0 == 13.5
    fig = figs.overlay_pair([(pix, norms, "a"), (pix, norms.T, "b")])
    assert [t.type for t in fig.data] == ["image", "heatmap", "image", "heatmap"]
    assert [a.text for a in fig.layout.annotations] == ["a", "b"]
    sim = np.eye(37 * 37)
    fig = figs.position_mosaic(sim, 37)                             # 37 x 37: only 8 x 8 tiles drawn
    assert fig.data[0].z.shape == (8 * 38 - 1, 8 * 38 - 1) and "0, 5, 10" in fig.layout.title.text
    assert figs.position_mosaic(np.eye(64), 8).data[0].z.shape == (8 * 9 - 1, 8 * 9 - 1)
