"""Vision Transformer internals: patches, position embeddings, attention and rollout.

Follows ViT (Dosovitskiy et al. 2020, "An Image is Worth 16x16 Words") for patchify and the
token sequence (CLS + patches + learned positions), and attention rollout (Abnar & Zuidema
2020, "Quantifying Attention Flow in Transformers"). The forward pass here works on any open_clip
``VisionTransformer`` (the tiny CLIP trained here, ViT-B-32 ...); DINOv2 runs through its adapter in
``core.vision.dinov2``, and both end in the same ``ImageAnalysis`` (``core.vision.analyse_image``).
The feature maths (PCA of patch features as RGB, high-norm tokens) are in ``core.vision.features``.

Attention is never read from the model's fused kernel (open_clip calls
``nn.MultiheadAttention(need_weights=False)``, which hides the weights - the reason
vit-explain breaks). ``trace`` runs the blocks one by one and recomputes each block's softmax
from the block's own input with the block's own weights, so nothing on the shared model is
mutated or hooked.

Shape vocabulary: image (channel, height, width); patches (patch, p*p*channel);
tokens (batch, pos, d_model) with pos 0 = CLS; attention (layer, head, q_pos, k_pos);
maps over the image (grid_h, grid_w), square here (grid, grid).
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from core.runtime import limits
import core.vision.features as features
from core.attention.rollout import rollout as shared_rollout
from core.runtime.errors import InputError, ModelUnavailable

# (image_size, patch_size) of well-known ViTs; sequence length = (size/patch)^2 + 1 (CLS)
STANDARD_CONFIGS = {
    "tiny CLIP (here)": (64, 8), "ViT-B/32": (224, 32), "ViT-B/16": (224, 16),
    "ViT-L/14": (224, 14), "ViT-L/14@336": (336, 14), "ViT-H/14": (224, 14),
}


# --- patches ----------------------------------------------------------------------------

def _as_chw(image) -> torch.Tensor:
    """PIL / numpy (H, W, C) / torch (C, H, W) -> float tensor (channel, height, width)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"expected an (height, width, 3) image array, got shape {image.shape}")
        return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float()
    if isinstance(image, torch.Tensor) and image.ndim == 3 and image.shape[0] == 3:
        return image.float()
    raise InputError("expected a PIL image, an (H, W, 3) array or a (3, H, W) tensor")


def patchify(image, patch_size: int) -> torch.Tensor:
    """Cut an image into non-overlapping patches, row by row: (n_patches, p*p*3).

    Each row is one patch flattened as (p_row, p_col, channel), the ViT paper's
    ``(h p1) (w p2) c -> (h w) (p1 p2 c)``. Height and width must be multiples of ``patch_size``.
    """
    x = _as_chw(image)                                             # (C, H, W)
    c, h, w = x.shape
    if patch_size < 1 or h % patch_size or w % patch_size:
        raise InputError(f"image {h}x{w} is not a multiple of the patch size {patch_size}")
    gh, gw = h // patch_size, w // patch_size
    x = x.reshape(c, gh, patch_size, gw, patch_size)               # (C, gh, p, gw, p)
    return x.permute(1, 3, 2, 4, 0).reshape(gh * gw, patch_size * patch_size * c)


def unpatchify(patches: torch.Tensor, patch_size: int, grid: tuple[int, int]) -> torch.Tensor:
    """Inverse of ``patchify``: (n_patches, p*p*3) -> image (3, H, W)."""
    gh, gw = grid
    x = patches.reshape(gh, gw, patch_size, patch_size, 3)         # (gh, gw, p, p, C)
    return x.permute(4, 0, 2, 1, 3).reshape(3, gh * patch_size, gw * patch_size)


@dataclass(frozen=True)
class PatchCount:
    image_size: int
    patch_size: int
    grid: int          # patches per side
    n_patches: int
    seq_len: int       # n_patches + 1 (CLS)


def patch_count(image_size: int, patch_size: int) -> PatchCount:
    """224/16 -> 14x14 = 196 patches + CLS = 197 tokens."""
    if patch_size < 1 or image_size % patch_size:
        raise InputError(f"image size {image_size} is not a multiple of patch size {patch_size}")
    g = image_size // patch_size
    return PatchCount(image_size, patch_size, g, g * g, g * g + 1)


# --- image input ------------------------------------------------------------------------

