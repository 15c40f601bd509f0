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
