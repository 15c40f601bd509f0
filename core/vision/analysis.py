"""One call for every Vision Transformer the Atlas runs: ``analyse_image(image, model, resolution)``.

Models (``MODELS``, by registry name):
- ``dinov2-vits14``, the default: DINOv2 ViT-S/14 (``core.vision.dinov2``), offline, through its adapter.
  It takes a resolution from 224 px (16 x 16 patches) to 518 px (37 x 37, the grid its positions were
  learned on), snapped to a multiple of 14 with a note; positions are interpolated as DINOv2 does.
- the tiny CLIP trained here and ViT-B-32 laion2b (``core.vision.clip``), whose image towers read
  their own fixed size (64 and 224 px); ViT-B-32 needs the network once.

Every model returns the same ``core.vision.vit.ImageAnalysis``: cls_maps (layer, head, grid_h, grid_w),
rollout_maps (layer, grid_h, grid_w) from the one shared rollout, position_sim (patch, patch), count,
the last layer's patch features and the patch-token norms.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from PIL import Image

import core.vision.clip as clip
import core.vision.dinov2 as dinov2
import core.vision.features as features
import core.vision.vit as vision
from core.runtime.errors import InputError

MODELS = (dinov2.NAME, clip.TINY, clip.VIT_B32)
DEFAULT = dinov2.NAME


def spec(name: str):
    """What the UI and README say about a model: name, arch, origin, trained_on."""
    if name == dinov2.NAME:
        return dinov2.SPEC
    if name in clip.REGISTRY:
        return clip.REGISTRY[name]
    raise InputError(f"unknown vision model {name!r}; choose one of {', '.join(MODELS)}")


def fixed_resolution(name: str) -> int | None:
    """The input side a model always reads, or None when the resolution is selectable (DINOv2)."""
    spec(name)
    return {clip.TINY: 64, clip.VIT_B32: 224}.get(name)


def load(name: str):
    """``dinov2.LoadedVit`` or ``clip.LoadedClip``; DINOv2 is cached per process, CLIP is not (the
    pages cache both with ``st.cache_resource``)."""
    spec(name)
    return dinov2.load() if name == dinov2.NAME else clip.load(name)


def _as_image(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return vision.to_rgb(image)
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim in (2, 3):
        return vision.to_rgb(Image.fromarray(image))
    raise InputError("expected a PIL image or a uint8 (height, width[, 3]) array")


def analyse_image(image, model=DEFAULT, resolution: int | None = 224, *,
                  head_fusion: str = "mean") -> vision.ImageAnalysis:
    """Everything the ViT page draws for one image, from one pass through ``model`` (a registry name,
    or what ``load`` returned). ``resolution`` applies to DINOv2; a CLIP tower reads its own size, and
    a different ``resolution`` there only adds a note (None: the model's own size)."""
    img = _as_image(image)
    loaded = load(model) if isinstance(model, str) else model
    if isinstance(loaded, dinov2.LoadedVit):
        return _dinov2(loaded, img, 224 if resolution is None else resolution, head_fusion)
    a = vision.analyse(loaded.model.visual, loaded.transform, img, head_fusion=head_fusion, model=loaded.spec.name)
    size = a.count.image_size
    if resolution is not None and resolution != size:
        a = replace(a, note=f"{loaded.spec.name} reads {size}×{size} images only; the resolution "
                            f"setting ({resolution} px) applies to DINOv2.")
    return a


def _dinov2(lv: dinov2.LoadedVit, img: Image.Image, resolution: int, head_fusion: str) -> vision.ImageAnalysis:
    size, note = dinov2.snap_resolution(resolution)
    x, seen = vision.preprocess(img, dinov2.transform(size))            # (3, S, S), (S, S, 3)
    tr = dinov2.trace(lv, x, head_fusion=head_fusion)
    g, p = tr.grid, lv.patch_size
    n_layers, n_heads = tr.cls_attention.shape[:2]
    patches = vision.patchify(torch.from_numpy(seen).permute(2, 0, 1), p).numpy()
    coords, var = vision.pca_2d(tr.patch_embeddings)
    norms = np.linalg.norm(tr.stream, axis=-1)                           # (pos,)
    return vision.ImageAnalysis(
        seen, patches, vision.patch_count(size, p), coords, var, features.cosine_matrix(tr.positions),
        tr.cls_attention.reshape(n_layers, n_heads, g, g), tr.rollout_cls.reshape(n_layers, g, g),
        tr.normed[0], lv.spec.name, tr.normed[1:], norms[1:].reshape(g, g), float(norms[0]), note)