def load_image(data: bytes, *, name: str = "upload") -> Image.Image:
    """Decode untrusted bytes into an RGB image, refusing what could hurt the server.

    Caps (core.runtime.limits.current()): the byte size, then the pixel count read from the header
    *before* decoding (decompression bombs). Truncated or non-image files raise InputError.
    Alpha is composited on white; greyscale, palette, CMYK and 16-bit become 8-bit RGB.
    """
    lim = limits.current()
    if len(data) > lim.max_upload_bytes:
        raise InputError(f"{name} is {len(data) / 2**20:.1f} MB; the upload cap is "
                         f"{lim.max_upload_bytes / 2**20:.0f} MB{' in hosted mode' if limits.hosted() else ''}.")
    if not data:
        raise InputError(f"{name} is empty.")
    try:
        with warnings.catch_warnings():      # our own pixel cap below is stricter than PIL's warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, Image.DecompressionBombError):
            raise InputError(f"{name} declares an enormous image; the cap is "
                             f"{lim.max_image_pixels:,} pixels.") from None
        if isinstance(exc, UnidentifiedImageError):
            raise InputError(f"{name} is not an image PIL can read (try PNG or JPEG).") from None
        raise InputError(f"{name} could not be read ({exc}); the file may be truncated or corrupt.") from None
    w, h = img.size
    if w * h > lim.max_image_pixels:
        raise InputError(f"{name} is {w}x{h} = {w * h:,} pixels; the cap is {lim.max_image_pixels:,} "
                         "pixels (a guard against decompression bombs). Downscale it first.")
    try:
        img.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{name} could not be decoded ({exc}); the file may be truncated or corrupt.") from None
    return to_rgb(img)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> 8-bit RGB. Transparent areas become white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = np.zeros_like(a) if hi == lo else (a - lo) / (hi - lo) * 255
        img = Image.fromarray(a.astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    return img.convert("RGB")


PHOTOS = ("astronaut", "chelsea (cat)", "coffee", "rocket", "motorcycle", "camera (cameraman)", "coins",
          "hubble deep field")
N_SCENES = 6
PASTED = "chelsea on grey (box known)"
PASTED_SIDE, PASTED_BOX = 448, (168, 56, 392, 280)   # x0, y0, x1, y1 of the cat: 224 px square, 25% of the area


def sample_names() -> list[str]:
    return [f"synthetic scene {i}" for i in range(1, N_SCENES + 1)] + list(PHOTOS) + [PASTED]


def pasted_cat() -> Image.Image:
    """A crop of scikit-image's chelsea pasted on flat grey at ``PASTED_BOX``: an object whose place is
    known. The box lines up with 14-px patches at 224 px and with the tiny CLIP's 8-px patches at 64."""
    import skimage.data
    canvas = Image.new("RGB", (PASTED_SIDE, PASTED_SIDE), (128, 128, 128))
    x0, y0, x1, y1 = PASTED_BOX
    cat = Image.fromarray(skimage.data.chelsea()).crop((80, 0, 380, 300)).resize((x1 - x0, y1 - y0), Image.BICUBIC)
    canvas.paste(cat, (x0, y0))
    return canvas


def sample_box(name: str) -> tuple[float, float, float, float] | None:
    """Where the object is in a bundled sample, as fractions (x0, y0, x1, y1) of its square side;
    None when unknown. The sample is square, so the model's resize and centre crop keep these."""
    return tuple(v / PASTED_SIDE for v in PASTED_BOX) if name == PASTED else None


def sample_caption(name: str) -> str | None:
    """The true caption of a bundled synthetic scene (None for photos)."""
    if name.startswith("synthetic scene "):
        from core.vision.synthetic_shapes import sample_scene_image
        return sample_scene_image(int(name.rsplit(" ", 1)[1]))[1]
    return None


def sample_image(name: str) -> Image.Image:
    """Bundled images: held-out synthetic scenes, or scikit-image photos (offline)."""
    if name.startswith("synthetic scene ") and name in sample_names():
        from core.vision.synthetic_shapes import sample_scene_image
        return sample_scene_image(int(name.rsplit(" ", 1)[1]))[0]
    if name == PASTED:
        return pasted_cat()
    import skimage.data
    loaders = {"astronaut": skimage.data.astronaut, "chelsea (cat)": skimage.data.chelsea,
               "coffee": skimage.data.coffee, "rocket": skimage.data.rocket,
               "motorcycle": lambda: skimage.data.stereo_motorcycle()[0], "camera (cameraman)": skimage.data.camera,
               "coins": skimage.data.coins, "hubble deep field": skimage.data.hubble_deep_field}
    if name not in loaders:
        raise InputError(f"unknown sample image {name!r}; choose one of {sample_names()}")
    return to_rgb(Image.fromarray(loaders[name]()))


def open_image(name: str, data: bytes | None) -> Image.Image:
    """A bundled sample by name (data None) or an upload's bytes, checked by ``load_image``."""
    return sample_image(name) if data is None else load_image(data, name=name)


# --- the model's own preprocessing ------------------------------------------------------

def preprocess(image: Image.Image, transform) -> tuple[torch.Tensor, np.ndarray]:
    """Apply the model's transform: normalised (3, S, S) input and the (S, S, 3) pixels it saw."""
    x = transform(image)                                           # (C, S, S), normalised
    norm = next(t for t in transform.transforms if type(t).__name__ == "Normalize")
    mean = torch.tensor(norm.mean).view(3, 1, 1)
    std = torch.tensor(norm.std).view(3, 1, 1)
    seen = ((x * std + mean).clamp(0, 1).permute(1, 2, 0).numpy())
    return x, seen


# --- the forward pass, with attention recomputed from each block's input ----------------

def _check_visual(visual) -> None:
    blocks = getattr(getattr(visual, "transformer", None), "resblocks", None)
    if blocks is None or not hasattr(visual, "conv1"):
        raise ModelUnavailable("this image tower is not an open_clip VisionTransformer (e.g. a timm/ResNet tower)")
    for b in blocks:
        if not (hasattr(b, "ln_1") and hasattr(getattr(b, "attn", None), "in_proj_weight")):
            raise ModelUnavailable("this ViT's blocks use a custom attention module; weights cannot be recomputed")


def embed(visual, x: torch.Tensor) -> torch.Tensor:
    """Patch embedding + CLS + learned positions + ln_pre: (batch, 3, S, S) -> (batch, 1+n, width)."""
    p = visual.conv1(x.to(visual.conv1.weight.dtype))             # (batch, width, g, g)
    p = p.flatten(2).transpose(1, 2)                               # (batch, n, width)
    cls = visual.class_embedding.view(1, 1, -1).expand(len(p), 1, -1)
    t = torch.cat([cls.to(p.dtype), p], dim=1) + visual.positional_embedding.to(p.dtype)
    return visual.ln_pre(t)


def block_attention(block, x: torch.Tensor) -> torch.Tensor:
    """Softmax(q k^T / sqrt(d_head)) of one ResidualAttentionBlock from its input x (batch, pos, width).

    Uses the block's own ln_1 and in_proj weights, exactly what its fused kernel computes.
    Returns (batch, head, q_pos, k_pos).
    """
    attn = block.attn
    h = block.ln_1(x)
    q, k, _ = F.linear(h, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    b, t, d = q.shape
    nh = attn.num_heads
    q = q.view(b, t, nh, d // nh).transpose(1, 2)                  # (batch, head, q_pos, d_head)
    k = k.view(b, t, nh, d // nh).transpose(1, 2)                  # (batch, head, k_pos, d_head)
    return torch.softmax(q @ k.transpose(-1, -2) / (d // nh) ** 0.5, dim=-1)


@dataclass(frozen=True)
class VitTrace:
    patch_embeddings: np.ndarray   # (n, width): conv1 output per patch, before positions
    tokens: np.ndarray             # (1+n, width): after the last block (CLS first)
    attentions: np.ndarray         # (layer, head, q_pos, k_pos)
    pooled: np.ndarray             # (embed_dim,): the image embedding the CLIP head outputs
    grid: int
    patch_size: int
    normed: np.ndarray             # (1+n, width): ``tokens`` after ln_post, the final norm


@torch.no_grad()
def trace(visual, x: torch.Tensor) -> VitTrace:
    """One image (3, S, S) through the ViT, block by block, keeping every attention map."""
    _check_visual(visual)
    dev = visual.conv1.weight.device
    x = x.unsqueeze(0).to(dev)
    pe = visual.conv1(x.to(visual.conv1.weight.dtype)).flatten(2).transpose(1, 2)[0]
    t = embed(visual, x)                                           # (1, 1+n, width)
    batch_first = getattr(visual.transformer, "batch_first", True)
    maps = []
    for block in visual.transformer.resblocks:
        maps.append(block_attention(block, t)[0])                  # (head, q_pos, k_pos)
        t = block(t) if batch_first else block(t.transpose(0, 1)).transpose(0, 1)
    out = visual.ln_post(t)
    pooled = out[:, 0] @ visual.proj if visual.proj is not None else out[:, 0]
    g = int(round((t.shape[1] - 1) ** 0.5))
    return VitTrace(pe.float().cpu().numpy(), t[0].float().cpu().numpy(),
                    torch.stack(maps).float().cpu().numpy(), pooled[0].float().cpu().numpy(),
                    g, visual.conv1.kernel_size[0], out[0].float().cpu().numpy())


@torch.no_grad()
def patch_tokens(visual, x: torch.Tensor) -> torch.Tensor:
    """Every output token projected into the joint space: (batch, 1+n, embed_dim), CLS first."""
    _check_visual(visual)
    t = embed(visual, x.to(visual.conv1.weight.device))
    batch_first = getattr(visual.transformer, "batch_first", True)
    for block in visual.transformer.resblocks:
        t = block(t) if batch_first else block(t.transpose(0, 1)).transpose(0, 1)
    out = visual.ln_post(t)
    return out @ visual.proj if visual.proj is not None else out


def cls_attention(attentions: np.ndarray, grid: int) -> np.ndarray:
    """CLS-to-patch attention: (layer, head, grid, grid); the CLS row minus its self-weight."""
    return attentions[:, :, 0, 1:].reshape(attentions.shape[0], attentions.shape[1], grid, grid)


def rollout(attentions: np.ndarray, *, head_fusion: str = "mean", residual: float = 0.5) -> np.ndarray:
    """Attention rollout (``core.attention.rollout``): (layer, pos, pos), the flow from the
    inputs to each layer's output, from ``attentions`` (layer, head, q_pos, k_pos) or any iterable
    of per-layer (head, q_pos, k_pos) maps, first layer first."""
    return shared_rollout(attentions, head_fusion=head_fusion, residual=residual, cumulative=True)


def position_similarity(visual) -> np.ndarray:
    """Cosine similarity between the learned position embeddings of every pair of patches: (n, n)."""
    return features.cosine_matrix(visual.positional_embedding.detach().float().cpu()[1:].numpy())   # CLS dropped


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project rows to 2D by PCA (centred SVD): (coords (rows, 2), explained variance ratio (2,))."""
    return features.pca(x, 2)


@dataclass(frozen=True)
class ImageAnalysis:
    """Everything the ViT page draws for one image, from one pass through the model."""
    pixels: np.ndarray             # (S, S, 3) in [0, 1]: what the model saw after resize/crop
    patches: np.ndarray            # (n, p*p*3) in [0, 1]: patchify(pixels)
    count: PatchCount
    patch_pca: np.ndarray          # (n, 2): PCA of the patch embeddings (the patch projection)
    patch_pca_var: np.ndarray      # (2,): explained variance ratio
    position_sim: np.ndarray       # (patch, patch): cosine of the position embeddings the model added
    cls_maps: np.ndarray           # (layer, head, grid_h, grid_w): CLS -> patch attention
    rollout_maps: np.ndarray       # (layer, grid_h, grid_w): CLS row of the rollout up to each layer
    pooled: np.ndarray             # (embed_dim,): CLIP's image embedding; DINOv2's normed CLS token
    model: str = ""                # the registry name that produced it
    patch_features: np.ndarray | None = None  # (patch, d_model): last-layer patch tokens after the final norm
    token_norms: np.ndarray | None = None     # (grid_h, grid_w): norm of each patch token leaving the last block
    cls_norm: float = float("nan")            # the CLS token's norm there
    note: str = ""                 # e.g. how the requested resolution was snapped


def analyse(visual, transform, image: Image.Image, *, head_fusion: str = "mean", model: str = "") -> ImageAnalysis:
    """An open_clip image tower's ImageAnalysis (``core.vision.analyse_image`` picks this or DINOv2)."""
    x, seen = preprocess(image, transform)
    tr = trace(visual, x)
    p = tr.patch_size
    patches = patchify(torch.from_numpy(seen).permute(2, 0, 1), p).numpy()
    coords, var = pca_2d(tr.patch_embeddings)
    roll = rollout(tr.attentions, head_fusion=head_fusion)[:, 0, 1:]       # (layer, n)
    norms = np.linalg.norm(tr.tokens, axis=-1)                              # (1+n,)
    return ImageAnalysis(seen, patches, patch_count(seen.shape[0], p), coords, var,
                         position_similarity(visual), cls_attention(tr.attentions, tr.grid),
                         roll.reshape(len(roll), tr.grid, tr.grid), tr.pooled, model,
                         tr.normed[1:], norms[1:].reshape(tr.grid, tr.grid), float(norms[0]))
