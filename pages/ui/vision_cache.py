"""The caches the ViT patches and CLIP pages share: one cached vision model per process, decoded
images, the one ``core.vision.analyse_image`` call per (model, image, fusion, resolution), and the
figures built from it (read-only once built, so a warm rerun only re-sends them)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from core.figures import vision as figs
from core.vision import analysis
from core.vision import features
from core.vision import vit as vision

load_model = st.cache_resource(analysis.load, max_entries=3, show_spinner="Loading the model (once per process)…")
get_image = st.cache_data(vision.open_image, max_entries=32, show_spinner=False)


def digest(data: bytes | None) -> str:
    """A short name for an upload's bytes, so caches hash 16 characters, not megabytes, per call."""
    return "" if data is None else hashlib.sha256(data).hexdigest()[:16]


@st.cache_data(max_entries=16, show_spinner="Running the image tower…")
def analyse(model: str, name: str, data_id: str, fusion: str, resolution: int | None,
            _data: bytes | None) -> vision.ImageAnalysis:
    return analysis.analyse_image(get_image(name, _data), load_model(model), resolution, head_fusion=fusion)


@st.cache_data(max_entries=32, show_spinner=False)
def feature_pca(key: tuple, threshold: float, _data: bytes | None) -> features.FeaturePCA:
    a = analyse(*key, _data)
    return features.feature_pca(a.patch_features, a.count.grid, threshold)


BUILDERS = {
    "grid": lambda a, v: figs.image_with_grid(a.pixels, a.count.patch_size),
    "strip": lambda a, v: figs.patch_strip(a.patches, a.count.patch_size),
    "pca": lambda a, v, thumbs: figs.patch_scatter(a.patch_pca, a.patches, a.count.patch_size, a.count.grid,
                                                   explained=a.patch_pca_var, thumbnails=thumbs),
    "pos": lambda a, v: figs.position_mosaic(a.position_sim, a.count.grid),
    "rgb": lambda a, v, thr: figs.pca_rgb(a.pixels, v.pca(thr).rgb, v.pca(thr).foreground,
                                          title=f"Patch features as colour (background: first component ≤ {thr:g})"),
    "cls": lambda a, v, layer, head: figs.overlay(a.pixels, a.cls_maps[layer, head],
                                                  title=f"CLS → patches, layer {layer} head {head}"),
    "heads": lambda a, v: figs.head_grid(a.cls_maps, title="Every layer (rows) and head (columns)"),
    "roll": lambda a, v, upto: figs.overlay(a.pixels, a.rollout_maps[upto],
                                            title=f"Rollout through layers 0–{upto} ({v.key[3]} of heads)"),
    "norms": lambda a, v: figs.norm_map(a.pixels, a.token_norms, features.high_norm_tokens(a.token_norms)[0],
                                        title="Norm of each patch token leaving the last block (circled: high)"),
    "norm_hist": lambda a, v: figs.norm_histogram(a.token_norms, features.high_norm_tokens(a.token_norms)[1],
                                                  title="Patch-token norms"),
}


@st.cache_resource(max_entries=96, show_spinner=False)
def figure(kind: str, key: tuple, args: tuple, _data: bytes | None):
    """Figures are shared read-only (never mutated after this), so a warm rerun only re-sends them."""
    view = View(analyse(*key, _data), key, _data)
    return BUILDERS[kind](view.a, view, *args)


@dataclass(frozen=True)
class View:
    """One analysis and what identifies it: key = (model, image name, upload digest, fusion, resolution)."""
    a: vision.ImageAnalysis
    key: tuple
    data: bytes | None

    def fig(self, kind: str, *args):
        return figure(kind, self.key, args, self.data)

    def pca(self, threshold: float) -> features.FeaturePCA:
        return feature_pca(self.key, threshold, self.data)
